"""Length estimate against real speech, before and after scripts are read as words (issue 15).

For a few English and Hindi scripts (numbers, dates, money, HTML, emoji, and plain text) prints
the estimate the page showed (``services.credits.estimate_duration_s``) and the length the
offline engine really speaks, first for the typed text (what was sent before normalisation),
then for the text ``services.script_text.normalise`` makes of it (what is sent now).

    python benchmarks/bench_script_estimate.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from providers.local import speech
from services import credits
from services.script_text import normalise

CASES = [
    ("en", "Pay ₹1,500 by 05/03/2025 at 10:30 am. Call +91 98765 43210 or visit "
           "https://talkingphoto.in/offers 🎉"),
    ("en", "Our sale: 50% off till 31/12/2025! Prices from $20.50, or ₹1,50,000 for the set. "
           "Dr. Rao says hi 😀"),
    ("en", "Hello! This is a short test video with no numbers at all, just words."),
    ("en", "<p>Big <b>news</b> 😀🎉🥳! We turn <i>10</i> today 🎂🎈</p>"),
    ("hi", "कीमत ₹1,500 है, 05/03/2025 को सुबह 10:30 बजे आइए। 50% छूट! डॉ. राव 🙏"),
    ("hi", "नमस्ते दोस्तों! आज हम एक नई चीज़ सीखेंगे, ध्यान से सुनिए।"),
]  # fmt: skip


def main() -> None:
    print(
        f"{'lang':4} {'before: estimate':>16} {'spoken':>6} | {'after: estimate':>15} {'spoken':>6}"
    )
    for lang, typed in CASES:
        spoken = normalise(typed, lang)
        before = speech.synthesize(typed, lang).duration_s
        after = speech.synthesize(spoken, lang).duration_s
        print(
            f"{lang:4} {credits.estimate_duration_s(typed, lang):16.1f} {before:6.1f} | "
            f"{credits.estimate_duration_s(spoken, lang):15.1f} {after:6.1f}"
        )


if __name__ == "__main__":
    main()

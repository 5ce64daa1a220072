"""The Indic web fonts shipped with the app: declared, present, licensed, covering every script.

The browser check that a page really draws Tamil, Telugu, Bengali and Devanagari with them is
in tests/test_accessibility.py (it shares that module's server).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import i18n
import ui_theme

ROOT = Path(__file__).resolve().parents[1]
FONTS = ROOT / "static" / "fonts"
# The shipped family that draws each interface language but English.
FAMILY_OF = {
    "hi": "Noto Sans Devanagari",
    "mr": "Noto Sans Devanagari",
    "ta": "Noto Sans Tamil",
    "te": "Noto Sans Telugu",
    "bn": "Noto Sans Bengali",
}


def _config() -> dict:
    with (ROOT / ".streamlit" / "config.toml").open("rb") as fh:
        return tomllib.load(fh)


def _faces() -> list[dict]:
    return list(_config()["theme"]["fontFaces"])


def test_every_face_is_a_shipped_woff2_served_by_streamlit() -> None:
    config = _config()
    assert config["server"]["enableStaticServing"] is True  # ./static -> /app/static/
    declared = set()
    for face in _faces():
        url = face["url"]
        assert url.startswith("app/static/fonts/"), url  # relative: works under any base path
        path = ROOT / "static" / url.removeprefix("app/static/")
        assert path.read_bytes()[:4] == b"wOF2", f"{path} is not a WOFF2 file"
        declared.add(path.name)
    shipped = {p.name for p in FONTS.glob("*.woff2")}
    assert declared == shipped, "every shipped font is declared, every declared one shipped"


def test_each_ui_script_has_a_regular_and_a_bold_face_in_the_font_stacks() -> None:
    theme = _config()["theme"]
    assert set(FAMILY_OF) == set(i18n.UI_LANGUAGES) - {"en"}
    for lang, family in FAMILY_OF.items():
        faces = [f for f in _faces() if f["family"] == family]
        assert {int(f["weight"]) for f in faces} == {400, 700}, lang
        # No unicodeRange: Chromium sometimes kept boxes after a ranged face loaded (README).
        assert not any("unicodeRange" in f for f in faces), lang
        for stack in (theme["font"], theme["headingFont"]):
            assert family in [s.strip() for s in stack.split(",")], (lang, stack)
        assert f'"{family}"' in ui_theme.FONT_STACK  # our own HTML blocks (hero, steps)


def test_the_fonts_carry_their_licence_and_attribution() -> None:
    licence = (FONTS / "OFL.txt").read_text("utf-8")
    assert "SIL Open Font License, Version 1.1" in licence
    readme = (FONTS / "README.md").read_text("utf-8")
    for family in set(FAMILY_OF.values()):
        assert family in readme
        script = family.split()[-1].lower()
        assert re.search(rf"Copyright \d{{4}} The Noto Project Authors.*{script}", licence), family
    assert "@fontsource/noto-sans-tamil" in readme and "5.3.0" in readme

"""The engine overlaps speech synthesis with getting the animator ready (issue 19, item 6).

- A photo without a face is refused before any speech is made (it used to wait for the whole
  voice stage, ~3 s, and left the speech file behind).
- Piper hands over each sentence as it is made, and the sentences add up to exactly the
  speech returned (same samples, same phonemes), so the renderer can start on them early.
- Cancelling while the voice is being synthesised stops the speech thread and leaves no files.
- The head warp's shared fixed-point maps give the same pixels as float maps per remap.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from errors import FaceError, JobCancelled
from providers.base import CancelToken, GenerationRequest, JobContext
from providers.local import LocalProvider, speech
from providers.local.animate import FaceAnimator
from providers.local.face import detect_face
from providers.local.piper_voice import SpeechChunk, merge_phonemes

SCRIPT = "Hello there, welcome. This photo can speak. Thank you for watching, and goodbye."


@pytest.fixture
def no_face_photo(tmp_path: Path) -> Path:
    from skimage import data

    path = tmp_path / "coffee.jpg"
    Image.fromarray(data.coffee()).save(path, "JPEG", quality=90)
    return path


def test_no_face_is_refused_before_any_speech(
    tmp_path: Path, no_face_photo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spoken: list[str] = []
    real = speech.synthesize

    def recording(text: str, *args: object, **kwargs: object) -> speech.Speech:
        spoken.append(text)
        return real(text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(speech, "synthesize", recording)
    work = tmp_path / "job"
    request = GenerationRequest(photo_path=no_face_photo, script=SCRIPT, language="en")
    with pytest.raises(FaceError):
        LocalProvider().generate(request, JobContext(work_dir=work))
    assert spoken == []
    assert not [p for p in work.rglob("*") if p.is_file()]


def test_piper_sentences_add_up_to_the_speech() -> None:
    chunks: list[SpeechChunk] = []
    sp = speech.synthesize(SCRIPT, "en", "piper:en:joe", on_chunk=chunks.append)
    assert len(chunks) >= 3  # one per sentence
    assert np.array_equal(np.concatenate([c.samples for c in chunks]), sp.samples)
    starts = [c.start_s for c in chunks]
    assert starts[0] == 0.0 and starts == sorted(starts)
    aligned = [a for c in chunks for a in c.aligned]
    assert [(p.symbol, p.start_s, p.end_s) for p in sp.phonemes] == list(merge_phonemes(aligned))


def test_cancel_while_speaking_stops_the_thread_and_leaves_nothing(
    tmp_path: Path, astronaut_path: Path
) -> None:
    polls = {"n": 0}

    def cancelled() -> bool:  # fires a few polls in: during synthesis or while waiting on it
        polls["n"] += 1
        return polls["n"] > 4

    work = tmp_path / "job"
    request = GenerationRequest(
        photo_path=astronaut_path, script=SCRIPT * 3, language="en", voice="piper:en:joe"
    )
    with pytest.raises(JobCancelled):
        LocalProvider().generate(request, JobContext(work_dir=work, cancel=CancelToken(cancelled)))
    assert not [t for t in threading.enumerate() if t.name == "tp-speech"]
    assert not [p for p in work.rglob("*") if p.is_file()]


def test_head_warp_fixed_point_maps_give_the_float_maps_pixels(
    astronaut_rgb: np.ndarray,
) -> None:
    anim = FaceAnimator(astronaut_rgb, detect_face(astronaut_rgb))
    anim.prepare(head_moves=True)
    warp = anim._head
    x0, y0, x1, y1 = warp.roi
    rng = np.random.default_rng(3)
    for _ in range(5):
        pose = tuple(float(v) for v in rng.uniform(-0.03, 0.03, 4))
        out = astronaut_rgb.copy()
        np.copyto(warp.src, astronaut_rgb[y0:y1, x0:x1])
        warp.apply(out, *pose)
        # Float maps straight into cv2.remap, as the warp did before it shared fixed maps.
        mx = warp._mx.copy()  # apply leaves this frame's float maps in these buffers
        my = warp._my.copy()
        moved = cv2.remap(warp.src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.remap(warp._alpha, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        weight = alpha * np.float32(1 / 255)
        assert warp._plate is not None
        expect = cv2.blendLinear(moved, warp._plate, weight, np.float32(1.0) - weight)
        assert np.array_equal(out[y0:y1, x0:x1], expect)

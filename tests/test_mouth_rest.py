"""The mouth rests at the start and end of a clip, and a grayscale photo gets a grey mouth."""

from __future__ import annotations

import cv2
import numpy as np

from providers.local.face import detect_face
from providers.local.mouth import MouthRenderer
from providers.local.visemes import mouth_track


def test_frame_zero_is_closed_even_when_the_voice_starts_at_once() -> None:
    rate, fps = 16000, 25.0
    t = np.arange(int(2.0 * rate)) / rate
    loud = 0.5 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
    track = mouth_track(loud.astype(np.float32), rate, [], 50, fps)
    assert track.openness[0] == 0.0 and track.openness[-1] == 0.0
    assert track.openness[1] < track.openness[2:-2].mean()
    assert track.openness[5:-5].min() > 0.1  # loud throughout: open in between


def _renderer(rgb: np.ndarray) -> MouthRenderer:
    lm = detect_face(rgb)
    assert lm.mesh is not None
    return MouthRenderer(rgb, lm.mesh)


def test_grayscale_photo_gets_a_grey_mouth(astronaut_rgb: np.ndarray) -> None:
    gray = cv2.cvtColor(cv2.cvtColor(astronaut_rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    out = _renderer(gray).render(1.0, 1.0).astype(np.int16)
    assert (out.max(axis=2) - out.min(axis=2)).max() <= 2
    colour = _renderer(astronaut_rgb)
    painted = colour.render(1.0, 1.0).astype(np.int16)
    changed = np.abs(painted - colour.patch.astype(np.int16)).sum(axis=2) > 30
    assert changed.any()
    reds = painted[changed]
    assert (reds[:, 0] - reds[:, 2]).mean() > 10  # a colour photo keeps a warm interior

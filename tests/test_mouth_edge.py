"""The opened mouth's inner-lip edge is feathered (issue 19, item 3: "a soft inner-lip edge").

On open frames of the astronaut portrait, the luminance is sampled across the lower inner lip
(the edge between the mouth's interior and the lower lip, which the jaw carries down) at the
face mesh's inner-lip points, along the lip frame's vertical axis: the axis the edge's
feather is laid out on, so a steep side of the opening does not squeeze it. A feathered edge
spreads its change over a few pixels, so no single one-pixel step carries much of it; a hard
mask puts a large part of it into one step. Checked by setting the feather in
``MouthRenderer._compose_interior`` to ~0: the median share over 28 edge points went from
~0.30 to ~0.51 and this test failed. (The share never reaches 1.0 on a hard mask: the photo's
own lip and the interior's shading vary within the span too.)
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from providers.local.animate import FaceAnimator
from providers.local.face import detect_face
from providers.local.mouth_rig import shape_weights

OPEN_STATES = [(1.0, 1.0, 0.0), (0.7, 1.0, 0.0), (1.0, 0.78, 0.0), (1.0, 1.12, 0.0)]
STEP = 0.25  # px between samples along the profile
SPAN = 2.5  # px each side of the steepest step: wider than the feather (~4 px here)


@pytest.fixture(scope="module")
def animator(astronaut_rgb: np.ndarray) -> FaceAnimator:
    return FaceAnimator(astronaut_rgb, detect_face(astronaut_rgb))


def _edge_shares(anim: FaceAnimator, state: tuple[float, float, float]) -> list[float]:
    """For each inner lower-lip point away from the corners: the share of the change across
    the edge that its steepest one-pixel step carries (1.0 = a single step)."""
    frame = anim.frame(state[0], state[1], 0.0, tuck=state[2])
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    rig = anim.mouth.rig
    points = (rig.points + rig.displacement(shape_weights(*state)))[rig.inner_lower]
    down = np.array([-rig.uy, rig.ux])  # the lip frame's v axis: from the interior to the lip
    s = np.arange(-1.0 - SPAN, 2.5 + SPAN + 1e-6, STEP)
    one_px = round(1.0 / STEP)
    half = round(SPAN / STEP)
    shares = []
    for p in points[2:-2]:  # the corners close to a point; they have no edge to measure
        xy = p[None, :] + s[:, None] * down[None, :]
        prof = cv2.remap(
            grey,
            xy[:, 0].astype(np.float32)[None],
            xy[:, 1].astype(np.float32)[None],
            cv2.INTER_LINEAR,
        )[0]
        steps = np.abs(prof[one_px:] - prof[:-one_px])
        # The steepest step at the edge: within -1..+2.5 px of the point (the interior reaches
        # a little onto the lower lip).
        lo, hi = half, len(steps) - half
        i = lo + int(np.argmax(steps[lo:hi]))
        centre = i + one_px // 2
        change = abs(float(prof[centre + half] - prof[centre - half]))
        if change >= 20.0:  # a visible edge here (the lip and the interior differ)
            shares.append(float(steps[i]) / change)
    return shares


def test_the_inner_lip_edge_is_feathered(animator: FaceAnimator) -> None:
    shares = {state: _edge_shares(animator, state) for state in OPEN_STATES}
    for state, found in shares.items():
        assert len(found) >= 4, (state, found)  # visible along most of the lower lip
    pooled = [v for found in shares.values() for v in found]
    # Feathered: ~0.3 (the change spread over ~3 px); hard mask: ~0.5 (checked).
    assert float(np.median(pooled)) < 0.4, {k: [round(v, 2) for v in f] for k, f in shares.items()}

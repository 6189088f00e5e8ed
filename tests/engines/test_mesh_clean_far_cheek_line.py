"""The faint grey line down hair-band-photo's far cheek (issue 9, forty-ninth round):
past Rose Leslie's strands nothing clean is left (both cheeks have hair), so the target's
own skin fills in, and her shade beside the strands with the step to the target's lighter
skin shows as a line at 1x (frames 29 and 39). Pinned as a strict xfail: the fix tried
(r49-A 46fc676: the shade lifted and the clean weight ramped over 8 px beside the hair,
reverted) took the line away at 1x but hair-band-photo's smile agreement fell 151 -> 143 of
160 frames over four job ids and its tone vs neck rose at each (BENCHMARKS.md). The
fifty-first round brought it back with the hair and the lift's reach left out of the
compositor's mean levelling (`tone._level`; r51-A 070d5d2, reverted): this test passed
(2.5 and 2.2), tone vs neck fell at all four ids and smile read 154 -> 159, but the
sharpness mismatch and the seam's colour step rose at all four, and on the swapped video
the lifted strip reads as a light ridge (L 87 against 77-80 further in, the target's
82-84), so a softer grey shade is left at 1x where the lift ends: this measure, taken at
the engine face's step, does not see it."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.faceset import Faceset

SIZE = 512  # the mesh engine's source crop


def _lightness(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[..., 0]


def _dips_at_the_step(composite: np.ndarray, engine_face: np.ndarray,
                      landmarks: np.ndarray) -> np.ndarray:
    """Per row of the far cheek (from the far eye's outer corner down to the jaw angle,
    out to the outline), where the engine's face steps from her warm skin to the target's
    own (the largest drop of b over 4 px, at least 6), the deepest dip of the composite's
    lightness within a window (of a 40th of the crop) of that step below the lighter of its
    two sides."""
    b = cv2.cvtColor(engine_face.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[..., 2]
    lightness = _lightness(composite)
    window = max(4, composite.shape[0] // 40)
    first, last = int(landmarks[263, 0]), int(max(landmarks[454, 0], landmarks[361, 0]))
    dips = []
    for row in range(int(landmarks[263, 1]), int(landmarks[397, 1])):
        drop = b[row, first:last - 4] - b[row, first + 4:last]
        if drop.size == 0 or drop.max() < 6.0:
            continue
        step = int(np.argmax(drop)) + 2 + first
        line = lightness[row]
        dips.append(max(min(line[c - window:c].max(), line[c + 1:c + window + 1].max())
                        - line[c] for c in range(step - window, step + window + 1)))
    return np.array(dips)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "known gap (issue 9, forty-ninth round): the step from a photo's shaded cheek beside "
    "hanging hair to the target's own skin is carried as detail; main reads a median dip of "
    "4.3-4.4 L at the step (46fc676, reverted, under 3.4; fifty-first round: with the lift "
    "left out of the mean levelling 2.5 and 2.2, reverted for the sharpness mismatch and "
    "seam colour it cost over four job ids)"))
def test_the_far_cheek_shows_no_line_where_her_hair_was(
        extracted: Callable[..., Faceset],
        call_face: Callable[[int], TargetFace]) -> None:
    """Rose Leslie's photo onto the boy of the video call, frames 29 and 39 (the engine and
    a fresh compositor at 256 px): the composite's dip at the step on the far cheek should
    read a median under 3.4 L over its rows (46fc676 does); main reads 4.3 and 4.4,
    the faint grey line at 1x."""
    source = extracted("still_rose_leslie_frontal.jpg", crop_size=SIZE)
    for frame in (29, 39):
        target = call_face(frame)
        swapped = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False)
                             ).swap_face(target)
        composited = Compositor(CompositeConfig()).composite(target, swapped)
        dips = _dips_at_the_step(composited.image, swapped.image, target.face_landmarks)
        if len(dips) <= 40:  # the step not found: the measure broke, not the gap closed
            raise RuntimeError(f"frame {frame}: the far cheek's step found on {len(dips)} rows")
        assert float(np.median(dips)) < 3.4, (frame, float(np.median(dips)))

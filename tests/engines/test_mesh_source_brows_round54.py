"""A smiling photo's brows' inner heads out of its squint's shade (mesh_source_brows):
Biden's portrait (browDown 0.87-0.89) showed dark inner heads under pale brows, a frown on
d18's resting face; a face at rest is left as it is. A target frame takes the lift as far
as its own inner heads are lighter against its skin than the photo's: d18's whole, Obama's
heavy dark brows none (the whole lift read 0.15 under his browDown)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_source_brows import (
    brows_held_down,
    heads_against_skin,
    lift_share,
    with_lift,
)
from facedub.faceset import Faceset
from source_support import source_faces_in_memory

CROP = 256  # the engine tests' smiling photo's size (conftest's LINES_CROP)
SMILING = "still_biden_frontal.jpg"
INNER_HEADS = ((107, 66, 65, 55), (336, 296, 295, 285))
MIDDLES = ((66, 105, 52, 65), (296, 334, 282, 295))



def _median_lightness(rgb: np.ndarray, points: np.ndarray) -> float:
    mask = np.zeros(rgb.shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.rint(points).astype(np.int32)), 255)
    lightness = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB)[..., 0]
    return float(np.median(lightness[mask > 0]))


def test_the_smiling_photos_inner_heads_are_no_darker_than_its_brows_middles(
        extracted: Callable[..., Faceset]) -> None:
    faces = source_faces_in_memory(extracted(SMILING, crop_size=CROP))
    points = faces.landmarks(0)[:, :2]
    clean = faces.clean_crop(0)
    lift = faces.brow_lift(0)
    assert lift is not None
    lifted = with_lift(clean, lift, 1.0)
    for head, middle in zip(INNER_HEADS, MIDDLES, strict=True):
        head_points, middle_points = points[list(head)], points[list(middle)]
        # The photo's own inner heads lie in the squint's shade (the frown it carried) ...
        assert (_median_lightness(clean[..., :3], head_points)
                < _median_lightness(clean[..., :3], middle_points) - 8)
        # ... and with the whole lift they are at its brows' middles' lightness.
        assert (_median_lightness(lifted[..., :3], head_points)
                >= _median_lightness(lifted[..., :3], middle_points) - 2)
    # Only the inner heads' RGB move: the rest of the crop and its clean weight stay.
    changed = np.any(lifted != clean, axis=2)
    assert changed.mean() < 0.02
    assert np.array_equal(lifted[..., 3], clean[..., 3])
    # None of it: the crop as it is.
    assert with_lift(clean, lift, 0.0) is clean


def test_a_target_takes_the_lift_as_far_as_its_own_inner_heads_are_lighter(
        extracted: Callable[..., Faceset],
        first_target_face: Callable[..., TargetFace]) -> None:
    lift = source_faces_in_memory(extracted(SMILING, crop_size=CROP)).brow_lift(0)
    assert lift is not None

    def share(clip: str) -> float:
        target = first_target_face(clip, CROP)
        return lift_share(lift, heads_against_skin(target.image, target.face_landmarks))

    # d18's light brows at rest: the photo's shaded heads were a frown on him.
    assert share("clip_liveportrait_d18_man_frontal_mouth.mp4") == 1.0
    # Obama's heavy dark brows are as shaded as the photo's: his take none.
    assert share("clip_deepfacelive_obama_speaking.mp4") == 0.0


def test_the_engine_draws_the_lift_into_the_swapped_face(
        extracted: Callable[..., Faceset],
        first_target_face: Callable[..., TargetFace]) -> None:
    """The engine's own wiring (`MeshEngine._brow_share` into the blended faces): d18's
    first frame swapped from the smiling photo has its inner heads lighter than the same
    swap with the share held at 0 (the lift computed but never drawn)."""
    source = extracted(SMILING, crop_size=CROP)
    target = first_target_face("clip_liveportrait_d18_man_frontal_mouth.mp4", CROP)
    lifted = MeshEngine(source).swap_face(target).image
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MeshEngine, "_brow_share", lambda self, target, blend: 0.0)
        plain = MeshEngine(source).swap_face(target).image
    points = target.face_landmarks[:, :2]
    for head in INNER_HEADS:
        gain = (_median_lightness(_as_bytes(lifted), points[list(head)])
                - _median_lightness(_as_bytes(plain), points[list(head)]))
        assert gain > 3


def _as_bytes(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("photo", "held"), [
    (SMILING, True),
    ("still_paul_rudd_frontal_studio.jpg", False),  # neutral, browDown 0.60
    ("still_kit_harington_turned.jpg", False),  # 0.47-0.52
    ("still_woman_shouting.jpg", False),  # raised brows
])
def test_only_brows_pulled_down_beyond_a_resting_faces_count(
        extracted: Callable[..., Faceset], photo: str, held: bool) -> None:
    record = extracted(photo, crop_size=CROP).faces_of()[0]
    assert brows_held_down(record.blendshapes) is held

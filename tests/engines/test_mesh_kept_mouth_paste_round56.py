"""The target's kept mouth is pasted from the target's own pixels alone: the engine's
image holds the untoned source by 1 - kept in the kept mouth's feathered margin, and the
compositor's paste by kept let it through by kept * (1 - kept), a dark ring round the
target's lips where the source's skin is darker (expr-shouting's lips read pasted on;
issue 9). Real faces from ../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_mouth import lips_mask
from facedub.faceset import Faceset

SHOUTING = "still_woman_shouting.jpg"  # a wide-open mouth, skin darker than d10's
EXPRESSIVE = "clip_liveportrait_d10_woman_expressions.mp4"  # frame 0: lips closed
CROP = 256


def _lightness(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[..., 0]


def test_the_kept_lips_margin_shows_the_targets_skin_not_the_sources(
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace]
        ) -> None:
    """The shouting photo over d10's closed lips keeps her lips and the skin round them
    (`LIPS_SURROUND`). On that skin's feather (kept 0.2-0.8, outside the lips), what is
    pasted is as light as her own skin there (within 1.5 L*: 65.5 against 65.9), where the
    engine's image, which holds the photo's skin too, is darker (54.6): the paste was that
    image on main."""
    target = first_target_face(EXPRESSIVE, CROP)
    swapped = MeshEngine(extracted(SHOUTING, crop_size=CROP),
                         MeshEngineConfig()).swap_face(target)
    assert swapped.kept is not None and swapped.kept_image is not None
    near_lips = lips_mask(target.face_landmarks, CROP, 0.5) > 0.0
    margin = ((swapped.kept > 0.2) & (swapped.kept < 0.8) & near_lips
              & (lips_mask(target.face_landmarks, CROP) == 0.0))
    assert margin.sum() > 200
    own = _lightness(target.image)[margin].mean()
    assert _lightness(swapped.image)[margin].mean() < own - 2.0  # the photo's darker skin
    assert abs(_lightness(swapped.kept_image)[margin].mean() - own) < 1.5

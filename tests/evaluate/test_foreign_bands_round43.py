"""The foreign-bands measure on a real face crop: the source's hair dragged onto the far
cheek as a grey-brown band from temple to jaw (Rose Leslie's photo onto the two-person
video call, 2026-12-06) fires it; the untouched crop, a recompressed copy, a cheek
shaded evenly darker (the source's broad lighting) and a short mark do not."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from realism_face import SIZE, Face, d18_frame_10

from facedub.evaluate.realism import (
    foreign_bands,
    measure_realism,
)

# The far cheek's outline from the temple down to the jaw (MediaPipe face mesh).
CHEEK_OUTLINE = (356, 454, 323, 361, 288, 397)
NOSE_TIP = 1


@pytest.fixture(scope="module")
def face(faces_dir: Path) -> Face:
    return d18_frame_10(faces_dir)


def _band(face: Face, inset: float, width: int, colour: tuple[int, int, int],
          points: tuple[int, ...] = CHEEK_OUTLINE) -> np.ndarray:
    """`face` with a soft band `width` px wide painted along the cheek's outline, `inset`
    px inside it (toward the nose), at 60% over the skin as hair lies on it."""
    outline = face.landmarks[list(points), :2]
    inward = face.landmarks[NOSE_TIP, :2] - outline
    path = outline + inward / np.linalg.norm(inward, axis=1, keepdims=True) * inset
    mask = np.zeros((SIZE, SIZE), dtype=np.float32)
    cv2.polylines(mask, [np.round(path).astype(np.int32)], False, 1.0, width)
    alpha = 0.6 * cv2.GaussianBlur(mask, (0, 0), 1.5)[..., None]
    painted = face.image * (1.0 - alpha) + np.array(colour, np.float32) * alpha
    return np.clip(painted + 0.5, 0, 255).astype(np.uint8)


def _recompressed(image: np.ndarray) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_UNCHANGED))


def test_a_hair_band_down_the_far_cheek_is_foreign(face: Face) -> None:
    hair = _band(face, inset=12.0, width=10, colour=(105, 85, 70))
    measured = measure_realism(face.image, hair, face.regions)
    assert measured.foreign_bands > 0.02
    # Where the swap keeps the target in front of the cheek, the band is not the swap's.
    kept = measure_realism(face.image, hair, face.regions,
                           occluded=face.regions.outer.astype(np.float32))
    assert np.isnan(kept.foreign_bands)


def test_a_pale_rim_down_the_cheek_is_foreign(face: Face) -> None:
    """Lighter than the skin counts as well as darker (a held ball's rim)."""
    rim = _band(face, inset=14.0, width=6, colour=(250, 235, 215))
    assert foreign_bands(face.image, rim, face.regions.face, face.regions.outer) > 0.01


def test_the_untouched_and_recompressed_face_has_no_band(face: Face) -> None:
    for swapped in (face.image.copy(), _recompressed(face.image)):
        assert foreign_bands(face.image, swapped, face.regions.face,
                             face.regions.outer) < 0.002


def test_broad_shading_and_a_short_mark_are_no_band(face: Face) -> None:
    """The source's lighting on a whole cheek is the tone's business; a mark shorter than
    a fifth of the crop is a blob's."""
    lab = cv2.cvtColor(face.image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    far = (np.arange(SIZE)[None, :] > face.landmarks[NOSE_TIP, 0]).astype(np.float32)
    lab[..., 0] -= 12.0 * cv2.GaussianBlur(np.repeat(far, SIZE, 0), (0, 0), SIZE / 8)
    shaded = np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255 + 0.5, 0, 255
                     ).astype(np.uint8)
    assert foreign_bands(face.image, shaded, face.regions.face, face.regions.outer) < 0.002
    mark = _band(face, inset=12.0, width=10, colour=(105, 85, 70), points=(454, 323))
    assert foreign_bands(face.image, mark, face.regions.face, face.regions.outer) < 0.002

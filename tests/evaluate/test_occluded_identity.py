"""Identity with the kept occluders filled alike (facedub.evaluate.occluded_identity)."""

from __future__ import annotations

import numpy as np

from facedub.evaluate.occluded_identity import (
    MIN_SHARE,
    SourceCrop,
    filled_descriptors,
    kept_region,
)
from facedub.faces.align import template_in_crop
from facedub.faces.identity import distance
from facedub.faces.regions import mesh_regions

SIZE = 128


class _Pixels:
    """A stand-in for dlib: the face's pixels at 16 px, so a distance is a pixel one."""

    def __init__(self) -> None:
        self.calls = 0

    def describe(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        self.calls += 1
        small = image[::8, ::8].astype(np.float32) / 255.0
        return small.reshape(-1)


def _glasses(landmarks: np.ndarray) -> np.ndarray:
    """(S, S) float mask: a dark band over both eyes, like the frames of glasses."""
    regions = mesh_regions()
    eyes = np.concatenate([landmarks[regions.right_eye], landmarks[regions.left_eye]])
    mask = np.zeros((SIZE, SIZE), np.float32)
    y0, y1 = int(eyes[:, 1].min()) - 6, int(eyes[:, 1].max()) + 6
    mask[y0:y1, int(eyes[:, 0].min()) - 6:int(eyes[:, 0].max()) + 6] = 1.0
    return mask


def test_a_kept_occluder_no_longer_decides_whom_the_face_resembles() -> None:
    landmarks = template_in_crop(SIZE, "whole")
    rng = np.random.default_rng(0)
    source = np.clip(rng.normal(170, 25, (SIZE, SIZE, 3)), 0, 255).astype(np.uint8)
    target = np.clip(rng.normal(120, 25, (SIZE, SIZE, 3)), 0, 255).astype(np.uint8)
    glasses = _glasses(landmarks)
    target[glasses > 0] = 10  # the target's dark glasses
    # The swap: the source's face, with the target's glasses kept in front of it.
    swapped = np.where(glasses[..., None] > 0, target, source).astype(np.uint8)
    # With the target's glasses as they are, the swap resembles a blend; dark frames that
    # dominate the pixels make it nearer the target (what dlib did on the glasses pairs).
    target[glasses == 0] = np.clip(target[glasses == 0].astype(int) + 35, 0, 255)
    encoder = _Pixels()
    plain = encoder.describe(swapped, landmarks)
    assert distance(plain, encoder.describe(target, landmarks)) < distance(
        plain, encoder.describe(source, landmarks))
    found = filled_descriptors(encoder, target, swapped, landmarks, glasses,
                               [SourceCrop(source, landmarks)])
    assert found is not None and found.share > MIN_SHARE
    assert distance(found.swapped, found.source) < distance(found.swapped, found.target)


def test_faces_without_a_kept_occluder_are_measured_as_they_are() -> None:
    landmarks = template_in_crop(SIZE, "whole")
    image = np.full((SIZE, SIZE, 3), 128, np.uint8)
    encoder = _Pixels()
    specks = np.zeros((SIZE, SIZE), np.float32)
    specks[60, 60] = 1.0  # a stray pixel of the mask
    for mask in (np.zeros((SIZE, SIZE), np.float32), specks):
        assert filled_descriptors(encoder, image, image, landmarks, mask,
                                  [SourceCrop(image, landmarks)]) is None
    glasses = _glasses(landmarks)
    assert filled_descriptors(encoder, image, image, landmarks, glasses, []) is None
    assert encoder.calls == 0
    region, share = kept_region(glasses, landmarks)
    assert region.dtype == np.uint8 and (region[glasses > 0] == 255).all()
    assert (region > 0).sum() > (glasses > 0).sum()  # grown over the soft edge
    assert 0.02 < share < 0.5

"""The finer colour split's four planes blurred in one pass give what blurring the face and
the target as two Lab images gave (the speed change of the eighteenth round)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from facedub import media
from facedub.composite.color import masked_blur, to_lab
from facedub.composite.tone import _colour_planes, _finer_chroma, skin_weights
from facedub.engines.base import TargetFace

SIZE = 440  # the README pair's compositing crop
HALF = SIZE // 2


def _finer_chroma_as_it_was(lab: np.ndarray, low: np.ndarray, mask: np.ndarray,
                            skin: np.ndarray, sigma: float) -> np.ndarray:
    """The function as it stood before (main 94bdc35): one Lab image at a time."""
    fine = masked_blur(lab, mask * skin, sigma)
    finer = low.copy()
    finer[..., 1:] += skin[..., None] * (fine[..., 1:] - low[..., 1:])
    return finer


def test_four_planes_in_one_pass_equal_two_lab_blurs(
        first_target_face: Callable[..., TargetFace], faces_dir: Path) -> None:
    """On the README pair (Katie Hill's first face as the target, the studio photo as the
    face, at half the 440 px crop as `carry_detail` calls it), the face's and the
    target's finer low-passes equal the old function's within 1e-4 Lab units."""
    target = first_target_face("clip_sadtalker_hdtf_katiehill_headturn.mp4", SIZE)
    photo = next(media.iter_frames(faces_dir / "still_paul_rudd_frontal_studio.jpg")).image
    face = cv2.resize(photo, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    face_half, target_half = (to_lab(cv2.resize(image, (HALF, HALF),
                                                interpolation=cv2.INTER_AREA))
                              for image in (face, target.image))
    mask = np.ones((HALF, HALF), dtype=np.float32)
    mask[:, :12] = 0.0  # a mask with an edge, as a frame's edge gives
    skin = cv2.resize(skin_weights(target.face_landmarks, SIZE).colour, (HALF, HALF),
                      interpolation=cv2.INTER_AREA)
    sigma = SIZE / 16 * HALF / SIZE
    face_low, target_low = (masked_blur(lab, mask, sigma) for lab in (face_half, target_half))
    chroma_sigma = sigma / 4.0
    ours = _finer_chroma(_colour_planes(face_half, target_half), face_low, target_low, skin,
                         mask * skin, chroma_sigma)
    theirs = (_finer_chroma_as_it_was(face_half, face_low, mask, skin, chroma_sigma),
              _finer_chroma_as_it_was(target_half, target_low, mask, skin, chroma_sigma))
    for new, old in zip(ours, theirs, strict=True):
        assert new.shape == old.shape == (HALF, HALF, 3)
        assert float(np.abs(new - old).max()) < 1e-4
    # Not trivially equal: the colour did move from the coarser low-pass on the skin.
    assert float(np.abs(ours[1][..., 1:] - target_low[..., 1:]).max()) > 1.0


def test_masked_blur_of_four_planes_is_each_planes_own() -> None:
    """`masked_blur` of four planes at once equals it of each (as three channels) alike."""
    rng = np.random.default_rng(3)
    planes = rng.uniform(-20, 20, (96, 96, 4)).astype(np.float32)
    mask = (rng.uniform(0, 1, (96, 96)) > 0.3).astype(np.float32)
    together = masked_blur(planes, mask, 7.0)
    for index in range(4):
        alone = masked_blur(cv2.merge([planes[..., index]] * 3), mask, 7.0)[..., 0]
        assert float(np.abs(together[..., index] - alone).max()) < 1e-4

import math
from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.faces.align import align_face, face_from_frame_matrix, landmarks_in_crop
from facedub.faces.geometry import (
    apply_affine,
    crop_in_frame,
    head_pose,
    paste_back,
    umeyama,
    warp_to_face,
)
from facedub.faces.regions import mesh_regions
from facedub.faces.template import face_template


def _similarity(angle_degrees: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    angle = math.radians(angle_degrees)
    rotation = scale * np.array([[math.cos(angle), -math.sin(angle)],
                                 [math.sin(angle), math.cos(angle)]])
    return np.hstack([rotation, np.array(shift)[:, None]])


def test_umeyama_recovers_a_known_similarity() -> None:
    rng = np.random.default_rng(0)
    points = rng.uniform(-50, 50, size=(40, 2))
    known = _similarity(23.0, 1.7, (12.0, -30.0))
    moved = apply_affine(known, points)
    recovered = umeyama(points, moved)
    np.testing.assert_allclose(recovered[:2], known, atol=1e-9)


def test_umeyama_without_scale_keeps_a_rotation() -> None:
    rng = np.random.default_rng(1)
    points = rng.normal(size=(30, 3))
    recovered = umeyama(points, points * 2.0, with_scale=False)
    assert np.allclose(recovered[:3, :3], np.eye(3), atol=1e-9)


def test_align_then_paste_back_returns_the_original_pixels() -> None:
    rng = np.random.default_rng(2)
    # A smooth random image: interpolation error stays small, as on real faces.
    small = rng.uniform(0, 255, size=(24, 32, 3)).astype(np.float32)
    import cv2

    frame = cv2.resize(small, (320, 240), interpolation=cv2.INTER_CUBIC).clip(0, 255)
    frame = frame.astype(np.uint8)
    face_from_frame = _similarity(15.0, 2.0, (-150.0, -60.0))  # crop at twice frame scale
    crop = warp_to_face(frame, face_from_frame, 256)
    mask = np.ones((256, 256), dtype=np.float32)
    pasted = paste_back(np.zeros_like(frame), crop, mask, face_from_frame)
    inside = cv2.warpAffine(np.ones((256, 256), np.uint8), face_from_frame, (320, 240),
                            flags=cv2.WARP_INVERSE_MAP | cv2.INTER_NEAREST)
    inside = cv2.erode(inside, np.ones((5, 5), np.uint8)).astype(bool)
    error = np.abs(pasted.astype(int) - frame.astype(int))[inside]
    assert inside.sum() > 5000
    assert error.mean() < 1.5
    assert np.percentile(error, 99) < 8


def test_crop_in_frame_is_what_the_frame_shows_true_blacks_included() -> None:
    frame = np.full((60, 80, 3), 200, np.uint8)
    frame[20:40, 30:50] = 0  # a black object in the picture
    face_from_frame = _similarity(15.0, 1.5, (-20.0, 10.0))  # part of the crop is beyond
    crop = warp_to_face(frame, face_from_frame, 96)
    inside = crop_in_frame(face_from_frame, 96, (80, 60))
    assert 0 < inside.sum() < inside.size
    assert (crop[~inside].max(axis=1) < 200).all()  # the black fill, in whole or part
    assert (crop[inside] == 0).all(axis=1).any()  # the true black still counts as inside


def test_face_from_frame_maps_the_template_onto_itself() -> None:
    template = face_template()
    frame_landmarks = template * 40.0 + np.array([200.0, 150.0, 0.0])
    matrix = face_from_frame_matrix(frame_landmarks, 256, "whole")
    crop_points = landmarks_in_crop(frame_landmarks, matrix)
    again = face_from_frame_matrix(crop_points, 256, "whole")
    np.testing.assert_allclose(again, np.array([[1, 0, 0], [0, 1, 0]]), atol=1e-4)


def test_aligned_face_has_crop_and_mask_of_the_right_shape() -> None:
    template = face_template()
    frame = np.full((300, 400, 3), 128, dtype=np.uint8)
    landmarks = (template * 30.0 + np.array([200.0, 150.0, 0.0])).astype(np.float32)
    aligned = align_face(frame, landmarks, 128, "face")
    assert aligned.image.shape == (128, 128, 3)
    assert aligned.mask.shape == (128, 128)
    assert 0.2 < aligned.mask.mean() < 0.9


@pytest.mark.parametrize("yaw", [-40.0, -15.0, 0.0, 25.0])
def test_head_pose_reads_back_a_rotation(yaw: float) -> None:
    template = face_template()
    angle = math.radians(yaw)
    # Turn the face towards the image's right for positive yaw (see facedub.types).
    rotation = np.array([[math.cos(angle), 0, -math.sin(angle)], [0, 1, 0],
                         [math.sin(angle), 0, math.cos(angle)]])
    turned = template @ rotation.T * 50.0
    pose = head_pose(turned, template, mesh_regions().rigid)
    assert pose.yaw == pytest.approx(yaw, abs=0.5)
    assert pose.pitch == pytest.approx(0.0, abs=0.5)
    assert pose.roll == pytest.approx(0.0, abs=0.5)


def _fine_band(grey: np.ndarray) -> np.ndarray:
    import cv2

    return grey - cv2.GaussianBlur(grey, (0, 0), 1.0)


def test_a_crop_pasted_back_unchanged_keeps_the_frames_fine_detail(faces_dir: Path) -> None:
    # Cut into a crop and pasted back, every pixel of a swapped face is interpolated twice;
    # linear interpolation took 40% of the fine band's RMS (the face softer and less grainy
    # than the frame around it, issue 9). Compensated, it keeps 90% and is nearer the frame.
    import cv2

    frame = media.read_photo(faces_dir / "still_paul_rudd_frontal_studio.jpg")
    face_from_frame = _similarity(7.0, 1.0, (-700.3, -600.6))  # about the face, 1:1
    crop = warp_to_face(frame, face_from_frame, 256)
    mask = np.zeros((256, 256), dtype=np.float32)
    mask[40:216, 40:216] = 1.0
    inside = cv2.warpAffine(mask, face_from_frame, frame.shape[1::-1],
                            flags=cv2.WARP_INVERSE_MAP | cv2.INTER_NEAREST) > 0
    inside = cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)

    def grey(image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)

    original = grey(frame)
    pasted = grey(paste_back(frame, crop, mask, face_from_frame))
    plain = grey(paste_back(frame, crop, mask, face_from_frame, compensation=0.0))
    kept = np.sqrt(np.mean(_fine_band(pasted)[inside] ** 2)
                   / np.mean(_fine_band(original)[inside] ** 2))
    assert 0.8 < kept < 1.1
    assert (np.abs(pasted - original)[inside].mean()
            < np.abs(plain - original)[inside].mean())



@pytest.mark.parametrize("crop_pixels_per_frame_pixel", [2.0, 4.0])
def test_a_crop_finer_than_the_frame_is_pasted_back_without_oversharpening(
        faces_dir: Path, crop_pixels_per_frame_pixel: float) -> None:
    # A crop with more pixels than the face covers loses little on its round trip: the full
    # compensation made the pasted face 1.2-1.5 times as sharp as the frame.
    import cv2

    scale = crop_pixels_per_frame_pixel
    size = int(256 * scale)
    frame = media.read_photo(faces_dir / "still_paul_rudd_frontal_studio.jpg")
    face_from_frame = _similarity(7.0, scale, (-700.3 * scale, -600.6 * scale))
    crop = warp_to_face(frame, face_from_frame, size)
    mask = np.zeros((size, size), dtype=np.float32)
    margin = int(40 * scale)
    mask[margin:size - margin, margin:size - margin] = 1.0
    inside = cv2.warpAffine(mask, face_from_frame, frame.shape[1::-1],
                            flags=cv2.WARP_INVERSE_MAP | cv2.INTER_NEAREST) > 0
    inside = cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    original = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    pasted = cv2.cvtColor(paste_back(frame, crop, mask, face_from_frame),
                          cv2.COLOR_RGB2GRAY).astype(np.float32)
    kept = np.sqrt(np.mean(_fine_band(pasted)[inside] ** 2)
                   / np.mean(_fine_band(original)[inside] ** 2))
    assert 0.85 < kept < 1.1


def test_aligned_crops_of_a_large_face_are_cut_without_aliasing() -> None:
    # align_face feeds facesets (the source's crops, training data): a studio photo's
    # face at a quarter of its scale kept every fourth pixel's texture as coarse noise.
    rows, columns = np.mgrid[0:900, 0:900]
    frame = np.where((rows + columns) % 2 == 0, 220, 40).astype(np.uint8)
    frame = np.repeat(frame[..., None], 3, axis=2)
    landmarks = (face_template() * 300.0 + np.array([450.0, 450.0, 0.0])).astype(np.float32)
    aligned = align_face(frame, landmarks, 96, "face")
    assert aligned.image[20:76, 20:76].std() < 8.0


def test_a_crop_that_shrinks_the_frame_keeps_no_aliased_texture() -> None:
    # Detail finer than the crop's pixels (a studio photo's pores at a quarter of its
    # scale) came out as coarse noise: the compositor then blurred the whole face, its
    # features too, to match a soft target. Cut with `antialias`, it averages out.
    rows, columns = np.mgrid[0:400, 0:400]
    frame = np.where((rows + columns) % 2 == 0, 220, 40).astype(np.uint8)
    frame = np.repeat(frame[..., None], 3, axis=2)
    face_from_frame = _similarity(3.0, 0.27, (-20.0, -20.0))
    plain = warp_to_face(frame, face_from_frame, 96).astype(np.float32)
    smooth = warp_to_face(frame, face_from_frame, 96, antialias=True).astype(np.float32)
    inner = (slice(10, 80), slice(10, 80))
    assert plain[inner].std() > 20.0
    assert smooth[inner].std() < 8.0
    assert abs(float(smooth[inner].mean()) - 130.0) < 3.0


def test_a_crop_at_the_frames_scale_or_larger_is_not_low_passed(faces_dir: Path) -> None:
    frame = media.read_photo(faces_dir / "still_paul_rudd_frontal_studio.jpg")
    face_from_frame = _similarity(7.0, 1.3, (-900.0, -800.0))
    np.testing.assert_array_equal(warp_to_face(frame, face_from_frame, 128, antialias=True),
                                  warp_to_face(frame, face_from_frame, 128))

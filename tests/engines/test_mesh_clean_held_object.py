"""engines/mesh_clean.py on real photos: a ball held at a photo's cheek, its rim inside the
face's outline, is not clean source skin (on main it was, 1.0 on the rim, and became a pale
line down the swapped cheek: issue 9, ball-photo); and on every other benchmark photo, and
on lit faces with no object (a backlit photo, a stage-lit clip frame, a brighter exposure of
a benchmark photo), the held-object rule takes nothing, so their clean weights stay main's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.engines.mesh_clean import SKIN_REFERENCE, _held_object, clean_weights
from facedub.faces.masks import convex_hull_mask, face_oval

SIZE = 512  # the mesh engine's source crop (`registry.SOURCE_CROP`)
Aligner = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


@pytest.fixture(scope="module")
def ball(faces_dir: Path, aligned_face: Aligner) -> tuple[np.ndarray, np.ndarray]:
    return aligned_face(media.read_photo(faces_dir / "still_woman_ball_occlusion_lowres.jpg"),
                        SIZE)


def _lab(crop: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(crop.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def test_a_ball_held_at_the_cheek_is_left_out_inside_the_outline(
        ball: tuple[np.ndarray, np.ndarray]) -> None:
    crop, landmarks = ball
    weights = clean_weights(crop, landmarks, held_objects=True)
    lab = _lab(crop)
    points = np.round(landmarks[:, :2]).astype(int)
    inside = face_oval(landmarks[:, :2], SIZE) > 0
    inside[: points[105, 1]] = False  # below the brows
    # The ball's orange rim: far more vivid than her brown skin (chroma 50-60 against
    # 32 +- 5), on the image's left of the nose.
    side = np.zeros_like(inside)
    side[:, : points[1, 0]] = True
    rim = inside & side & (np.hypot(lab[..., 1], lab[..., 2]) > 48)
    assert rim.sum() > 2000 and weights[rim].mean() < 0.05
    # Between the rim and the outline, its shaded cream (neither lighter nor vivid).
    beyond = inside & (np.arange(SIZE)[None, :] < points[234, 0] + SIZE // 12) \
        & (np.arange(SIZE)[:, None] > points[1, 1])
    assert beyond.sum() > 1000 and weights[beyond].mean() < 0.05
    # The rim's out-of-focus edge on her cheek's side: paler than her skin's median.
    near = cv2.dilate(rim.astype(np.uint8), np.ones((25, 25), np.uint8)) > 0
    skin = lab[convex_hull_mask(landmarks[list(SKIN_REFERENCE)], (SIZE, SIZE))]
    pale = inside & near & ~rim & (lab[..., 0] > np.median(skin[:, 0]))
    pale[:, points[1, 0]:] = False
    assert pale.sum() > 300 and weights[pale].mean() < 0.2
    # Her own face keeps: the nose, the far cheek, the eyes, the far mouth corner, chin.
    for clean in (1, 4, 425, 280, 33, 263, 291, 152):
        x, y = points[clean]
        assert weights[y, x] > 0.9, clean


def test_a_held_object_is_looked_for_only_when_asked(
        ball: tuple[np.ndarray, np.ndarray]) -> None:
    """A video source's faces are cleaned without it (`mesh_sources` asks on a photo
    source only): the ball's rim is then judged as before the rule, clean."""
    crop, landmarks = ball
    assert (clean_weights(crop, landmarks).mean()
            > clean_weights(crop, landmarks, held_objects=True).mean() + 0.02)


def _image(faces_dir: Path, name: str, frame: int, gamma: float) -> np.ndarray:
    if frame < 0:
        image = media.read_photo(faces_dir / name)
    else:
        capture = cv2.VideoCapture(str(faces_dir / name))
        capture.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, bgr = capture.read()
        capture.release()
        assert ok
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if gamma != 1.0:
        image = (255 * (image / 255.0) ** gamma).astype(np.uint8)
    return image


@pytest.mark.parametrize(("name", "frame", "gamma"), [
    ("still_rose_leslie_frontal.jpg", -1, 1.0), ("still_kit_harington_turned.jpg", -1, 1.0),
    ("still_paul_rudd_frontal_studio.jpg", -1, 1.0), ("still_biden_frontal.jpg", -1, 1.0),
    ("still_woman_dark_skin_downcast.jpg", -1, 1.0), ("still_woman_shouting.jpg", -1, 1.0),
    ("still_angelina_jolie_threequarter.jpg", -1, 1.0),
    # Lit skin with no object, past the share gate (10.1%, 7.5%, 19.2% against 5%): the
    # taken area would cover her right eye and brow, his brow's middle, both her eyes.
    ("still_woman_head_tilt_eyes_closed.png", -1, 1.0),
    ("clip_facerecognition_hamilton_multiface_mic.mp4", 84, 1.0),
    ("still_rose_leslie_frontal.jpg", -1, 0.6)])
def test_no_held_object_on_faces_without_one(
        name: str, frame: int, gamma: float, faces_dir: Path, aligned_face: Aligner) -> None:
    """Among the benchmark photos Rose Leslie's red hair over her cheek is the nearest
    (2.4% of the outline, against the ball's 8.1% and the rule's 5%); the lit faces below
    pass that gate and are stopped by the feature guard."""
    crop, landmarks = aligned_face(_image(faces_dir, name, frame, gamma), SIZE)
    small = cv2.resize(crop, (SIZE // 4, SIZE // 4), interpolation=cv2.INTER_AREA)
    lab = _lab(small)
    points = landmarks[:, :2] / 4
    skin = lab[convex_hull_mask(points[list(SKIN_REFERENCE)], (SIZE // 4, SIZE // 4))]
    oval = cv2.dilate(face_oval(points, SIZE // 4), np.ones((3, 3), np.uint8)) > 0  # as used
    assert not _held_object(lab, skin, points, oval).any()

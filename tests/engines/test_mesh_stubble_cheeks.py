"""engines/mesh_stubble.py's beard cheeks on real frames: the streamer's denser, shaded
beard on the side of his jaw, restyled as hair onto Obama's smooth cheek and greyed by the
compositor as it darkened, was a grey blotch 15-25 px across beyond his left mouth corner
(lighting, frames 40-70 and 120-175; issue 9, BENCHMARKS.md, Realism, fifty-second round).
Beyond the mouth's corners the zone's darkness is now held near the source's skin and left
out of the hair: the specks stay, the grey stain goes; the moustache and goatee stay hair."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine
from facedub.engines.mesh_stubble import (
    CHEEK_DARKEST,
    beard_cheeks,
    beard_zone,
    hair_zone,
    stubble_as_hair,
)
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model
from facedub.faceset import Faceset
from target_support import target_from_frame

STREAMER = "clip_deepfacelive_twitch_streamer_webcam.mp4"  # moustache, goatee, jaw beard
OBAMA = "clip_deepfacelive_obama_speaking.mp4"  # lighting's target, a smooth chin
CROP = 256
WINDOW = 15  # frame pixels: the blotch was 15-25 px across at 1x


@pytest.fixture(scope="module")
def obama_faces(faces_dir: Path) -> Callable[[int], TargetFace]:
    """`obama_faces(55)`: Obama's face on that frame of lighting's target, aligned at CROP
    as the swap aligns it, as an engine's target (track 0)."""

    def face(index: int) -> TargetFace:
        # Only that frame converted, and the decoder closed once it is read.
        with closing(media.iter_frames(faces_dir / OBAMA, indices={index})) as frames:
            frame = next(f for f in frames if f.index == index)
        with FaceAnalyser(max_faces=1, video=False,
                          model_path=resolve_landmarker_model()) as analyser:
            found = analyser.analyse(frame.image)[0]
        return target_from_frame(frame.image, found.landmarks, CROP, found.pose,
                                 found.blendshapes)

    return face


def _lab(image: np.ndarray) -> np.ndarray:
    rgb = np.clip(image.astype(np.float32) / 255.0, 0.0, 1.0)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)


def _left_cheek(target: TargetFace) -> np.ndarray:
    """(S, S) bool: the beard zone on Obama's left (the image's right) beyond his mouth
    corner by more than 0.6 of the mouth's width, where the blotch lay (0.6-1.1)."""
    points = target.face_landmarks[:, :2]
    corner, other = points[291], points[61]
    width = float(np.linalg.norm(corner - other))
    axis = (corner - other) / width
    rows, columns = np.mgrid[0:CROP, 0:CROP]
    beyond = ((columns - corner[0]) * axis[0] + (rows - corner[1]) * axis[1]) / width
    return (beard_zone(points, CROP) > 0.5) & (beyond > 0.6)


@pytest.mark.parametrize("index", [50, 55])
def test_the_streamers_shaded_cheek_beard_is_no_grey_blotch_on_obamas_cheek(
        extracted: Callable[..., Faceset], obama_faces: Callable[[int], TargetFace],
        index: int) -> None:
    """The streamer onto Obama's frames 50 and 55 (turned to his left), through the
    compositor. Over every 15-frame-pixel window of his left cheek beyond the mouth corner,
    the output against his own skin: on main the darkest window was 9.7 / 9.8 L darker and
    9.6 / 10.3 less chromatic (the grey blotch), the worst window's chroma 9.6 / 10.4
    lower; with the cheeks held and not hair 4.0 / 5.2 L darker at 0.0 / 0.2 less chroma,
    no window more than 0.3 less chromatic. The moustache and goatee are still hair."""
    source = extracted(STREAMER, max_frames=12, crop_size=CROP)
    target = obama_faces(index)
    swapped = MeshEngine(source).swap_face(target)
    assert swapped.hair is not None  # a smooth chin: the stubble is restyled as hair
    below_lip = np.round(target.face_landmarks[18, :2]).astype(int)
    assert swapped.hair[below_lip[1], below_lip[0]] > 0.9
    out = Compositor(CompositeConfig()).composite(target, swapped).image
    crop_per_frame = float(np.sqrt(abs(np.linalg.det(target.face_from_frame[:, :2]))))
    window = max(3, round(WINDOW * crop_per_frame))
    ours, own = _lab(out), _lab(target.image)
    darker = cv2.blur(ours[..., 0] - own[..., 0], (window, window))
    greyer = cv2.blur(np.hypot(ours[..., 1], ours[..., 2]) - np.hypot(own[..., 1], own[..., 2]),
                      (window, window))
    inside = cv2.erode(_left_cheek(target).astype(np.uint8), np.ones((window, window),
                                                                     np.uint8)) > 0
    assert inside.sum() > 200  # the windows wholly on his left cheek (1066-1199)
    assert float(greyer[inside].min()) > -3.0  # main: -9.6 / -10.4
    assert float(darker[inside].min()) > -7.0  # main: -9.7 / -9.8


def test_the_cheeks_lie_beyond_the_moustache_ends_and_the_goatee(
        obama_faces: Callable[[int], TargetFace]) -> None:
    """The cheeks are nothing at the mouth's corners, out to 0.3 of the mouth's width
    beyond them, under the lip and on the chin, and the whole zone out on the jaw; the hair
    leaves them out; a target of stubble of its own (smooth 0) gets none."""
    target = obama_faces(55)
    points = target.face_landmarks[:, :2]
    zone = beard_zone(points, CROP)
    cheeks = beard_cheeks(points, zone, 1.0)
    assert cheeks is not None
    for inner in (61, 291, 18, 152, 0):  # corners, under the lip, chin, above the lip
        x, y = np.round(points[inner]).astype(int)
        assert cheeks[y, x] == 0.0, inner
    width = float(np.linalg.norm(points[291] - points[61]))
    outward = (points[291] - points[61]) / width
    for corner, sign in ((points[291], 1.0), (points[61], -1.0)):
        x, y = np.round(corner + sign * 0.3 * width * outward).astype(int)
        assert cheeks[y, x] == 0.0  # the moustache's ends: hair, as the smile reads them
        x, y = np.round(corner + sign * 0.8 * width * outward).astype(int)
        if zone[y, x] > 0.9:
            assert cheeks[y, x] == pytest.approx(zone[y, x])
    assert float(cheeks.max()) == pytest.approx(float(zone.max()))
    hair = hair_zone(points, zone, cheeks)
    np.testing.assert_allclose(hair, hair_zone(points, zone) * (1.0 - cheeks), atol=1e-6)
    assert beard_cheeks(points, zone, 0.0) is None
    half = beard_cheeks(points, zone, 0.5)
    assert half is not None
    np.testing.assert_allclose(half, 0.5 * cheeks, atol=1e-6)


def test_the_cheeks_darkness_is_held_near_the_skin_and_their_specks_stay() -> None:
    """A zone's cheek 40 grey levels darker than the skin around it, with specks: held, it
    is CHEEK_DARKEST darker (the source's shade gone), its specks as they were; where
    `cheeks` is 0 the zone is restyled as before."""
    size = 128
    rng = np.random.default_rng(3)
    face = np.full((size, size, 3), 180.0, dtype=np.float32)
    face[64:, :] = 140.0  # the zone's shaded beard
    specks = np.where(rng.random((size, size)) < 0.1, -20.0, 0.0).astype(np.float32)
    face += specks[..., None]
    zone = np.zeros((size, size), dtype=np.float32)
    zone[64:, :] = 1.0
    skin = 1.0 - zone
    cheeks = np.zeros_like(zone)
    cheeks[:, 64:] = zone[:, 64:]
    plain = stubble_as_hair(face, zone, skin, size)
    held = stubble_as_hair(face, zone, skin, size, cheeks=cheeks)
    np.testing.assert_array_equal(held[:, :56], plain[:, :56])  # no cheeks: as before
    grey = cv2.cvtColor(held, cv2.COLOR_RGB2GRAY)
    broad = float(np.median(grey[100:, 100:]))
    plain_broad = float(np.median(cv2.cvtColor(plain, cv2.COLOR_RGB2GRAY)[100:, 100:]))
    assert plain_broad < 180.0 - 30.0  # the shade as it was
    assert broad == pytest.approx(180.0 - CHEEK_DARKEST, abs=2.0)
    fine = grey[100:, 100:] - cv2.GaussianBlur(grey, (0, 0), 2.0)[100:, 100:]
    assert float(np.mean(fine[specks[100:, 100:] < 0])) < -8.0  # the specks stay dark


def test_a_photo_sources_cheeks_are_left_as_they_were(
        extracted: Callable[..., Faceset], obama_faces: Callable[[int], TargetFace],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a video source's cheeks are held: from Paul Rudd's studio photo (even stubble,
    no blotch seen) they moved readme-photo's smile and mouth agreement, so a photo's
    stubble is restyled as before (the same hair, the same face)."""
    called: list[int] = []

    def counted(*args: object) -> None:
        called.append(1)

    monkeypatch.setattr("facedub.engines.mesh.beard_cheeks", counted)
    photo = extracted("still_paul_rudd_frontal_studio.jpg", max_frames=1, crop_size=CROP)
    assert MeshEngine(photo).swap_face(obama_faces(55)).hair is not None
    assert not called
    video = extracted(STREAMER, max_frames=12, crop_size=CROP)
    assert MeshEngine(video).swap_face(obama_faces(55)).hair is not None
    assert called

"""engines/mesh_stubble.py on real faces: a source's stubble or beard is found, a smooth
chin is not, and the mesh engine shows the target's own chin where the source has
stubble: as hair by default, the target's own chin when asked (the streamer's ginger
stubble read as dirt round d18's mouth, issue 9)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np
import pytest

from facedub.composite.compositor import CompositeConfig, Compositor
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_mouth import mean_smile
from facedub.engines.mesh_stubble import (
    DARKEST,
    TargetBeards,
    beard_zone,
    corners_shave_share,
    dots_shown,
    hair_zone,
    shaved,
    shaven,
    skin_around,
    smiling_corners,
    smooth_lip,
    source_moustache,
    source_stubble,
    stubble_as_hair,
    stubble_share,
)
from facedub.evaluate.stubble import beard_region, dark_texture
from facedub.faces.align import landmarks_in_crop
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faces.masks import polygon_mask
from facedub.faces.regions import mesh_regions
from facedub.faceset import Faceset

BEARDED = "still_kit_harington_turned.jpg"  # full dark stubble beard
STUBBLE = "still_paul_rudd_frontal_studio.jpg"  # short dark stubble
STREAMER = "clip_deepfacelive_twitch_streamer_webcam.mp4"  # moustache and goatee
TALKING = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # a smooth, shaven chin
WOMAN = "clip_liveportrait_d3_woman_headturn.mp4"
KATIE = "clip_sadtalker_hdtf_katiehill_headturn.mp4"  # the README's target: wide nostrils
FOLDS = "still_biden_frontal.jpg"  # smile folds and a little stubble: read 0.46 at 512 px
CROP = 256


@pytest.fixture(scope="module")
def smooth_chin(first_target_face: Callable[..., TargetFace]) -> TargetFace:
    """The talking man's first frame, aligned as the swap aligns it."""
    return first_target_face(TALKING, CROP)


@pytest.mark.parametrize(("name", "low", "high"), [
    (BEARDED, 0.9, 1.0), (STUBBLE, 0.9, 1.0), (TALKING, 0.0, 0.0), (WOMAN, 0.0, 0.0)])
def test_stubble_is_found_and_a_smooth_chin_is_not(extracted: Callable[..., Faceset],
                                                   name: str, low: float, high: float
                                                   ) -> None:
    faceset = extracted(name, max_frames=1, crop_size=CROP)
    record = faceset.faces_of()[0]
    landmarks = landmarks_in_crop(record.frame_landmarks, record.face_from_frame)
    assert low <= stubble_share(faceset.load_image(record), landmarks) <= high


@pytest.mark.parametrize(("name", "shaves"), [(BEARDED, True), (STUBBLE, True),
                                             (FOLDS, False)])
def test_a_source_is_shaved_wholly_or_not_at_all(extracted: Callable[..., Faceset], name: str,
                                                 shaves: bool) -> None:
    """At the swap's source size (512 px): a source with folds and light stubble is left
    as it is; shaved as far as its share it showed a bearded target's beard through a
    veil of its skin."""
    faceset = extracted(name, max_frames=1, crop_size=512)
    record = faceset.faces_of()[0]
    landmarks = landmarks_in_crop(record.frame_landmarks, record.face_from_frame)
    stubble = source_stubble([lambda: (faceset.load_image(record), landmarks)])
    assert stubble > 0.0 and shaved(stubble) is shaves


def test_the_beard_zone_is_below_the_nose_round_the_lips_not_on_them(
        smooth_chin: TargetFace) -> None:
    landmarks = smooth_chin.face_landmarks
    zone = beard_zone(landmarks, CROP)
    lips = polygon_mask(landmarks[mesh_regions().lips_outer], CROP) > 0.5
    points = np.round(landmarks[:, :2]).astype(int)
    for beard in (18, 200, 164):  # below and above the lip
        x, y = points[beard]
        assert zone[y, x] > 0.9, beard
    for outline in (152, 172, 397):  # the chin and jaw, on the zone's outline
        x, y = points[outline]
        assert zone[y, x] > 0.75, outline
    for bare in (195, 50, 280):  # the nose's bridge, the upper cheeks
        x, y = points[bare]
        assert zone[y, x] < 0.05, bare
    assert zone[cv2.erode(lips.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0].max() < 0.1


def test_the_engine_shows_the_targets_own_chin_when_asked_to_shave(
        extracted: Callable[..., Faceset], smooth_chin: TargetFace) -> None:
    """Kit Harington's stubble beard onto d18's shaven chin: without the step its dark
    strands cover a third of the chin and upper lip (0.33); with it 0.04, what is left
    being the edge of the soft shade kept of it (see `shaven`)."""
    source = extracted(BEARDED, max_frames=1, crop_size=CROP)
    target = smooth_chin
    lightness = _lightness(target.image)
    beard = beard_region(target.face_landmarks, CROP, np.ones((CROP, CROP), dtype=bool))
    dirt = {}
    for stubble in ("as-is", "shave"):
        engine = MeshEngine(source, MeshEngineConfig(stubble=stubble))
        face = engine.swap_face(target)
        dirt[stubble] = dark_texture(lightness, _lightness(face.image), beard)
    assert dirt["as-is"] > 0.2
    assert dirt["shave"] < 0.08


def _lightness(image: np.ndarray) -> np.ndarray:
    lab: np.ndarray = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return lab[..., 0]


def test_shaving_keeps_the_sources_broad_relief_and_little_of_its_beards_shadow() -> None:
    """A warped source face with a dark moustache band (50 grey levels), ginger specks
    in it and a lighter chin (a relief the target has not) onto a flat target with its
    own fine grain: the band keeps at most DARKEST of its darkness, the specks and tint
    go, the lighter chin stays."""
    size = 128
    rng = np.random.default_rng(1)
    target = np.full((size, size, 3), 150.0, dtype=np.float32)
    target += rng.normal(0.0, 2.0, (size, size, 1)).astype(np.float32)
    face = target.copy()
    face[30:50] -= np.array([50.0, 60.0, 75.0], dtype=np.float32)  # a brown band
    specks = rng.random((size, size)) < 0.3
    face[specks & (np.arange(size)[:, None] >= 30) & (np.arange(size)[:, None] < 50)] -= 30.0
    face[80:110, 30:100] += 20.0  # a lighter chin
    result = shaven(face, target, np.ones((size, size), dtype=np.float32), size)
    grey = cv2.cvtColor(result, cv2.COLOR_RGB2GRAY)
    flat = float(np.median(cv2.cvtColor(target, cv2.COLOR_RGB2GRAY)))
    assert flat - float(np.median(grey[34:46])) <= DARKEST + 0.5
    assert float(np.median(grey[88:102, 40:90])) - flat > 15.0
    band = result[34:46]
    assert float(np.abs(band[..., 0] - band[..., 2]).mean()) < 2.0  # no ginger tint left
    assert float(np.std(grey[36:44] - cv2.GaussianBlur(grey, (0, 0), 2.0)[36:44])) < 3.0
    # Where the weight is 0 the face is untouched.
    assert np.array_equal(shaven(face, target, np.zeros((size, size), np.float32), size), face)


def _lab(image: np.ndarray) -> np.ndarray:
    lab: np.ndarray = cv2.cvtColor(np.clip(image, 0, 255).astype(np.float32) / 255.0,
                                   cv2.COLOR_RGB2LAB)
    return lab


def _saturation(lab: np.ndarray) -> np.ndarray:
    """Chroma per lightness: darker skin at the same chroma (brown) reads higher."""
    saturation: np.ndarray = np.hypot(lab[..., 1], lab[..., 2]) / np.maximum(lab[..., 0], 1.0)
    return saturation


def test_stubble_as_hair_keeps_its_darkness_and_specks_on_the_skins_colour() -> None:
    """A warped source face: skin, and in the zone a darker, more saturated ginger band
    with dark specks in it and a lighter ginger patch below. As hair: the band's broad
    darkness and its specks stay (the identity reads them), its colour is the skin's (no
    ginger: the compositor greys the darkness as hair); the light patch keeps its
    lightness (a lit chin's relief) with the skin's hue. Nothing changes outside the
    zone."""
    size = 128
    rng = np.random.default_rng(2)
    skin_rgb = np.array([205.0, 160.0, 135.0], dtype=np.float32)
    face = np.tile(skin_rgb, (size, size, 1)).astype(np.float32)
    face += rng.normal(0.0, 1.5, (size, size, 1)).astype(np.float32)
    rows = np.arange(size)[:, None] * np.ones((1, size))
    band = (rows >= 60) & (rows < 80)
    face[band] = np.array([165.0, 110.0, 70.0], dtype=np.float32)  # ginger-brown band
    specks = band & (rng.random((size, size)) < 0.25)
    face[specks] -= 45.0
    patch = (rows >= 96) & (rows < 112)
    face[patch] = np.array([230.0, 170.0, 120.0], dtype=np.float32)  # lit ginger hairs
    zone = (rows >= 56).astype(np.float32)
    skin = (rows < 48).astype(np.float32)
    result = stubble_as_hair(face, zone, skin, size)
    before, after, skin_lab = _lab(face), _lab(result), _lab(skin_rgb[None, None])[0, 0]
    inner = band & (rows >= 64) & (rows < 76)
    # The band's darkness (24 L* below the skin) stays, within 2.5 L* (what lies between
    # its specks is no more than LIGHTER_SPECKS above them), and so do its specks.
    assert skin_lab[0] - float(np.mean(before[inner, 0])) > 20.0
    assert abs(float(np.mean(after[inner, 0] - before[inner, 0]))) < 2.5
    speckled = inner & specks
    assert float(np.mean(after[speckled, 0]) - np.mean(after[inner & ~specks, 0])) < -10.0
    # Its colour: the skin's hue, and about its chroma per lightness (the input's band:
    # another hue, twice as saturated).
    def hue(lab: np.ndarray) -> np.ndarray:
        angle: np.ndarray = np.degrees(np.arctan2(lab[..., 2], lab[..., 1]))
        return angle

    assert float(np.median(np.abs(hue(before[inner]) - hue(skin_lab)))) > 4.0
    assert float(np.abs(hue(after[inner]) - hue(skin_lab)).max()) < 2.0
    assert float(np.median(_saturation(before[inner]))) > 1.8 * float(_saturation(skin_lab))
    assert float(_saturation(after[inner]).max()) < 1.15 * float(_saturation(skin_lab))
    lit = patch & (rows >= 100) & (rows < 108)
    assert abs(float(np.median(after[lit, 0] - before[lit, 0]))) < 1.0
    assert float(np.abs(hue(after[lit]) - hue(skin_lab)).max()) < 2.0
    assert float(np.median(np.abs(hue(before[lit]) - hue(skin_lab)))) > 4.0
    outside = zone == 0
    assert np.array_equal(result[outside], face[outside])


def test_the_skin_colour_is_taken_between_the_lower_lids_and_the_beard_zone(
        smooth_chin: TargetFace) -> None:
    landmarks = smooth_chin.face_landmarks
    zone = beard_zone(landmarks, CROP)
    skin = skin_around(landmarks, zone)
    points = np.round(landmarks[:, :2]).astype(int)
    for bare in (50, 280, 195):  # the cheeks, the nose's bridge
        x, y = points[bare]
        assert skin[y, x] == 1.0, bare
    for kept_out in (159, 386, 105, 18, 152):  # the eyes, a brow, below the lip, the chin
        x, y = points[kept_out]
        assert skin[y, x] == 0.0, kept_out


def test_a_stubbled_source_on_a_smooth_chin_is_not_browner_than_the_targets_skin(
        extracted: Callable[..., Faceset], smooth_chin: TargetFace) -> None:
    """Kit Harington's stubble beard onto d18's shaven chin, through the compositor: as
    it is, its darkness arrives on d18's skin tone with the skin's chroma (brown: where
    the zone is darker than d18's skin, 1.24 times its chroma per lightness there); as
    hair about the skin's, with the beard's darkness (what the identity reads) kept."""
    source = extracted(BEARDED, max_frames=1, crop_size=CROP)
    target = smooth_chin
    beard = beard_region(target.face_landmarks, CROP, np.ones((CROP, CROP), dtype=bool))
    target_lab = cv2.GaussianBlur(_lab(target.image.astype(np.float32)), (0, 0), CROP / 64)
    darker, saturation = {}, {}
    for stubble in ("as-is", "hair"):
        engine = MeshEngine(source, MeshEngineConfig(stubble=stubble))
        face = Compositor(CompositeConfig()).composite(target, engine.swap_face(target))
        lab = cv2.GaussianBlur(_lab(face.image.astype(np.float32)), (0, 0), CROP / 64)
        dark = beard & (lab[..., 0] < target_lab[..., 0] - 4.0)
        darker[stubble] = float(np.mean(dark[beard]))
        saturation[stubble] = float(np.median(_saturation(lab[dark])
                                              / _saturation(target_lab[dark])))
    assert saturation["as-is"] > 1.15  # 1.24
    assert saturation["hair"] < 1.08  # 1.01
    assert darker["hair"] > 0.8 * darker["as-is"]  # 0.32 against 0.31


def _face_of(faceset: Faceset, track: int) -> TargetFace:
    """A faceset's first face as a swap's target, in its own crop."""
    record = faceset.faces_of()[0]
    return TargetFace(image=faceset.load_image(record),
                      face_landmarks=landmarks_in_crop(record.frame_landmarks,
                                                       record.face_from_frame),
                      face_from_frame=record.face_from_frame, pose=record.pose,
                      blendshapes=record.blendshapes, time=0.0, track=track)


def test_stubble_is_hair_on_a_smooth_chin_and_left_as_it_is_on_a_bearded_one(
        extracted: Callable[..., Faceset], smooth_chin: TargetFace) -> None:
    """Kit Harington's stubble beard restyled as hair onto d18's smooth chin, but not
    onto Paul Rudd's stubble nor onto Kit himself: greyed there, the source's stubble
    came out grey-green inside the target's own beard (the streamer onto himself)."""
    source = extracted(BEARDED, max_frames=1, crop_size=CROP)
    engine = MeshEngine(source)
    assert engine.swap_face(smooth_chin).hair is not None
    stubbled = _face_of(extracted(STUBBLE, max_frames=1, crop_size=CROP), track=1)
    assert engine.swap_face(stubbled).hair is None
    assert engine.swap_face(_face_of(source, track=2)).hair is None


def test_face_folds_are_no_beard_of_the_targets_own(
        extracted: Callable[..., Faceset]) -> None:
    """The shouting woman's folds round her mouth read 0.33 as stubble: at a line of 0.02
    she counted as bearded and the source's stubble came back onto her as a brown band.
    Ended, a track's verdict goes with it."""
    engine = MeshEngine(extracted(BEARDED, max_frames=1, crop_size=CROP))
    shouting = _face_of(extracted("still_woman_shouting.jpg", max_frames=1, crop_size=CROP),
                        track=3)
    assert engine.swap_face(shouting).hair is not None
    beards = TargetBeards()
    stubbled = _face_of(extracted(STUBBLE, max_frames=1, crop_size=CROP), track=4)
    assert beards.bearded(4, stubbled.image, stubbled.face_landmarks)
    beards.forget(4)
    assert not beards.bearded(4, shouting.image, shouting.face_landmarks)


def test_the_nostrils_and_mouth_corners_are_no_hair(smooth_chin: TargetFace) -> None:
    """Their shadows are no stubble: greyed as hair they came out ashy on Obama."""
    landmarks = smooth_chin.face_landmarks
    zone = beard_zone(landmarks, CROP)
    hair = hair_zone(landmarks, zone)
    points = landmarks[:, :2]
    width = float(np.linalg.norm(points[61] - points[291]))
    outward = (points[61] - points[291]) / width
    corners = [points[61] + 0.1 * width * outward, points[291] - 0.1 * width * outward]
    for name, (x, y) in [("nostril", points[98]), ("nostril", points[327]),
                         *[("corner", point) for point in corners]]:
        row, column = round(float(y)), round(float(x))
        assert zone[row, column] > 0.5, name
        assert hair[row, column] < 0.2, name
    x, y = np.round(points[18]).astype(int)  # below the lip: hair
    assert hair[y, x] > 0.9


def test_lit_specks_as_hair_are_held_near_their_surroundings() -> None:
    """Ginger hairs lit up 40 grey levels above the band round them read as light
    mottling: as hair they are at most a few grey levels above it."""
    size = 128
    rng = np.random.default_rng(3)
    face = np.full((size, size, 3), 160.0, dtype=np.float32)
    rows = np.arange(size)[:, None] * np.ones((1, size))
    specks = (rows >= 64) & (rng.random((size, size)) < 0.1)
    face[specks] += 40.0
    zone = (rows >= 56).astype(np.float32)
    skin = (rows < 48).astype(np.float32)
    grey = cv2.cvtColor(stubble_as_hair(face, zone, skin, size), cv2.COLOR_RGB2GRAY)
    inner = (rows >= 72) & (rows < 120)
    assert float(np.median(grey[inner & specks]) - np.median(grey[inner & ~specks])) < 20.0


def test_a_smiling_targets_corner_skin_is_shaved_and_the_rest_stays_hair(
        smooth_chin: TargetFace) -> None:
    """Where the target smiles, the skin round its mouth corners is shaved of the source's
    stubble (the streamer's moustache ends and goatee read as corners held down: d18's
    smile 0.17-0.22 read 0.06-0.08); the goatee, the moustache's middle and the lips are
    not, and a target that does not smile keeps it all as hair."""
    landmarks = smooth_chin.face_landmarks
    zone = beard_zone(landmarks, CROP)
    assert corners_shave_share(0.05) == 0.0
    assert smiling_corners(landmarks, zone, corners_shave_share(0.05)) is None
    band = smiling_corners(landmarks, zone, corners_shave_share(0.2))
    assert band is not None
    points = landmarks[:, :2]
    width = float(np.linalg.norm(points[61] - points[291]))
    outward = (points[61] - points[291]) / width
    for x, y in (points[61] + 0.1 * width * outward, points[291] - 0.1 * width * outward):
        assert band[round(float(y)), round(float(x))] > 0.9  # beside each corner
    for kept in (18, 200, 164, 0, 17):  # the goatee, the chin, the moustache, the lips
        x, y = np.round(points[kept]).astype(int)
        assert band[y, x] < 0.05, kept
    half = smiling_corners(landmarks, zone, corners_shave_share(0.15))
    assert half is not None
    np.testing.assert_allclose(half, 0.5 * band, atol=1e-6)
    # No beard zone round the corners (a face cut by the crop's edge): nothing to shave,
    # so the engine's box over it (empty) is not worked on.
    assert smiling_corners(landmarks, np.zeros_like(zone), corners_shave_share(0.2)) is None


def test_the_engine_shows_a_smiling_targets_own_corner_skin(
        extracted: Callable[..., Faceset], smooth_chin: TargetFace,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The streamer's moustache and goatee (a video source: its stubble is found over its
    frames) restyled as hair onto d18's smooth chin, d18 smiling: the skin beside the
    mouth corners is nearer d18's own than the same swap without the corners' shave
    (whose moustache ends there read as corners held down), and nothing else moves."""
    source = extracted(STREAMER, max_frames=12, crop_size=CROP)
    names = list(BLENDSHAPE_NAMES)
    smiling = smooth_chin.blendshapes.copy()
    smiling[[names.index("mouthSmileLeft"), names.index("mouthSmileRight")]] = 0.3
    assert mean_smile(smiling) == pytest.approx(0.3)
    target = replace(smooth_chin, blendshapes=smiling)
    landmarks = smooth_chin.face_landmarks
    corners = smiling_corners(landmarks, beard_zone(landmarks, CROP),
                              corners_shave_share(0.3))
    assert corners is not None
    engine = MeshEngine(source)
    shaved_face = engine.swap_face(target)
    assert shaved_face.hair is not None  # his stubble is restyled as hair
    # Eased per track: a frame whose smile reads 0 right after does not pop back.
    resting = smooth_chin.blendshapes.copy()
    resting[[names.index("mouthSmileLeft"), names.index("mouthSmileRight")]] = 0.0
    unsmiling = replace(smooth_chin, blendshapes=resting)
    next_face = engine.swap_face(unsmiling)
    # ... and a track ended forgets it: a new face on it is swapped as by a fresh engine.
    engine.end_track(smooth_chin.track)
    np.testing.assert_array_equal(engine.swap_face(unsmiling).image,
                                  MeshEngine(source).swap_face(unsmiling).image)
    monkeypatch.setattr("facedub.engines.mesh.smiling_corners", lambda *_: None)
    kept_face = MeshEngine(source).swap_face(target)
    own = smooth_chin.image.astype(np.float32)
    beside, away = corners > 0.9, corners < 0.01

    def off(face: np.ndarray, where: np.ndarray) -> float:
        return float(np.abs(face.astype(np.float32) - own).mean(axis=2)[where].mean())

    assert off(shaved_face.image, beside) < 0.7 * off(kept_face.image, beside)  # 9.8, 16.0
    assert off(next_face.image, beside) < 0.7 * off(kept_face.image, beside)
    moved = np.abs(shaved_face.image.astype(int) - kept_face.image.astype(int))
    assert moved[away].max() <= 2  # the shave's soft edge, a level or two


def test_the_corners_shave_brings_no_moustache_of_the_targets(
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace],
        moustache_ends: Callable[..., np.ndarray],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The shave takes the source's stubble away and never brings the target's own dark
    hair: dark strokes painted beside a smiling woman's corners (d10) do not come onto the
    streamer's face (his stubble there as dark against its surroundings: a region gate,
    `not_darker`, let them through, 56 grey levels against 97 without the shave)."""
    source = extracted(STREAMER, max_frames=12, crop_size=CROP)
    target = first_target_face("clip_liveportrait_d10_woman_expressions.mp4", CROP)
    strokes = moustache_ends(target.face_landmarks, CROP)
    painted = target.image.copy()
    painted[strokes > 0] = (painted[strokes > 0] * 0.35).astype(np.uint8)
    names = list(BLENDSHAPE_NAMES)
    smiling = target.blendshapes.copy()
    smiling[[names.index("mouthSmileLeft"), names.index("mouthSmileRight")]] = 0.4
    face = replace(target, image=painted, blendshapes=smiling)

    def strokes_grey() -> float:
        swapped = MeshEngine(source, MeshEngineConfig(follow=1.0, read_eyes=False))
        image = swapped.swap_face(face).image.astype(np.float32).mean(axis=2)
        return float(image[strokes > 0].mean())

    shaved_grey = strokes_grey()
    monkeypatch.setattr("facedub.engines.mesh.smiling_corners", lambda *_: None)
    assert shaved_grey > strokes_grey() - 3.0  # not darker than his stubble there


def test_a_photo_sources_corners_are_left_to_the_corners_gate(
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Paul Rudd's stubble (a photo source) restyled as hair onto d18 smiling 0.19: how
    much of d18's own corners shows is the corners' gate's (as far as he smiles more than
    the source), and the corners' shave, ramped by d18's smile alone, does not lift what
    the gate leaves of Paul Rudd's (his corner crease went, and Katie Hill's paler skin
    came: her smile 0.19 read 0.33 where it read 0.28 without the shave, readme-photo's
    frame 0). The swap is the swap without the shave, to the bit. d18 is known as another
    person (the shape move alone did not tell his face from Paul Rudd's here, and one
    person's own stubble is no hair)."""
    smooth_chin = first_target_face(TALKING, CROP, person=True)
    source = extracted(STUBBLE, crop_size=CROP)
    assert len(source.faces_of()) == 1
    names = list(BLENDSHAPE_NAMES)
    smiling = smooth_chin.blendshapes.copy()
    smiling[[names.index("mouthSmileLeft"), names.index("mouthSmileRight")]] = 0.19
    target = replace(smooth_chin, blendshapes=smiling)
    assert corners_shave_share(mean_smile(smiling)) > 0.8  # the shave's own ramp: nearly all
    swapped = MeshEngine(source).swap_face(target)
    assert swapped.hair is not None  # his stubble is restyled as hair
    monkeypatch.setattr("facedub.engines.mesh.smiling_corners", lambda *_: None)
    np.testing.assert_array_equal(swapped.image, MeshEngine(source).swap_face(target).image)


ROUGH = "clip_metricaltracker_wojtek_headturn.mp4"  # short stubble of his own, read 0.15-0.31


@pytest.mark.parametrize(("name", "moustache"), [(STUBBLE, 0.0), (BEARDED, 1.0)])
def test_a_moustache_is_told_from_a_dotted_upper_lip(extracted: Callable[..., Faceset],
                                                     name: str, moustache: float) -> None:
    """At the swap's source size (512 px): Paul Rudd's shaved stubble only dots his upper
    lip (5.7 L* darker than his skin round it); Kit Harington's moustache darkens it (22)."""
    faceset = extracted(name, max_frames=1, crop_size=512)
    record = faceset.faces_of()[0]
    landmarks = landmarks_in_crop(record.frame_landmarks, record.face_from_frame)
    assert source_moustache([lambda: (faceset.load_image(record), landmarks)]) == moustache


def test_dots_show_only_on_a_face_seen_large() -> None:
    """The speck band's width in frame pixels: the README pair's 440 px crop at about one
    crop pixel per frame pixel shows them; the smoker's 168 px GIF face does not, nor does
    a 440 px crop of a face 2.5 times smaller in its frame."""
    def matrix(crop_per_frame: float) -> np.ndarray:
        return np.array([[crop_per_frame, 0.0, 5.0], [0.0, crop_per_frame, 7.0]])
    assert dots_shown(440, matrix(0.97)) == 1.0
    assert dots_shown(168, matrix(1.0)) == 0.0
    assert dots_shown(440, matrix(2.5)) == 0.0
    assert 0.0 < dots_shown(304, matrix(1.0)) < 1.0


def test_a_targets_own_stubble_tells_it_from_a_smooth_one(
        smooth_chin: TargetFace, first_target_face: Callable[..., TargetFace]) -> None:
    """d18's smooth chin stays smooth; wojtek's short stubble (0.15-0.31, under the line
    of a beard of its own) is rough: a source's dots are in keeping there."""
    beards = TargetBeards()
    assert beards.smooth(0) == 1.0  # not judged yet
    assert not beards.bearded(0, smooth_chin.image, smooth_chin.face_landmarks)
    assert beards.smooth(0) == 1.0
    rough = first_target_face(ROUGH, 304)
    assert not beards.bearded(1, rough.image, rough.face_landmarks)
    assert beards.smooth(1) == 0.0
    beards.forget(1)
    assert beards.smooth(1) == 1.0


def _dots(grey: np.ndarray, where: np.ndarray, sigma: float) -> float:
    """Mean of how far each pixel is darker than its surroundings (blurred at `sigma`)."""
    return float(np.maximum(cv2.GaussianBlur(grey, (0, 0), sigma) - grey, 0.0)[where].mean())


def test_spread_specks_keep_their_shade_and_lose_their_dots() -> None:
    """Dark specks over an upper lip, denser in two streaks: spread, the dots (each pixel
    below its 3 px surroundings) fall to under a third, the zone's mean lightness stays
    within a grey level, and nothing moves where `smooth` is 0."""
    size = 440
    rng = np.random.default_rng(5)
    skin_rgb = np.array([205.0, 160.0, 135.0], dtype=np.float32)
    face = np.tile(skin_rgb, (size, size, 1)).astype(np.float32)
    face += rng.normal(0.0, 1.0, (size, size, 1)).astype(np.float32)
    rows, columns = np.mgrid[0:size, 0:size]
    lip = (rows >= 200) & (rows < 280)
    streaks = lip & ((np.abs(columns - 180) < 20) | (np.abs(columns - 260) < 20))
    specks = lip & (rng.random((size, size)) < np.where(streaks, 0.4, 0.1))
    face[specks] -= 45.0
    zone = (rows >= 180).astype(np.float32)
    skin = (rows < 160).astype(np.float32)
    smooth = (lip & (columns < 330)).astype(np.float32)
    grey_of = lambda image: cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)  # noqa: E731
    hair = grey_of(stubble_as_hair(face, zone, skin, size))
    spread = grey_of(stubble_as_hair(face, zone, skin, size, smooth=smooth))
    inner = lip & (rows >= 212) & (rows < 268) & (columns > 100) & (columns < 310)
    assert _dots(spread, inner, 3.0) < 0.33 * _dots(hair, inner, 3.0)
    assert abs(float(spread[inner].mean() - hair[inner].mean())) < 1.0
    assert float(hair[inner & streaks].mean()) < float(hair[inner & ~streaks].mean()) - 5.0
    assert float(spread[inner & streaks].mean()) < float(spread[inner & ~streaks].mean()) - 5.0
    untouched = smooth == 0
    np.testing.assert_array_equal(spread[untouched], hair[untouched])


def test_the_smooth_lip_is_below_the_nose_not_on_the_nostrils_lips_or_chin(
        smooth_chin: TargetFace) -> None:
    landmarks = smooth_chin.face_landmarks
    zone = beard_zone(landmarks, CROP)
    assert smooth_lip(landmarks, zone, 0.0) is None
    lip = smooth_lip(landmarks, zone, 1.0)
    assert lip is not None
    points = np.round(landmarks[:, :2]).astype(int)
    for inside in (164, 167, 393):  # the philtrum and beside it, under the nose's wings
        x, y = points[inside]
        assert lip[y, x] > 0.6, inside
    for other in (18, 200, 152, 0, 13, 79, 309):  # the chin, the lips, the nostrils
        x, y = points[other]
        assert lip[y, x] < 0.1, other
    half = smooth_lip(landmarks, zone, 0.5)
    assert half is not None and np.allclose(half, 0.5 * lip, atol=1e-6)


@pytest.mark.parametrize("name", [TALKING, KATIE])
def test_the_smooth_lip_reaches_up_to_the_nostrils(
        first_target_face: Callable[..., TargetFace], name: str) -> None:
    """Just under each nostril (a quarter of the way from the nostril's base to the lip's
    side points, and under the nose's middle) the specks are spread as on the rest of the
    lip: a cut grown past the nostrils left Paul Rudd's dots whole there, dark streaks
    under Katie Hill's nose (readme-photo, thirty-second round). Inside the nostrils'
    outline (their own shadow) nothing is spread."""
    target = first_target_face(name, CROP)
    landmarks = target.face_landmarks
    lip = smooth_lip(landmarks, beard_zone(landmarks, CROP), 1.0)
    assert lip is not None
    points = landmarks[:, :2]
    for base, below in ((97, 167), (2, 164), (326, 393)):
        x, y = np.round(points[base] + 0.25 * (points[below] - points[base])).astype(int)
        assert lip[y, x] > 0.6, (base, float(lip[y, x]))
    for nostril in (79, 309, 4):
        x, y = np.round(points[nostril]).astype(int)
        assert lip[y, x] < 0.05, nostril


def test_paul_rudds_dots_leave_a_smooth_upper_lip_and_the_rest_of_his_stubble(
        extracted: Callable[..., Faceset], first_target_face: Callable[..., TargetFace],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Paul Rudd's stubble onto d18 seen at 408 px (the expr-neutral pair): the upper lip's
    dots fall to under half, its shade stays within 1.5 grey levels, the chin is as it
    was (to a grey level's rounding on 16 of its 5885 pixels).
    Kit Harington's moustache is left as it is."""
    target = first_target_face(TALKING, 408, person=True)  # another person (as in a swap)
    points = np.round(target.face_landmarks[:, :2]).astype(np.int32)
    upper = np.zeros((408, 408), np.uint8)
    cv2.fillConvexPoly(upper, cv2.convexHull(points[[167, 164, 393, 37, 0, 267, 92, 322]]), 1)
    upper = cv2.erode(upper, np.ones((5, 5), np.uint8)) > 0
    chin = beard_region(target.face_landmarks, 408, np.ones((408, 408), dtype=bool))
    chin &= np.arange(408)[:, None] > points[17, 1] + 10

    def faces(name: str) -> tuple[np.ndarray, np.ndarray]:
        source = extracted(name, max_frames=1, crop_size=512)
        engine = MeshEngine(source)
        try:
            spread = engine.swap_face(target).image.astype(np.float32)
        finally:
            engine.close()
        with monkeypatch.context() as patched:
            patched.setattr("facedub.engines.mesh.smooth_lip", lambda *_: None)
            engine = MeshEngine(source)
            try:
                dotted = engine.swap_face(target).image.astype(np.float32)
            finally:
                engine.close()
        return cv2.cvtColor(spread, cv2.COLOR_RGB2GRAY), cv2.cvtColor(dotted, cv2.COLOR_RGB2GRAY)

    spread, dotted = faces(STUBBLE)
    assert _dots(spread, upper, 3.0) < 0.5 * _dots(dotted, upper, 3.0)
    assert abs(float(spread[upper].mean() - dotted[upper].mean())) < 1.5
    moved = np.abs(spread - dotted)[chin]  # rounding where the lip's soft edge ends
    assert moved.max() <= 1.0 and np.mean(moved > 0) < 0.01
    spread, dotted = faces(BEARDED)
    np.testing.assert_array_equal(spread, dotted)

"""A snarl's folds (the grimace photo's raised upper lip and wrinkled nose deepen its upper
nasolabial folds) do not carry onto a calm target, while a face whose folds are its own (an
older face, a smile) keeps them (issue 17, expr-grimace). Real faces from
../shared/data/faces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedub import media
from facedub.engines.base import TargetFace
from facedub.engines.mesh import MeshEngine, MeshEngineConfig
from facedub.engines.mesh_expression import wrinkled_shares
from facedub.engines.mesh_expression_regions import LineRegion, RegionMaps, region_weights
from facedub.faces.align import landmarks_in_crop
from facedub.faces.landmarks import BLENDSHAPE_NAMES
from facedub.faceset import Faceset
from target_support import target_from_frame

GRIMACE = "still_man_angry_grimace.png"  # a snarl: upper lip raised (0.18), nose wrinkled
OLDER = ("still_rowan_atkinson_older_man.jpg", "still_elderly_woman_smile.jpg")  # own folds
RAISED_LIP = ("still_biden_frontal.jpg", "still_woman_ball_occlusion_lowres.jpg")  # smooth noses
TALKING = "clip_liveportrait_d18_man_frontal_mouth.mp4"  # frame 0: neutral, no smile
CROP = 256
FOLDS = "snarl folds"
# The upper nasolabial fold on both sides (template units; the nose wing at (+-0.30, 0.65),
# the mouth corners at (+-0.40, 1.09)), below the nose's sides, which the nose's lift takes.
_FOLD = ((0.30, 0.62), (0.44, 0.60), (0.58, 0.86), (0.58, 1.08), (0.48, 1.12), (0.38, 0.84))


@pytest.fixture(scope="module")
def calm(extracted: Callable[..., Faceset], faces_dir: Path) -> TargetFace:
    """The talking man's first frame, aligned as the swap aligns it."""
    record = extracted(TALKING, max_frames=1, crop_size=CROP).faces_of()[0]
    frame = next(media.iter_frames(faces_dir / TALKING))
    return target_from_frame(frame.image, record.frame_landmarks, CROP, record.pose,
                             record.blendshapes)


def _fold(target: TargetFace) -> np.ndarray:
    """(CROP, CROP) bool: the upper nasolabial folds on the target's mesh."""
    region = LineRegion("fold", (_FOLD, tuple((-x, y) for x, y in _FOLD)), ())
    return RegionMaps(target.face_landmarks[:, :2], CROP).region(region) > 0.5


def _depth(image: np.ndarray, where: np.ndarray) -> float:
    """The mean depth (grey levels) of the dark lines over `where`: each pixel below the
    skin either side of it across 15 px (a closing's black-hat): a fold, not only a crease."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15))
    return float((cv2.morphologyEx(grey, cv2.MORPH_CLOSE, kernel) - grey)[where].mean())


def _lined_and_not(faceset: Faceset, target: TargetFace) -> tuple[np.ndarray, np.ndarray]:
    """The source on the target through the engine with and without the expression lines."""
    def swapped(lines: bool) -> np.ndarray:
        engine = MeshEngine(faceset, MeshEngineConfig(follow=1.0, target_expression_lines=lines))
        try:
            return engine.swap_face(target).image
        finally:
            engine.close()
    return swapped(True), swapped(False)


def _with(target: TargetFace, **values: float) -> TargetFace:
    blendshapes = target.blendshapes.copy()
    for name, value in values.items():
        blendshapes[BLENDSHAPE_NAMES.index(name)] = value
    return replace(target, blendshapes=blendshapes)


def _shares(faceset: Faceset) -> dict[str, float]:
    """`wrinkled_shares` of the photo's face on its own crop (as `SourceWrinkles` reads it)."""
    record = faceset.faces_of()[0]
    return wrinkled_shares(faceset.load_image(record),
                           landmarks_in_crop(record.frame_landmarks, record.face_from_frame))


def test_a_snarl_s_folds_are_lifted_onto_a_calm_target(
        extracted: Callable[..., Faceset], calm: TargetFace) -> None:
    """Through the engine, the grimace's upper nasolabial folds come out shallower on a
    calm target than without the expression lines (main: as deep), nothing darkened there."""
    lined, unlined = _lined_and_not(extracted(GRIMACE, crop_size=CROP), calm)
    fold = _fold(calm)
    assert _depth(lined, fold) < 0.92 * _depth(unlined, fold)  # 4.65 against 5.29; main 5.25
    change = (cv2.cvtColor(lined, cv2.COLOR_RGB2GRAY).astype(int)
              - cv2.cvtColor(unlined, cv2.COLOR_RGB2GRAY))
    assert change[fold].min() >= -2


def test_a_smiling_target_keeps_the_folds(
        extracted: Callable[..., Faceset], calm: TargetFace) -> None:
    """A target that smiles, raises its own upper lip or sneers above its usual folds its
    cheeks itself: the source's folds are not lifted there (wholly from 0.3 above it)."""
    source = extracted(GRIMACE, crop_size=CROP).faces_of()[0].blendshapes
    assert region_weights(source, calm.blendshapes, calm.blendshapes).lift[FOLDS] == 1.0
    for name in ("mouthSmileLeft", "mouthUpperUpRight", "noseSneerLeft"):
        own = float(calm.blendshapes[BLENDSHAPE_NAMES.index(name)])  # d18's smile 0.21
        shown = _with(calm, **{name: own + 0.35})
        assert region_weights(source, shown.blendshapes, calm.blendshapes).lift[FOLDS] == 0.0
        # ... and the target's usual smile is no smile shown (a face that smiles at rest)
        assert region_weights(source, shown.blendshapes, shown.blendshapes).lift[FOLDS] == 1.0


@pytest.mark.parametrize("name", OLDER)
def test_an_older_face_keeps_its_own_folds(
        extracted: Callable[..., Faceset], calm: TargetFace, name: str) -> None:
    """Older faces' folds at rest are who they are: neither cue of a snarl is there (no
    raised upper lip, no wrinkled nose beyond the face's own lines), so their folds are
    not lifted at all."""
    faceset = extracted(name, crop_size=CROP)
    source = faceset.faces_of()[0].blendshapes
    assert region_weights(source, calm.blendshapes, calm.blendshapes).lift[FOLDS] == 0.0
    assert _shares(faceset)[FOLDS] == 0.0


@pytest.mark.parametrize("name", RAISED_LIP)
def test_a_raised_lip_alone_is_no_snarl(
        extracted: Callable[..., Faceset], calm: TargetFace, name: str) -> None:
    """A source whose upper lip is raised in a smile (MediaPipe's mouthUpperUp 0.43-0.77)
    without a wrinkled nose: the lip's cue is there, the nose's gate shuts the lift."""
    faceset = extracted(name, crop_size=CROP)
    source = faceset.faces_of()[0].blendshapes
    assert region_weights(source, calm.blendshapes, calm.blendshapes).lift[FOLDS] > 0.0
    assert _shares(faceset)[FOLDS] == 0.0
    grimace = _shares(extracted(GRIMACE, crop_size=CROP))
    assert grimace[FOLDS] == 1.0 and grimace["nose"] == 1.0

"""The bare forehead above raised brows taken for an occluder (occlusion-mic, the pair's
frames 70-112: the stage clip's 160-202). The performer raises his brows; the occluder net
marks the lined skin above them at 0.64-0.78, over the mask's ramp, so the target's own
forehead is kept over 11-42% of the band just above the brows (softly, on frames 70-88 and
94-108; none on 0-60), and on 88-90 (the clip's 178-180) the colour completion grows the mark
over the whole band: not through colour (the band is 1-2 from the cheeks' colours, NOT_SKIN
4.5) but by its hysteresis, every pixel the net marks over GROW (0.2) joined to one over SEED
(0.5) raised to 1: 62-64% kept with a hard edge (1.0, 1.0, 0.83 a pixel), a pale block over
the swapped brows at 1x. No cue tells the band from a fringe by its look; older-glasses' blonde
fringe over the same band is grown the other way (0.1-0.2 from the net, 6-9 from the cheeks'
colours), and its edge must stay. A candidate that eases the skin-coloured growth in by its
depth (branch r52-B, commit c349798: 0.49/0.42/0.41, the fringe kept) was not shipped: it moves
nine pairs and was not checked over four ids (BENCHMARKS.md, fifty-second round). The block is
kept as a strict xfail, the fringe's edge as a passing test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.composite.occlusion import OccluderModel, OcclusionMasks
from facedub.faces.align import align_face
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

STAGE = "clip_facerecognition_hamilton_multiface_mic.mp4"
FIRST, LAST = 166, 182  # the track starts fresh at FIRST (the pair's 76); the block at 180-182
LOOKED = (180, 182)
SIZE = 160  # the swap composites his face at 160 px
# older-glasses' target: her blonde fringe sweeps over her forehead above her right brow,
# near the skin's colours yet unlike them (6-9 from the cheeks', where the net marks
# 0.1-0.2): the colour completion takes it whole, with its edge.
FRINGE = "clip_videoretalking_5_older_woman_glasses.mp4"
FRINGE_FRAMES = (0, 2)
FRINGE_SIZE = 192
BROW_TOPS = (70, 63, 105, 66, 107, 300, 293, 334, 296, 336)
BAND = 0.3  # eye-corner distances above the brows' top: bare skin, under his hairline


def _forehead_bands(clip: Path, first: int, last: int, looked: tuple[int, ...], size: int
                    ) -> dict[int, np.ndarray]:
    """The occlusion mask over the band above the brows (from BAND eye distances above
    their top to 2 px above it, between their outer ends) on each `looked` frame, the
    track followed from `first`."""
    masks = OcclusionMasks(OccluderModel())
    out = {}
    with FaceAnalyser(max_faces=2, model_path=resolve_landmarker_model()) as analyser:
        for frame in media.iter_frames(clip, indices=set(range(first, last + 1))):
            face = max(analyser.analyse(frame.image, frame.time),
                       key=lambda f: float(f.box[2] - f.box[0]))
            aligned = align_face(frame.image, face.landmarks, size, "whole")
            mask = masks(0, frame.time, aligned.image, aligned.face_landmarks).mask
            if frame.index in looked:
                points = aligned.face_landmarks
                spacing = float(np.linalg.norm(points[33, :2] - points[263, :2]))
                top = float(points[list(BROW_TOPS), 1].min())
                left, right = points[[70, 46], 0].min(), points[[300, 276], 0].max()
                out[frame.index] = mask[int(top - BAND * spacing):int(top - 2),
                                        int(left):int(right) + 1]
    return out


def _steepest(band: np.ndarray) -> float:
    """The band's largest change between neighbouring pixels."""
    return max(float(np.abs(np.diff(band, axis=0)).max()),
               float(np.abs(np.diff(band, axis=1)).max()))


@pytest.fixture(scope="module")
def forehead_bands(faces_dir: Path) -> dict[int, np.ndarray]:
    """occlusion-mic's band above his raised brows, on LOOKED."""
    return _forehead_bands(faces_dir / STAGE, FIRST, LAST, LOOKED, SIZE)


def test_the_band_is_read(forehead_bands: dict[int, np.ndarray]) -> None:
    """The measure's own check: the band is a strip of the forehead (10-20 rows of 160)."""
    for band in forehead_bands.values():
        assert 8 <= band.shape[0] <= 24 and band.shape[1] > 3 * band.shape[0]


@pytest.mark.xfail(strict=True, reason="the colour completion's hysteresis raises the net's "
                   "weak marks on the raised forehead to 1: a hard-edged block (not shipped: "
                   "BENCHMARKS.md, fifty-second round)")
def test_no_hard_edged_block_over_the_raised_forehead(
        forehead_bands: dict[int, np.ndarray]) -> None:
    """Over the bare band above his raised brows the mask changes by at most 0.5 between
    neighbouring pixels (main: 0.83 on 180, 0.12-0.27 on the soft frames; the candidate
    eased growth 0.41)."""
    for index, band in forehead_bands.items():
        step = _steepest(band)
        assert step <= 0.5, f"frame {index}: a step of {step:.2f} a pixel"


def test_a_fringe_over_the_forehead_keeps_its_edge(faces_dir: Path) -> None:
    """older-glasses' blonde fringe over the same band is kept, its edge whole (main: a
    third of the band kept, a step of 0.99-1.0 on frames 0 and 2): what softens the raised
    forehead's block must leave it (a first candidate that eased every grown pixel by its
    colour distance faded it: 400-500 fewer of her 2500 pixels kept over 0.5 at 192 px)."""
    bands = _forehead_bands(faces_dir / FRINGE, 0, FRINGE_FRAMES[-1], FRINGE_FRAMES,
                            FRINGE_SIZE)
    for index, band in bands.items():
        assert float(band.mean()) >= 0.28 and _steepest(band) >= 0.9, \
            (index, float(band.mean()), _steepest(band))

"""The glasses' span cuts the occlusion mask (the swapped eyes and brows show through the
lenses) with its straight top for an edge. d12 tilts his head back at frames 164-174, the net
and the colour cue mark his forehead under the fringe down into the span, and the mask stops
at the span's top: the target's skin kept above it, the swapped brows cut off under it, a pale
shelf across the brows at 1x. A fade above the span's top (a 24th of the crop) took the shelf
away but also thinned real fringes over the brows (older-glasses) and moved expr-smile-older
and older-glasses away from the source at four ids: reverted, the finding kept here as a strict
xfail (BENCHMARKS.md, fifty-first round)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.composite.occlusion import OccluderModel, OcclusionMasks
from facedub.faces.align import align_face
from facedub.faces.glasses_cues import glasses_span
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

D12 = "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"
FIRST, LAST = 150, 174  # the track starts fresh at FIRST; the head tilts back from 164
LOOKED = range(164, LAST + 1, 2)
SIZE = 512
SPAN_FADE = 1 / 24  # the reverted fade's reach, as a share of the crop: the top's flat part


@pytest.fixture(scope="module")
def tilted(faces_dir: Path) -> list[tuple[int, float, np.ndarray, np.ndarray]]:
    """d12's frames FIRST..LAST aligned at 512 px: (index, time, crop, landmarks)."""
    out: list[tuple[int, float, np.ndarray, np.ndarray]] = []
    with FaceAnalyser(max_faces=1, model_path=resolve_landmarker_model()) as analyser:
        for index, frame in enumerate(media.iter_frames(faces_dir / D12)):
            if index > LAST:
                break
            if index < FIRST:
                continue
            faces = analyser.analyse(frame.image, frame.time)
            assert faces, f"no face in d12's frame {index}"
            aligned = align_face(frame.image, faces[0].landmarks, SIZE, "whole")
            out.append((index, frame.time, aligned.image, aligned.face_landmarks))
    return out


def _masks(frames: list[tuple[int, float, np.ndarray, np.ndarray]]
           ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The occlusion mask of each looked-at frame, with the frame's landmarks, the track
    judged as wearing glasses (as the swap judges d12's)."""
    masks = OcclusionMasks(OccluderModel(), worn={0: 1.0})
    out = {}
    for index, time, image, landmarks in frames:
        mask = masks(0, time, image, landmarks).mask
        if index in LOOKED:
            out[index] = (mask, landmarks)
    return out


def _tops(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The span's top row in each column that has one, and those columns, over its top
    only (not its rounded sides: within SPAN_FADE of the crop below its highest row)."""
    span = glasses_span(landmarks, SIZE) > 0
    columns = np.flatnonzero(span.any(axis=0))
    tops = span[:, columns].argmax(axis=0)
    flat = tops < tops.min() + SPAN_FADE * SIZE / 2
    return tops[flat], columns[flat]


@pytest.mark.xfail(strict=True, reason="the span's straight top cuts the forehead's marks "
                   "(a fade thinned real fringes and moved two pairs away from the source)")
def test_marks_over_the_forehead_fade_out_above_the_span(
        tilted: list[tuple[int, float, np.ndarray, np.ndarray]]) -> None:
    """Just above the span's top (3 px) the mask keeps at most 0.3 where the span's top
    row keeps nothing: on main 1.0 over 33-65% of the top's columns on each of 164-174."""
    for index, (mask, landmarks) in _masks(tilted).items():
        tops, columns = _tops(landmarks)
        above = mask[tops - 3, columns]
        at = mask[tops, columns]
        step = above - at
        assert step.max() < 0.3, (index, float(step.max()), float((step > 0.5).mean()))

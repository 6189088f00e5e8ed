"""The glasses' span cuts the occlusion mask (the swapped eyes and brows show through the
lenses), but its top is no hard edge: marks that run down the forehead into the span fade
out above it. d12 tilts his head back at frames 164-174, the net and the colour cue mark
his forehead under the fringe down into the span, and the mask stopped at the span's
straight top: the target's skin kept above it, the swapped brows cut off under it, a
pale shelf across the brows at 1x (BENCHMARKS.md, fifty-first round)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facedub import media
from facedub.composite import occlusion
from facedub.composite.occlusion import (
    SPAN_FADE,
    OccluderModel,
    OcclusionMasks,
    span_fade_above,
)
from facedub.faces.align import align_face
from facedub.faces.glasses_cues import glasses_span
from facedub.faces.landmarks import FaceAnalyser, resolve_landmarker_model

D12 = "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"
FIRST, LAST = 150, 174  # the track starts fresh at FIRST; the head tilts back from 164
LOOKED = range(164, LAST + 1, 2)
SIZE = 512


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


def test_the_fade_reaches_no_further_than_its_rows(
        tilted: list[tuple[int, float, np.ndarray, np.ndarray]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Farther above the span than SPAN_FADE of the crop, and on the span itself, the mask
    is what the hard cut gives (the fade off: SPAN_FADE 0)."""
    faded = _masks(tilted)
    monkeypatch.setattr(occlusion, "SPAN_FADE", 0.0)
    hard = _masks(tilted)
    marked = 0
    for index, (mask, landmarks) in faded.items():
        before = hard[index][0]
        span = glasses_span(landmarks, SIZE) > 0
        tops = np.where(span.any(axis=0), span.argmax(axis=0), SIZE)
        rows = np.arange(SIZE)[:, None]
        reach = int(np.ceil(SPAN_FADE * SIZE))
        untouched = span | (rows < tops[None, :] - reach) | (rows >= tops[None, :])
        assert np.array_equal(mask[untouched], before[untouched]), index
        assert (mask <= before + 1e-6).all(), index  # it only takes marks away
        marked += int((before[~untouched] > 0.5).sum())
    assert marked > 0  # the fade had marks to take on these frames


def test_span_fade_above_a_drawn_span() -> None:
    """1 - (d - 1/2) / reach at d rows above the top, 0 on and below it; none over the
    sides whose top lies `reach` or more below the highest row."""
    span = np.zeros((6, 8), np.uint8)
    span[:, 2:6] = 255  # the flat top at row 0
    span[1:, 6] = 255  # a shoulder one row lower
    span[4:, 0] = 255  # a side four rows lower
    fade = span_fade_above(span, 4.0)
    assert fade is not None and fade.shape == (4 + 6, 8)
    assert np.allclose(fade[:4, 3], [1 - 3.5 / 4, 1 - 2.5 / 4, 1 - 1.5 / 4, 1 - 0.5 / 4])
    assert np.allclose(fade[4:, 2:6], 0.0)  # on the span and below its top
    assert np.isclose(fade[4, 6], 1 - 0.5 / 4) and fade[5:, 6].max() == 0.0
    assert fade[:, 0].max() == 0.0 and fade[:, 1].max() == 0.0 and fade[:, 7].max() == 0.0
    assert span_fade_above(np.zeros((3, 3), np.uint8), 4.0) is None

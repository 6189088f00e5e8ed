"""The refiner's renderings made as a swap makes its face (RefineConfig.renderings
"halves"): each half of the source's training faces from the whole other half, the
held-out stretch from all training faces (BENCHMARKS.md, Refiner, twenty-fourth round)."""

from __future__ import annotations

import importlib
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from facedub.errors import FacedubError
from facedub.faceset import Faceset
from facedub.models.refiner_run import read_refiner_info
from facedub.progress import NoProgress
from facedub.train.refine import _render_pairs, refine
from facedub.train.refine_config import RefineConfig
from facedub.train.refine_data import HOLDOUT_GAP, THINNED_SHARES, FaceSplit, split_faces
from facedub.train.refine_run import saved_holdout_share, saved_renderings

# The module, not the function `refine` that facedub.train.refine's name resolves to.
refine_module = importlib.import_module("facedub.train.refine")


def test_the_halves_are_two_stretches_of_time_and_the_held_out_one_sees_them_all() -> None:
    split = split_faces(300, holdout_share=0.15, renderings="halves")
    training = np.concatenate([split.train_a, split.train_b])
    # The same held-out stretch and gap as the blocks'.
    assert split.held.tolist() == split_faces(300, 0.15).held.tolist() == list(range(255, 300))
    assert split.held.min() - training.max() > HOLDOUT_GAP
    # Two contiguous halves, each rendered from the whole of the other.
    assert split.train_a.tolist() == list(range(0, len(training) // 2))
    assert split.train_b.tolist() == list(range(len(training) // 2, len(training)))
    jobs = split.training_jobs()
    assert [(a.tolist(), b.tolist()) for a, b in jobs] == [
        (split.train_a.tolist(), split.train_b.tolist()),
        (split.train_b.tolist(), split.train_a.tolist())]
    # The held-out stretch from every training face (a swap's target from its source),
    # never from itself.
    (held, sources), = split.held_jobs()
    assert held.tolist() == split.held.tolist()
    assert sorted(sources.tolist()) == sorted(training.tolist())
    # An engine over the whole other half renders a face one way: one copy, unthinned.
    assert split.thinned_shares() == (1.0,) and split.copies(2) == 1
    blocks = split_faces(300, 0.15)
    assert blocks.thinned_shares() == THINNED_SHARES and blocks.copies(2) == 2
    assert len(blocks.held_jobs()) == 2


def test_unknown_renderings_are_refused() -> None:
    with pytest.raises(FacedubError, match="halves"):
        RefineConfig(renderings="pairs")


def test_the_halves_render_every_face_once_and_none_held_out_is_a_truth(
        pair: tuple[Faceset, Faceset], caplog: pytest.LogCaptureFixture) -> None:
    source = pair[0]  # 60 faces of the d3 clip at 128 px
    config = RefineConfig(renderings="halves", holdout_share=0.2)
    split = split_faces(len(source.faces_of()), config.holdout_share, config.renderings)
    with caplog.at_level(logging.INFO, logger="facedub.train.refine"):
        training, held = _render_pairs(source, split, config, NoProgress())
    # pairs_per_face (2, the default) is not the halves': said, not silently dropped.
    assert "one rendering of each face (pairs_per_face=2" in caplog.text
    assert sorted(training.truth.tolist()) == sorted(
        np.concatenate([split.train_a, split.train_b]).tolist())
    assert held.truth.tolist() == split.held.tolist()
    assert training.mesh.shape[1:] == (128, 128, 3) and held.mesh_mask.shape[1:] == (128, 128)
    # The mesh engine drew something of its own over each truth.
    differs = [np.abs(training.mesh[k].astype(int)
                      - training.faces.images[training.truth[k]].astype(int)).mean()
               for k in range(len(training))]
    assert min(differs) > 0.5


def test_a_resume_renders_as_the_run_started_whatever_it_is_given(
        pair: tuple[Faceset, Faceset], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI cannot set the renderings, so `facedub refine` resuming a "halves" run
    passes "blocks": its held-out faces would be rendered another way and its best state
    judged on two measures."""
    made: list[str] = []
    real_split = refine_module.split_faces

    def recording_split(count: int, share: float, renderings: str = "blocks") -> FaceSplit:
        made.append(renderings)
        return real_split(count, share, renderings)

    monkeypatch.setattr(refine_module, "split_faces", recording_split)
    settings = {"width": 4, "levels": 2, "batch": 2, "warmup": 0, "device": "cpu",
                "threads": 1, "log_every": 1, "save_every": 1, "preview_every": 1000,
                "validate_every": 1000, "holdout_share": 0.2}
    run = tmp_path / "halves"
    assert refine(pair[0], run, RefineConfig(steps=1, renderings="halves",
                                             **settings)).step == 1
    assert refine(pair[0], run, RefineConfig(steps=2, **settings)).step == 2
    assert made == ["halves", "halves"]

    # A folder from before the choice rendered "blocks", whatever a resume is given.
    info = read_refiner_info(run)
    older = {key: value for key, value in info.raw["refine_settings"].items()
             if key != "renderings"}
    assert saved_renderings(replace(info, raw={**info.raw, "refine_settings": older}),
                            "halves") == "blocks"
    # A held-out share no `RefineConfig` takes (NaN, out of range) is refused in one line;
    # NaN crashed the split with a traceback before.
    for share in (float("nan"), float("inf"), 0.9):
        hostile = {**info.raw["refine_settings"], "holdout_share": share}
        with pytest.raises(FacedubError, match="held-out share"):
            saved_holdout_share(replace(info, raw={**info.raw, "refine_settings": hostile}),
                                0.15)

"""Facesets and a tiny model configuration shared by the training tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from facedub.faceset import Faceset
from facedub.train import TrainConfig, preset_config

# The same extraction options as tests/test_extract.py, so a full run extracts once.
D3 = "clip_liveportrait_d3_woman_headturn.mp4"
D12 = "clip_liveportrait_d12_man_glasses_headturn_hand.mp4"


@pytest.fixture(scope="session")
def pair(extracted: Callable[..., Faceset]) -> tuple[Faceset, Faceset]:
    """(source, target): a woman (60 faces, 128 px crops) and a man (183 faces, 64 px)."""
    return (extracted(D3, max_frames=60, crop_size=128),
            extracted(D12, crop_size=64, identity_every=30))


@pytest.fixture(scope="session")
def d3_short(extracted: Callable[..., Faceset]) -> Faceset:
    """The pair's source clip's first 30 faces (128 px crops): for the refiners whose
    every run swaps and composites the clip's held-out stretch (and halves), half the
    work of the pair's 60 (6 faces held out, 23 training)."""
    return extracted(D3, max_frames=30, crop_size=128)


def tiny(**overrides: Any) -> TrainConfig:
    """A model small enough to train a step in tens of milliseconds on two cores."""
    settings: dict[str, Any] = {
        "res": 64, "width": 8, "latent": 32, "decoder_width": 8, "batch": 4, "lr": 1e-3,
        "warmup": 0, "device": "cpu", "threads": 1, "steps": 30, "log_every": 5,
        "save_every": 10, "preview_every": 10, "validate_every": 10, "holdout_every": 10}
    settings.update(overrides)
    return preset_config("cpu", **settings)


@pytest.fixture(scope="session")
def tiny_config() -> Callable[..., TrainConfig]:
    return tiny

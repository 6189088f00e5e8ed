"""Fifty-second round: `--dist loadgroup` (pyproject.toml) sent every test alone. pytest-xdist
3.8 puts a test's group into its node id through `item._nodeid`, which pytest 9 no longer
reads (its id is `item._id`): no test's id carried its group, so one file's tests ran on
both workers, each making the file's module fixtures (and each worker its own D3/D12
extraction). tests/conftest.py now puts the id where pytest reads it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xdist_groups import SHARED_GROUP, xdist_group_of

TESTS = Path(__file__).resolve().parent


def test_a_test_under_xdist_carries_its_files_group_in_its_id(request: pytest.FixtureRequest
                                                              ) -> None:
    if "PYTEST_XDIST_WORKER" not in os.environ:
        pytest.skip("one process (-n 0): no groups to send")
    # main: "tests/test_xdist_groups_round52.py::test_a_test_..._id", no "@"
    assert request.node.nodeid.endswith("@test_xdist_groups_round52.py"), request.node.nodeid


def test_the_shared_extraction_group_is_the_named_files_and_those_taking_its_facesets(
        ) -> None:
    assert xdist_group_of(TESTS / "engines" / "test_neural.py") == SHARED_GROUP
    assert xdist_group_of(TESTS / "train" / "test_train.py", shared=True) == SHARED_GROUP
    # The torchrun tests take no faceset: a group of their own, not behind the refiner's.
    assert xdist_group_of(TESTS / "train" / "test_elastic_restart_round47.py") == \
        "train/test_elastic_restart_round47.py"


def test_the_light_change_files_share_the_torch_frames_group() -> None:
    # Both take the torch clip's 53 aligned frames: one worker makes them once a run.
    assert xdist_group_of(TESTS / "composite" / "test_light_change_round52.py") == \
        xdist_group_of(TESTS / "composite" / "test_light_change_round53.py") == \
        "composite/test_light_change_round53.py"

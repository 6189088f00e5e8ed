"""The `--dist loadgroup` groups of the test files (tests/conftest.py gives every test its
file's; a test checks them): a module of its own, so that a test imports it by one name
(each test folder's conftest.py is a module named `conftest`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

# The test files that call `extracted(D3, max_frames=60, crop_size=128)` and
# `extracted(D12, crop_size=64, identity_every=30)` (tens of seconds on two cores). Under
# pytest-xdist every worker has its own session fixtures, so these files share one group:
# one worker runs them all and extracts once. Every other file is a group of its own.
# Those that take the two facesets as tests/train/conftest.py's `pair` are found by it
# (SHARED_EXTRACTION_FIXTURES); the others are named here. Until the fifty-second round
# the whole of tests/train/ was in the group: its gloo and torchrun tests (the elastic
# restart, the leader's verdict, the SIGHUP agreement: minutes of process start-ups under
# load) need neither faceset, yet waited behind the refiner's tests on one worker, the
# run's last minutes with the other worker idle.
SHARED_EXTRACTION = ("extract/test_extract.py", "engines/test_neural.py",
                     "engines/test_refiner.py", "models/test_export.py")
SHARED_EXTRACTION_FIXTURES = frozenset({"pair"})
SHARED_GROUP = "shared-extraction"
# Files that take the same `aligned_frames(clip, count)` as another file (a session
# fixture: each worker makes its own) join that file's group, so one worker makes the
# frames once a run: the torch clip's 53 aligned frames, both light-change files.
JOINS_GROUP = {"composite/test_light_change_round52.py": "composite/test_light_change_round53.py"}

# The groups that took longest, longest first: handed to the workers before the others
# (`--no-loadscope-reorder` in pyproject.toml keeps the order tests/conftest.py gives
# them), so that the run ends on short files with both workers busy. pytest-xdist's own
# order is by number of tests, which can leave a file of a few long tests (swaps,
# subprocesses) for the end, one worker finishing it while the other stands idle. From
# the fifty-third round's whole run of main at load ~12 (each worker's tmp folders in
# order of birth, the time to the next charged to the file of the test that made one:
# approximate; BENCHMARKS.md, "Batch, Ray and training across processes"). The shared
# extraction's group took 40 of the run's minutes on one worker; the rest, 430 s (the
# swap tests) down to ~60 s at that load; train/test_refine_composited.py, out of the
# shared group since this round, came last in this branch's whole run. A name missing
# here only loses its place.
LONGEST_FIRST: tuple[str, ...] = (
    SHARED_GROUP, "train/test_refine_composited.py", "test_swap.py",
    "batch/test_batch_frames_bar_round49.py",
    "batch/test_manifest_round39.py", "batch/test_jobs.py",
    "test_interrupted_swap_round37.py", "test_hostile_terminal_round38.py",
    "batch/test_swap_resume_round40.py", "serve/test_serve_uploads_round42.py",
    "provenance/test_watermark.py", "evaluate/test_evaluate.py",
    "evaluate/test_eval_resume_round50.py", "evaluate/test_killed_evaluation.py",
    "test_hostile_inputs_round45.py", "hostile/test_input_cases_round43.py",
    "batch/test_jobs_round39.py", "hostile/test_transparency_round42.py",
    "hostile/test_user_images_round42.py", "hostile/test_outputs.py", "test_cli.py")


def xdist_group_of(path: Path, shared: bool = False) -> str:
    """The `--dist loadgroup` group of a test file: its path below tests/ (or the file's
    whose group it joins, JOINS_GROUP), or the shared extraction's group (named in
    SHARED_EXTRACTION, or `shared`: a test of it takes a shared faceset fixture)."""
    name = path.relative_to(Path(__file__).parent).as_posix()
    if shared or name.startswith(SHARED_EXTRACTION):
        return SHARED_GROUP
    return JOINS_GROUP.get(name, name)


def handing_order(group: str) -> int:
    """Where a group is handed out: LONGEST_FIRST's in its order, then every other group
    (in the order collected)."""
    return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)


def group_of(item: pytest.Item) -> str:
    """The xdist group an item is marked with."""
    marker = item.get_closest_marker("xdist_group")
    assert marker is not None, item.nodeid
    return str(marker.kwargs.get("name", marker.args[0] if marker.args else "default"))


def in_handing_order(items: Sequence[pytest.Item]) -> list[pytest.Item]:
    """`items` (each marked with its group) with the groups in `handing_order`; the sort
    is stable, so a group's tests keep their order and stay together."""
    return sorted(items, key=lambda item: handing_order(group_of(item)))

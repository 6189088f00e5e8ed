"""The `--dist loadgroup` groups of the test files (tests/conftest.py gives every test its
file's; a test checks them): a module of its own, so that a test imports it by one name
(each test folder's conftest.py is a module named `conftest`)."""

from __future__ import annotations

from pathlib import Path

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


def xdist_group_of(path: Path, shared: bool = False) -> str:
    """The `--dist loadgroup` group of a test file: its path below tests/, or the shared
    extraction's group (named in SHARED_EXTRACTION, or `shared`: a test of it takes a
    shared faceset fixture)."""
    name = path.relative_to(Path(__file__).parent).as_posix()
    if shared or name.startswith(SHARED_EXTRACTION):
        return SHARED_GROUP
    return name

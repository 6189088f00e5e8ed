"""Fifty-third round: pytest-xdist handed the groups out by their number of tests (its
`--loadscope-reorder`), so files of one or two long tests (a command-line swap, a server
and its browser) could come last, one worker finishing them while the other stood idle.
The longest groups (tests/xdist_groups.py's LONGEST_FIRST) are now collected first and
handed out in that order (`--no-loadscope-reorder` in pyproject.toml)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xdist_groups import LONGEST_FIRST, SHARED_GROUP, group_of, handing_order, in_handing_order

TESTS = Path(__file__).resolve().parent


class _Item:
    """What the ordering reads of a collected test: its id and its group's mark."""

    def __init__(self, nodeid: str, group: str) -> None:
        self.nodeid, self.mark = nodeid, pytest.mark.xdist_group(group).mark

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return self.mark if name == self.mark.name else None


def test_every_longest_group_names_a_test_file() -> None:
    """A file renamed or removed would silently lose its place at the front."""
    assert LONGEST_FIRST[0] == SHARED_GROUP and len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
    assert [name for name in LONGEST_FIRST
            if name != SHARED_GROUP and not (TESTS / name).is_file()] == []


def test_the_longest_groups_come_first_and_every_group_stays_whole() -> None:
    assert len(LONGEST_FIRST) >= 2
    second = LONGEST_FIRST[1]
    collected = [_Item("a::one", "a.py"), _Item("s::one", SHARED_GROUP),
                 _Item("l::one", second), _Item("b::one", "b.py"),
                 _Item("s::two", SHARED_GROUP), _Item("l::two", second)]
    ordered = in_handing_order(collected)  # type: ignore[arg-type]
    assert [item.nodeid for item in ordered] == [
        "s::one", "s::two", "l::one", "l::two", "a::one", "b::one"]


def test_this_run_collected_the_groups_in_handing_order(request: pytest.FixtureRequest
                                                       ) -> None:
    ranks = [handing_order(group_of(item)) for item in request.session.items]
    assert ranks == sorted(ranks)


def test_the_controller_keeps_the_collected_order(request: pytest.FixtureRequest) -> None:
    if "PYTEST_XDIST_WORKER" not in os.environ:
        pytest.skip("one process (-n 0): nothing is handed out")
    assert request.config.getoption("loadscopereorder") is False

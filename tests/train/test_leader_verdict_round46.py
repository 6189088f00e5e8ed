"""Review R of round 46: rank 0 tells the other ranks how its check of the inputs ended
by setting a key in the process group's store, in a `finally`. A store that failed there
(its agent gone) raised its own error from the `finally`, and rank 0's real one (the
refusal the user must read) was lost."""

from __future__ import annotations

import pytest

from facedub.errors import FacedubError
from facedub.train import distributed
from facedub.train.distributed import Distributed, checked_by_leader


class _GoneStore:
    def set(self, key: str, value: str) -> None:
        raise RuntimeError("Connection reset by peer")


def _refuse() -> int:
    raise FacedubError("faces/000012.png: explicit content; the faceset is refused")


def test_a_failing_store_does_not_hide_rank_0s_refusal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distributed, "_group_store", lambda: _GoneStore())
    with pytest.raises(FacedubError, match="explicit content"):  # was: RuntimeError
        checked_by_leader(Distributed(rank=0, world=2, local_rank=0), _refuse, lambda: 0)


def test_a_failing_store_after_a_pass_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    """After a pass the store's failure is the error: the others would wait on it."""
    monkeypatch.setattr(distributed, "_group_store", lambda: _GoneStore())
    with pytest.raises(RuntimeError, match="Connection reset"):
        checked_by_leader(Distributed(rank=0, world=2, local_rank=0), lambda: 1, lambda: 0)

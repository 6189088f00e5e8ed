"""How long-running stages report progress without knowing who listens."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable


class Progress(Protocol):
    def start(self, total: int | None, description: str, unit: str | None = None
              ) -> None:
        """A bar of `total` steps; `unit` names what a step is (crops, steps) where it is
        not the listener's own (a terminal bar's frames)."""

    def advance(self, steps: int = 1) -> None: ...

    def finish(self) -> None: ...


@runtime_checkable
class Retotalled(Protocol):
    """A Progress whose bar's total can be lowered while it runs (the terminal's): a
    batch learns from its workers which frames an earlier run kept (`batch.frames`)."""

    def retotal(self, total: int) -> None: ...


@runtime_checkable
class KeptSteps(Protocol):
    """A Progress told apart which of its bar's steps an earlier run did (a resumed
    extraction's frames), as they are not this run's work: a batch worker's bar takes
    them out of the driver's total (`batch.frames`)."""

    def kept(self, steps: int) -> None: ...


@runtime_checkable
class Described(Protocol):
    """A Progress whose bar's description can change while it runs (the terminal's): a
    batch's bar names the stage of the job it waits on (`batch.frames`)."""

    def describe(self, description: str) -> None: ...


@runtime_checkable
class Waits(Protocol):
    """A Progress that can name a stage it cannot count (the terminal's): drawn, with its
    time, from `wait` until its next bar starts or `finish`. A swap said nothing for 10 s
    at its start and for 3-10 s between the target's analysis and the swap's bar."""

    def wait(self, description: str) -> None: ...


class _WaitsAfterBars:
    """`progress`, whose every bar's end is followed by `waits.wait(description)`: the
    set-up its caller does after the bars it handed on. Everything else is `progress`'s
    own (a batch worker's `kept` and `retotal` are still found)."""

    def __init__(self, progress: Progress, waits: Waits, description: str) -> None:
        self._progress = progress
        self._waits = waits
        self._description = description

    def start(self, total: int | None, description: str, unit: str | None = None
              ) -> None:
        self._progress.start(total, description, unit)

    def advance(self, steps: int = 1) -> None:
        self._progress.advance(steps)

    def finish(self) -> None:
        self._progress.finish()
        self._waits.wait(self._description)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._progress, name)


@contextlib.contextmanager
def waiting_after_bars(progress: Progress, description: str) -> Iterator[Progress]:
    """`progress` for a block whose work goes on after the bars it draws: where `progress`
    `Waits`, `description` is drawn from the end of each until the next bar (the caller's
    own) starts, and ended if the block fails (a live line left under the error)."""
    if not isinstance(progress, Waits):
        yield progress
        return
    try:
        yield _WaitsAfterBars(progress, progress, description)
    except BaseException:
        progress.finish()
        raise


def advance_kept(progress: Progress, steps: int) -> None:
    """`steps` of the bar an earlier run did: `kept` where the listener tells them apart,
    else advanced (a terminal's bar draws them done)."""
    if isinstance(progress, KeptSteps):
        progress.kept(steps)
    else:
        progress.advance(steps)


class NoProgress:
    """Reports nothing; the default for library calls and tests."""

    def start(self, total: int | None, description: str, unit: str | None = None
              ) -> None:
        del total, description, unit

    def advance(self, steps: int = 1) -> None:
        del steps

    def finish(self) -> None:
        pass

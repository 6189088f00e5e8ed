"""How long-running stages report progress without knowing who listens."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol, runtime_checkable


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


@contextlib.contextmanager
def waits_ended_on_failure(progress: Progress) -> Iterator[None]:
    """A block that names its stages on `progress` (`Waits.wait`): a stage still drawn
    when the block fails is ended, not left live under the error."""
    try:
        yield
    except BaseException:
        if isinstance(progress, Waits):
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

"""How long-running stages report progress without knowing who listens."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, total: int | None, description: str) -> None: ...

    def advance(self, steps: int = 1) -> None: ...

    def finish(self) -> None: ...


class NoProgress:
    """Reports nothing; the default for library calls and tests."""

    def start(self, total: int | None, description: str) -> None:
        del total, description

    def advance(self, steps: int = 1) -> None:
        del steps

    def finish(self) -> None:
        pass

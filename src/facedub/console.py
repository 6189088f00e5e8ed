"""The `facedub` console command (and `python -m facedub`): the command line, started so
that a Ctrl-C while it loads ends as one line and exit code 130, like a Ctrl-C later on.

Loading `facedub.cli` takes 0.1 s on an idle machine and up to a second under load. A
Ctrl-C in that time arrives before any command has set up its handling, and Python would
print the import's traceback (or the error a native module's import turned it into) and
exit 1. Nothing has been written yet then, so there is nothing to clean up.
"""

from __future__ import annotations

import sys

INTERRUPTED_EXIT = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def main() -> None:
    try:
        from facedub.cli import app
    except BaseException as error:
        if raised_from(error, (KeyboardInterrupt,)) is None:
            raise
        sys.stderr.write("interrupted while starting; nothing was written\n")
        raise SystemExit(INTERRUPTED_EXIT) from None
    app()


def raised_from(error: BaseException, kinds: tuple[type[BaseException], ...]
                ) -> BaseException | None:
    """The first exception of `kinds` in `error`'s chain (itself, then what it was raised
    from or while handling), if any. An import interrupted half way by Ctrl-C fails with
    its own error (a dataclass's `RuntimeError`, a native module's `ImportError`) whose
    context is the KeyboardInterrupt: it was a Ctrl-C all the same."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, kinds):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None

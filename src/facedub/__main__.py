"""`facedub` (the console command) and `python -m facedub`: the command line, started so
that a Ctrl-C while it loads ends as one line and exit code 130, like a Ctrl-C later on.

Loading `facedub.cli` and building its commands take 0.1 s on an idle machine and up to a
second under load. A Ctrl-C in that time arrives before any command has set up its
handling (`cli.terminal.user_errors`), and Python would print a traceback (the import's,
Typer's, or the error a native module's import turned it into). Nothing has been written
yet then, so there is nothing to clean up.

SIGTERM and SIGHUP in that time (a job runner's stop, a closed terminal) end the same way,
with one line and 143 or 129, and so do they inside a command before it sets its own
handlers: Python's default for them killed the process without a word (exit -15), and a
command's own imports (torch) take up to 15-20 s on a loaded 2-core machine. A signal the
process was started ignoring (`nohup`) stays ignored.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator

from facedub.errors import Terminated, raised_from

INTERRUPTED_EXIT = 130  # 128 + SIGINT, what a shell reports for Ctrl-C
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _raise_terminated(signum: int, frame: object) -> None:
    del frame
    raise Terminated(signum)


@contextlib.contextmanager
def _stops_raised() -> Iterator[None]:
    """SIGTERM and SIGHUP raise `Terminated` until the command line is done: while it
    loads (caught below), and inside a command before it sets its own handlers
    (`cli.terminal.terminate_cleanly`, which restores these after): a command's function
    imports its heavy modules first (torch: seconds under load), and `user_errors` ends a
    Terminated there with its own line. Only signals left at the default: an ignored one
    stays ignored, a caller's handler stays its own."""
    raised = [signum for signum in STOP_SIGNALS if signal.getsignal(signum) == signal.SIG_DFL]
    for signum in raised:
        signal.signal(signum, _raise_terminated)
    try:
        yield
    finally:
        for signum in raised:
            signal.signal(signum, signal.SIG_DFL)


def main() -> None:
    try:
        with _stops_raised():
            from facedub.cli import app

            app()
    except SystemExit:
        raise  # a command's own exit (its Ctrl-C already said so in one line)
    except BaseException as error:
        stop = raised_from(error, (KeyboardInterrupt, Terminated))
        if stop is None:
            raise
        if isinstance(stop, Terminated):
            name = signal.Signals(stop.signum).name
            sys.stderr.write(f"stopped by {name} while starting; nothing was written\n")
            raise SystemExit(stop.exit_code) from None
        sys.stderr.write("interrupted while starting; nothing was written\n")
        raise SystemExit(INTERRUPTED_EXIT) from None


if __name__ == "__main__":
    main()

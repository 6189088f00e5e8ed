"""`facedub` (the console command) and `python -m facedub`: the command line, started so
that a Ctrl-C while it loads ends as one line and exit code 130, like a Ctrl-C later on.

Loading `facedub.cli` and building its commands take 0.1 s on an idle machine and up to a
second under load. A Ctrl-C in that time arrives before any command has set up its
handling (`cli.terminal.user_errors`), and Python would print a traceback (the import's,
Typer's, or the error a native module's import turned it into). Nothing has been written
yet then, so there is nothing to clean up.
"""

from __future__ import annotations

import sys

from facedub.errors import raised_from

INTERRUPTED_EXIT = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def main() -> None:
    try:
        from facedub.cli import app

        app()
    except SystemExit:
        raise  # a command's own exit (its Ctrl-C already said so in one line)
    except BaseException as error:
        if raised_from(error, (KeyboardInterrupt,)) is None:
            raise
        sys.stderr.write("interrupted while starting; nothing was written\n")
        raise SystemExit(INTERRUPTED_EXIT) from None


if __name__ == "__main__":
    main()

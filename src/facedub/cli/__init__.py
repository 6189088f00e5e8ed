"""The `facedub` command: one subcommand per stage. Each builds a frozen config from its
options and calls one library function; errors become one line and exit code 2.

`app` is the Typer application; the command modules register on it when imported:
`files` (extract, inspect, swap, eval, verify), `learning` (train, export, refine) and
`services` (batch, serve). `terminal` holds what every command shares: the progress bar,
messages, and turning errors and signals into exit codes.
"""

from __future__ import annotations

import os

# MediaPipe's C++ core logs through glog; keep its start-up chatter off the terminal.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Imported in the order their commands are listed in --help.
from facedub.cli import files, learning, services  # noqa: F401  (they register)
from facedub.cli.app import app

__all__ = ["app"]

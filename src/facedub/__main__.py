"""`python -m facedub` runs the command line."""

from facedub.cli import app

app()

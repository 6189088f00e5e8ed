"""`python -m facedub` runs the command line."""

from facedub.console import main

main()

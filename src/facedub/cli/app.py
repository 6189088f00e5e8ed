"""The Typer application and its global options (--verbose, --version)."""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Annotated, Any

import typer
from PIL import Image

from facedub import __version__

app = typer.Typer(
    name="facedub", no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Face swapping for video and photos that says what it is: every output carries an "
         "invisible watermark and content credentials.")


def path_option(*declarations: str, **settings: Any) -> Any:
    """typer.Option for a path: without click's own readability check, which answered an
    unreadable input (mode 000, a folder the user may not list) with three lines of usage
    and exit 2 before the command ran; the command's own reading says it in one line."""
    return typer.Option(*declarations, readable=False, **settings)


def path_argument(*declarations: str, **settings: Any) -> Any:
    """typer.Argument for a path, as `path_option`."""
    return typer.Argument(*declarations, readable=False, **settings)


def _print_version(value: bool) -> None:
    """--version is eager: it answers before click asks for a command."""
    if value:
        typer.echo(f"facedub {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what each stage does.")]
    = False,
    version: Annotated[bool, typer.Option(
        "--version", help="Print the version and exit.", is_eager=True,
        callback=_print_version)] = False,
) -> None:
    del version  # handled by its eager callback
    # A photo over PIL's warning size (89 megapixels, a 108 MP phone photo) is read all the
    # same; its warning put two lines of PIL's source before the command's own output.
    # Over the refusal size (179 MP) the command says so in one line.
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)

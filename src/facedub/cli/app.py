"""The Typer application and its global options (--verbose, --version)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from PIL import Image
from typer.core import TyperGroup

from facedub import __version__
from facedub.cli.terminal import configure_logging


def _click_class(name: str) -> Any:
    """Click's exception class `name` as the installed Typer raises it: Typer 0.12-0.2x
    raise click's own, later ones a copy vendored inside Typer; both are bases of the
    public `typer.BadParameter`."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)


_UsageError = _click_class("UsageError")


class OneLineUsageError(_click_class("ClickException")):  # type: ignore[misc]
    """A mistyped option or value as one line, with exit code 2, as every other bad input:
    click printed three ("Usage: ...", "Try '... --help' for help.", "Error: ...")."""

    exit_code = 2

    def __init__(self, error: Any, given: tuple[str, ...] = ()) -> None:
        super().__init__(_dashed_file(error, given) or error.format_message())
        self.command = error.ctx.command_path if error.ctx is not None else "facedub"

    def show(self, file: Any = None) -> None:
        message = self.format_message().rstrip(".")
        typer.echo(f"{typer.style('error:', fg='red')} {message} (see `{self.command} "
                   "--help`)", file=file or sys.stderr)


class _Commands(TyperGroup):
    """facedub's group: usage errors of the group (an unknown command) and of its commands
    (an unknown option, a value of the wrong type, a missing option) become one line."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except _UsageError as error:
            if type(error).__name__ == "NoArgsIsHelpError":  # `facedub` alone: the help
                raise
            raise OneLineUsageError(error) from None

    def invoke(self, ctx: Any) -> Any:
        given = (*getattr(ctx, "_protected_args", ()), *ctx.args)  # the command's own
        try:
            return super().invoke(ctx)
        except _UsageError as error:
            raise OneLineUsageError(error, tuple(map(str, given))) from None


def _dashed_file(error: Any, given: tuple[str, ...]) -> str | None:
    """What to do when a usage error comes with a file whose name starts with a dash (a
    photo saved as "-face.jpg"): "No such option: -f" named neither the file nor the way
    to give it, and "-o.jpg" was read as "-o .jpg" (then "Missing argument"). The way
    is the command's: one that takes files as arguments takes ./NAME, or -- put last
    (an earlier -- makes a later -o a file too); one that takes files only as options'
    values (swap, eval) takes ./NAME after its option."""
    if type(error).__name__ == "BadParameter":  # a bad value: its own line says which
        return None
    command = getattr(getattr(error, "ctx", None), "command", None)
    word = _dashed_word(given, command)
    if word is None or command is None:
        return None
    said = f"{word!r} is a file whose name starts with a dash"
    params = getattr(command, "params", ())
    if any(p.param_type_name == "argument" for p in params):
        return f"{said}; give it as ./{word} (or put -- last, just before it)"
    if not any("--source" in p.opts for p in params):  # serve: no input file to give
        return None
    return (f"{said}, and {command.name} takes files only as options' values; give it "
            f"as ./{word} after its option (--source ./{word})")


def _dashed_word(given: tuple[str, ...], command: Any) -> str | None:
    """The first word that names a file starting with a dash and was not taken as an
    option's value (`--source -face.jpg` is read as meant)."""
    valued = {name for p in getattr(command, "params", ())
              if p.param_type_name == "option" and not getattr(p, "is_flag", False)
              and not getattr(p, "count", False) for name in p.opts}
    after_dashes = False
    for index, word in enumerate(given):
        if word == "--":
            after_dashes = True
            continue
        if not word.startswith("-") or word == "-" or not Path(word).exists():
            continue
        if not after_dashes and index and given[index - 1] in valued:
            continue
        return word
    return None


app = typer.Typer(
    name="facedub", cls=_Commands, no_args_is_help=True, add_completion=False,
    rich_markup_mode=None,
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
    configure_logging(verbose)

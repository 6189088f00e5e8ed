"""What every command shares on the terminal: the progress bar, one-line messages, and
errors and signals turned into exit codes (2: the user's to fix, 130: Ctrl-C, 143:
SIGTERM, 129: SIGHUP)."""

from __future__ import annotations

import _thread
import contextlib
import functools
import logging
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import typer
from PIL import Image
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

from facedub.errors import FacedubError, Terminated, raised_from
from facedub.fsutil import describe_os_error, sole_writer, unstaged
from facedub.locations import work_dir

console = Console(stderr=True)
log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


class SpeedColumn(ProgressColumn):
    """Items per second; a dash until rich has measured a speed (after the first steps)."""

    def __init__(self, unit: str) -> None:
        super().__init__(table_column=Column(no_wrap=True))
        self._unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        shown = "  -  " if speed is None else f"{speed:>5.1f}"
        return Text(f"{shown} {self._unit}/s", no_wrap=True)


class StatusColumn(ProgressColumn):
    """The status text (training's losses), cut with an ellipsis to the room the other
    columns leave. Every column unwrappable made rich shrink them all alike once a long
    status overflowed the line: at 80 and at 120 columns `train` showed "t…   -   …",
    neither its count nor its bar nor the time left. The one wrappable column is the one
    shrunk, its text kept on one line."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=False))

    def render(self, task: Task) -> Text:
        return Text(str(task.fields.get("status", "")), no_wrap=True, overflow="ellipsis")


@dataclass
class _Stage:
    """One bar as `-v` tells it when it ends: what, how much of how many, since when."""

    description: str
    unit: str
    total: int | None
    started: float
    done: int = 0

    def line(self, role: str) -> str:
        seconds = time.monotonic() - self.started
        of = "" if self.total is None else f" of {self.total}"
        rate = f" ({self.done / seconds:.1f} {self.unit}/s)" if seconds > 0 and self.done else ""
        return f"{role}{self.description}: {self.done}{of} {self.unit} in {seconds:.1f} s{rate}"


class RichProgress:
    """facedub.progress.Progress on the terminal: bar, items/s, time left, and a status
    line (training shows its losses there). With `-v` each bar's end is also one log line
    (what, how many, how long: `_Stage`), prefixed with `role` ("source: "), so a
    verbose run says where its time went without a line per frame."""

    def __init__(self, unit: str = "frames", role: str = "") -> None:
        self._unit = unit
        self._role = role
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._stage: _Stage | None = None
        self._width = DESCRIPTION_WIDTH
        self.bars = 0  # bars started (the source's: 0 where its analysis was reused)
        self._waiting = ""  # the live bar is this `wait`'s

    def start(self, total: int | None, description: str, unit: str | None = None
              ) -> None:
        self._end_wait()
        columns, width = bar_columns(console.width, unit or self._unit)
        self._width = width
        self._bar = Progress(*columns, console=console, transient=False,
                             disable=not console.is_terminal)
        self._bar.start()
        self._task = self._bar.add_task(escape(_shorten(description, width)),
                                        total=total, status="")
        self._stage = _Stage(description, unit or self._unit, total, time.monotonic())
        self.bars += 1

    def wait(self, description: str) -> None:
        """A stage without a count (`progress.Waits`): its name and its time, drawn at
        once and until the next bar starts or `finish`, then cleared (the run's lines
        stay the bars'). The swap's start and its set-up after the target's analysis
        drew nothing for 3-10 s each."""
        if self._waiting == description:
            return  # the same stage goes on: its time is not started again
        self.finish()
        self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(bar_width=12),
                             TimeElapsedColumn(), console=console, transient=True,
                             disable=not console.is_terminal)
        self._bar.start()
        self._task = self._bar.add_task(escape(_shorten(description, console.width - 24)),
                                        total=None, status="")
        self._bar.refresh()  # drawn now, not at the refresh thread's next tick
        self._waiting = description

    def _end_wait(self) -> None:
        if self._waiting:
            self.finish()

    def status(self, text: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, status=text)

    def describe(self, description: str) -> None:
        """The bar's description changed (a batch's job stage, `progress.Described`); the
        `-v` line keeps the bar's first."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=escape(_shorten(description,
                                                                      self._width)))

    def retotal(self, total: int) -> None:
        """The bar's total lowered (frames an earlier run kept, `progress.Retotalled`)."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=total)
        if self._stage is not None:
            self._stage.total = total

    def advance(self, steps: int = 1) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, steps)
        if self._stage is not None:
            self._stage.done += steps

    def finish(self) -> None:
        self._waiting = ""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self._stage is not None:
            log.info("%s", self._stage.line(self._role))
            self._stage = None


DESCRIPTION_WIDTH = 22  # keeps bar, count, speed and time on one 80-column line
# Below these widths the bar leaves out what matters least. All of it at 60 columns cut
# the count to "4…" and the times to "0:…" (each column shrunk alike); at 40 it showed
# neither count nor bar: "extract cl…l_mouth.m…   7.7 frames… le…".
FULL_WIDTH, COMPACT_WIDTH = 80, 60


def bar_columns(width: int, unit: str) -> tuple[list[ProgressColumn], int]:
    """The bar's columns for a terminal `width` columns wide, and the description's
    width: everything from 80 columns; from 60 a shorter bar and description and no
    elapsed time; below, the description, count and time left."""
    left = [TimeRemainingColumn(), TextColumn("left"), StatusColumn()]
    if width >= FULL_WIDTH:
        return ([TextColumn("[bold]{task.description}"), BarColumn(bar_width=12),
                 MofNCompleteColumn(), SpeedColumn(unit), TimeElapsedColumn(),
                 TextColumn("·"), *left], DESCRIPTION_WIDTH)
    if width >= COMPACT_WIDTH:
        return ([TextColumn("[bold]{task.description}"), BarColumn(bar_width=6),
                 MofNCompleteColumn(), SpeedColumn(unit), *left], 16)
    return [TextColumn("[bold]{task.description}"), MofNCompleteColumn(), *left], 12


def _shorten(text: str, width: int) -> str:
    """`text` cut in its middle to `width` characters (file names keep their ending)."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def say(text: str) -> None:
    """One message to the terminal (stderr), never wrapped mid-line."""
    console.print(text, highlight=False, soft_wrap=True, markup=False)


class TerminalLog(logging.Handler):
    """Log records on the terminal through the bar's console: above a live bar, on a line
    of their own. A plain StreamHandler kept the stderr of before the bar started and
    wrote past rich's redirection, onto the end of the bar's line ("train df ━━ 12/400
    ... left  WARNING facedub.train.loop: SIGINT received: ..."), and the bar went on on
    the line below."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            console.print(self.format(record), highlight=False, soft_wrap=True,
                          markup=False, emoji=False)
        except Exception:  # as logging's own handlers: a failed emit never ends the work
            self.handleError(record)


def configure_logging(verbose: bool) -> None:
    """Every command's logging: warnings (everything with `verbose`) on the terminal."""
    handler = TerminalLog()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        handlers=[handler])


def _error_line(text: str) -> None:
    console.print(f"[red]error:[/red] {escape(text)}", highlight=False, soft_wrap=True)


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


# What a job runner, `timeout` or a closed terminal sends, and Ctrl-C (SIGINT), which
# raises Python's own KeyboardInterrupt; each unwinds the same `finally` blocks.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def terminate_cleanly() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt, SIGTERM and SIGHUP raise Terminated, for the
    duration of a command (main thread only). A signal the process was started ignoring
    stays ignored (`nohup` sets SIGHUP so: the work goes on after the terminal closes).
    Only the first of them raises: a second one (`timeout` signals the whole process
    group, then a parent forwards its own; a second Ctrl-C while the first stops the
    work) would otherwise land inside the `finally` blocks that stop the worker threads
    and remove the staged files, and leave a thread running in native code under the
    objects being freed (a crash, not exit 130)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = False
    # A stop raised while the main thread ran a finalizer (an object's __del__, a
    # generator closed by the garbage collector, a weakref callback) cannot leave it:
    # Python printed it ("facedub.errors.Terminated: SIGTERM"), went on, and the command
    # exited 0. Such a stop is delivered again a moment later (`_deliver_again`), where
    # it can leave; one still lost when the block ends is raised there.
    current: KeyboardInterrupt | Terminated | None = None  # the stop `handle` raised last
    lost: KeyboardInterrupt | Terminated | None = None
    active = threading.Event()

    def handle(signum: int, frame: object) -> None:
        nonlocal raised, current
        del frame
        if not raised:
            raised = True
            current = KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)
            raise current

    def unraisable(info: Any) -> None:
        nonlocal raised, lost
        # Only the stop this block raised: any other finalizer error (one whose context is
        # that stop, raised while its cleanup runs) is not a lost stop.
        if current is None or info.exc_value is not current:
            previous_hook(info)
            return
        lost = lost or current
        raised = False  # a second signal raises where it lands, not ignored as a repeat
        signum = current.signum if isinstance(current, Terminated) else signal.SIGINT
        _thread.start_new_thread(_deliver_again, (signum, active))

    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    caught = [signum for signum, handler in previous.items() if handler != signal.SIG_IGN]
    previous_hook = sys.unraisablehook
    try:
        sys.unraisablehook = unraisable
        for signum in caught:
            signal.signal(signum, handle)
        active.set()
        yield
    finally:
        active.clear()
        for signum in caught:
            signal.signal(signum, previous[signum])
        sys.unraisablehook = previous_hook
    if lost is not None:  # (an error out of the block is raised as it is)
        raise lost.with_traceback(None)


# How long a stop lost in a finalizer waits before it is delivered again: the finalizer
# has returned by then. (A thread of its own: the hook runs inside the finalizer, where a
# signal handled at once would be lost again.)
_AGAIN_AFTER_S = 0.01


def _deliver_again(signum: int, active: threading.Event) -> None:
    """The stop `signum` once more in the main thread, as if it arrived again, while the
    block that lost it runs: a lost SIGTERM stopped nothing until the whole work ended
    (`serve`: never)."""
    time.sleep(_AGAIN_AFTER_S)
    if active.is_set():
        _thread.interrupt_main(signal.Signals(signum))


@contextlib.contextmanager
def removed_if_failed(folder: Path, sole: bool = True) -> Iterator[None]:
    """A folder this command creates is removed again when the command fails (bad input,
    full disk), so a failure leaves nothing at the output. A folder that existed before (a
    run being resumed) is kept, and so is one left by Ctrl-C: that is how long work
    resumes. `sole`: a second facedub writing the same folder at once is refused (two
    extractions into one faceset wrote each frame twice; the loser removed the winner's
    folder); off only for the non-leading processes of one distributed training."""
    with sole_output(folder) if sole else contextlib.nullcontext():
        existed = folder.exists()
        try:
            yield
        except (FacedubError, OSError, Image.DecompressionBombError):
            if not existed:
                shutil.rmtree(folder, ignore_errors=True)
            raise


def sole_output(output: Path, kind: str = "folder") -> contextlib.AbstractContextManager[None]:
    """While this block runs, a second facedub writing `output` is refused (exit 2)."""
    try:
        locks = work_dir() / "locks"
    except RuntimeError:  # no home folder to keep the lock in: run unlocked, as read-only
        return contextlib.nullcontext()
    return sole_writer(output, locks, kind)


RESUMES = "interrupted; run the same command again to resume"
# A swap caches its analyses in the work folder but renders every frame again: telling its
# user it resumes promised the hours of a long clip back.
RENDERS_AGAIN = ("interrupted; the same command again keeps the analyses made so far and "
                 "renders from the first frame")
# A long video's swap renders in segments kept in the work folder (batch/resumable.py).
CONTINUES = ("interrupted; the same command again keeps the analyses and the segments "
             "rendered so far and continues from the last finished segment")


class InterruptedWith(KeyboardInterrupt):
    """Ctrl-C, with the line that says what the same command again does when that is not
    RESUMES (a swap: `RENDERS_AGAIN`, or `CONTINUES` for one in segments)."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


def user_errors(command: F) -> F:
    """Turn FacedubError into one red line and exit code 2; Ctrl-C into exit code 130 and
    a line that says what running the command again will do (`InterruptedWith`'s own)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            try:
                return command(*args, **kwargs)
            except Exception as error:
                stop = stopped_by(error)
                if stop is None:
                    raise
                raise stop from None
        except FacedubError as error:
            _error_line(str(error))
            raise typer.Exit(2) from None
        except OSError as error:  # disk full, read-only, permissions: the user's to fix
            # (the output's name, not the staged copy's being written when the disk filled)
            where = f"{unstaged(str(error.filename))}: " if error.filename else ""
            _error_line(f"{where}{describe_os_error(error)}; nothing was written, run the "
                        "same command again once that is fixed")
            raise typer.Exit(2) from None
        except Image.DecompressionBombError as error:
            _error_line(f"{_first_line(error)}: refused as a possible decompression bomb; "
                        "scale the image down first")
            raise typer.Exit(2) from None
        except Terminated as stop:
            say("terminated; nothing was left half-written, run the same command again")
            raise typer.Exit(stop.exit_code) from None
        except KeyboardInterrupt as stop:
            say(stop.line if isinstance(stop, InterruptedWith) else RESUMES)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def stopped_by(error: BaseException) -> KeyboardInterrupt | Terminated | None:
    """The Ctrl-C or stop signal that `error` was raised from, if any (`raised_from`):
    interrupted inside an import, Python and native extensions raise their own error
    instead; it exits 130 (or 128 + the signal) with one line rather than a traceback
    and exit 1."""
    stop = raised_from(error, (KeyboardInterrupt, Terminated))
    return stop if isinstance(stop, KeyboardInterrupt | Terminated) else None

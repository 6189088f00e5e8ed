"""The one error type that reaches the user.

Library code raises `FacedubError` with a message that says what went wrong and what to do;
the CLI prints that single line and exits with code 2. Anything else is a bug and shows a
traceback. `raised_from` finds the Ctrl-C (or stop signal) behind another error: an
import interrupted half way raises its own.
"""

import signal


class FacedubError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread so that `finally` blocks remove staged
    files. A BaseException, like KeyboardInterrupt, so that no `except Exception` swallows
    it. `signum`: the signal; `exit_code`: the shell's for it (143 SIGTERM, 129 SIGHUP).
    Raised by a command's handlers (`cli.terminal.terminate_cleanly`) and, before a
    command sets them, by the console command's own (`facedub.__main__`)."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def field_problem(error: Exception) -> str:
    """What is wrong with a JSON record's field, from the error reading it raised: a
    KeyError names the missing field; a ValueError or TypeError (int("x")) says why, which
    read as "field invalid literal for int() with base 10: 'x' is missing or malformed"."""
    if isinstance(error, KeyError):
        return f"field {error} is missing"
    return f"a field is malformed ({error})"


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

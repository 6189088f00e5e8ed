"""The one error type that reaches the user.

Library code raises `FacedubError` with a message that says what went wrong and what to do;
the CLI prints that single line and exits with code 2. Anything else is a bug and shows a
traceback. `raised_from` finds the Ctrl-C (or stop signal) behind another error: an
import interrupted half way raises its own.
"""


class FacedubError(Exception):
    """A problem with the user's input or environment, explained in one line."""


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

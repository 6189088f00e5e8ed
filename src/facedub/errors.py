"""The one error type that reaches the user.

Library code raises `FacedubError` with a message that says what went wrong and what to do;
the CLI prints that single line and exits with code 2. Anything else is a bug and shows a
traceback. `raised_from` finds the Ctrl-C (or stop signal) behind another error: an
import interrupted half way raises its own.
"""


class FacedubError(Exception):
    """A problem with the user's input or environment, explained in one line."""


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

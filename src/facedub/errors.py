"""The one error type that reaches the user.

Library code raises `FacedubError` with a message that says what went wrong and what to do;
the CLI prints that single line and exits with code 2. Anything else is a bug and shows a
traceback.
"""


class FacedubError(Exception):
    """A problem with the user's input or environment, explained in one line."""

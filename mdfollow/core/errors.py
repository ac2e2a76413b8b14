"""The one exception type the CLI turns into a message and an exit code."""

from __future__ import annotations


class MdfollowError(Exception):
    """A problem the user can fix; the message is printed as is, without a traceback."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

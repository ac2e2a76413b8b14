"""`watch`'s output: each new version of the feed written to a file, atomically."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mdfollow.core.errors import MdfollowError
from mdfollow.store.atomic import write_atomic


def file_publisher(output: Path) -> Callable[[bytes], None]:
    """Readers of `output` (a calendar app, a web server) see the old feed or the new one, never half."""

    def publish(data: bytes) -> None:
        try:
            write_atomic(output, data)
        except OSError as error:
            raise MdfollowError(f"{output}: cannot write: {error.strerror or error}") from None

    return publish

"""`ics -o` and `watch -o`: each new version of the feed written to a file, atomically,
and never over a file that is not a feed (SPEC §6)."""

from __future__ import annotations

import codecs
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from mdfollow.core.errors import MdfollowError
from mdfollow.store.atomic import write_atomic

_FEED_START = re.compile(rb"BEGIN:VCALENDAR\r?\n", re.IGNORECASE)
_SPECIAL = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def file_publisher(output: Path) -> Callable[[bytes], None]:
    """Readers of `output` (a calendar app, a web server) see the old feed or the new one, never half.

    `output` is checked at once (so `watch` refuses before it starts) and before every write:
    a new file is created, an existing feed (first line `BEGIN:VCALENDAR`) replaced, anything
    else refused. A symlink is followed: its target is written and the link stays a link.
    """
    feed_target(output)

    def publish(data: bytes) -> None:
        target = feed_target(output)
        try:
            write_atomic(target, data)
        except OSError as error:
            raise MdfollowError(f"{output}: cannot write: {error.strerror or error}") from None

    return publish


def feed_target(output: Path) -> Path:
    """The file a feed for `output` is written to (its symlinks followed); MdfollowError,
    naming `output`, when that is an existing file other than a feed, a folder, a FIFO or a device."""
    target = Path(os.path.realpath(output))
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as error:
        raise MdfollowError(f"{output}: cannot write: {error.strerror or error}") from None
    if stat.S_ISDIR(status.st_mode):
        raise MdfollowError(f"{output}: is a folder: give a file name for the feed")
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _SPECIAL if test(status.st_mode)), "not a regular file")
        raise MdfollowError(f"{output}: is {kind}, not a feed file: not written")
    try:
        with open(target, "rb") as file:
            start = file.read(64)
    except OSError as error:
        raise MdfollowError(f"{output}: cannot read: {error.strerror or error}: not written") from None
    if not _FEED_START.match(start.removeprefix(codecs.BOM_UTF8)):
        raise MdfollowError(
            f"{output}: exists and is not a calendar feed (its first line is not BEGIN:VCALENDAR): "
            "not overwritten (remove it or choose another name)"
        )
    return target

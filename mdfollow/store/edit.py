"""Safe writes to prospect files: a patch applied to the file as it is on disk, under its lock.

The patch itself is pure (`mdfollow.core.patch`); the atomic, checked replace is
`mdfollow.store.atomic`. This layer ties them: read fresh, patch, verify, swap in, and
start over on a save someone made meanwhile, so that save is kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
from collections.abc import Sequence
from pathlib import Path

from mdfollow.core.change import Change
from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import Prospect
from mdfollow.core.newfile import NewProspect
from mdfollow.core.parse import parse_prospect
from mdfollow.core.patch import AlreadyLogged, patch
from mdfollow.store.atomic import (
    NotWritten,
    Snapshot,
    fsync_folder,
    locked,
    read_snapshot,
    refuse_unwritable,
    remove_leftovers,
    swap_in,
    write_new,
)
from mdfollow.store.folder import prospect_files

ATTEMPTS = 16
"""Saves by others that one write re-applies its change over before it gives up."""


def edit_prospect(path: Path, change: Change) -> Prospect:
    """Apply `change` to the file as it is on disk now, and return the prospect it becomes.

    Under an exclusive lock on the file, the fresh bytes are read, patched and verified; the
    result replaces the file only if nobody changed it meanwhile (checked after the new
    bytes are on disk, right before the rename). A save by another program (an editor that
    does not lock) is kept: the change is re-applied on top of it. Raises MdfollowError,
    changing nothing, when the file does not parse, the result would not read back, or
    the file kept changing; AlreadyLogged when the touch is in the log already.
    """
    target = Path(os.path.realpath(path))
    try:
        with contextlib.ExitStack() as held:
            held.enter_context(locked(target))
            expected = read_snapshot(target)
            refuse_unwritable(path, expected.status)
            remove_leftovers(target)
            base, restore = expected, False
            for attempt in range(ATTEMPTS):
                try:
                    new_data, prospect = patch(path, base.data, change)
                except AlreadyLogged:
                    if attempt == 0:
                        raise
                    return _already_in(path, base)  # a save made on top of this write's own
                except MdfollowError:
                    if restore:  # a save caught after the rename: put it back before refusing
                        _put_back(target, expected, base, held)
                    raise
                outcome = swap_in(target, expected, new_data, held)
                if outcome is None:
                    fsync_folder(target.parent)
                    return prospect
                base, expected = outcome
                restore = base is not expected
            if restore:
                _put_back(target, expected, base, held)
    except OSError as error:
        raise NotWritten(f"{path}: cannot write: {error.strerror or error} (not changed)") from None
    raise MdfollowError(f"{path}: the file kept changing while mdfollow wrote it (not changed)")


def _already_in(path: Path, snapshot: Snapshot) -> Prospect:
    """The prospect of a save that already holds the change (an editor saved on top of it)."""
    prospect, _ = parse_prospect(path, snapshot.data)
    assert prospect is not None, "patch parsed it before it found the touch"
    return prospect


def _put_back(target: Path, expected: Snapshot, found: Snapshot, held: contextlib.ExitStack) -> None:
    """Give back a save that was caught after mdfollow's rename, when the change cannot go on top."""
    for _ in range(ATTEMPTS):
        outcome = swap_in(target, expected, found.data, held)
        if outcome is None:
            return
        newer, expected = outcome
        if newer is expected:  # someone saved again in place: theirs is the newest
            return


def create_prospect(
    root: Path,
    name: str,
    *,
    company: str | None = None,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    source: str | None = None,
    tags: Sequence[str] = (),
    next: dt.date | None = None,
    next_time: dt.time | None = None,
    created: dt.date | None = None,
    extra_body: str = "",
    taken: set[str] | None = None,
) -> Path:
    """Write a new prospect file `<slug>.md` in `root` and return its path.

    The one writer of new prospect files (`add`, `init`, `import`). The slug is the name
    and company in ASCII (`jane-doe-acme`), with `-2`, `-3`… while that id is taken anywhere
    in the folder. Raises MdfollowError, writing nothing, when the values would not read
    back as given (e.g. an empty name); see `NewProspect`.

    `taken`: the ids in use, from `taken_ids(root)`, for a caller creating many files (the
    folder is then not walked again each time); the new id is added to it.
    """
    new = NewProspect.of(
        name,
        company=company,
        emails=emails,
        phones=phones,
        source=source,
        tags=tags,
        next=next,
        next_time=next_time,
        created=created,
    )
    data = new.file_bytes(root, extra_body)
    if taken is None:
        taken = taken_ids(root)
    for number in itertools.count(1):
        slug = new.slug if number == 1 else f"{new.slug}-{number}"
        path = root / f"{slug}.md"
        if slug not in taken and write_new(path, data):
            taken.add(slug)
            return path
    raise AssertionError("unreachable: itertools.count never ends")


def taken_ids(root: Path) -> set[str]:
    """The ids a new file must not take: every Markdown file's name anywhere in the folder."""
    return {item.stem.lower() for item in prospect_files(root, ()) if isinstance(item, Path)}

"""`init`: a new prospect folder, with an example prospect when it has none yet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from mdfollow.core.change import Change, Entry
from mdfollow.core.config import CONFIG_NAME, DEFAULT_TOML
from mdfollow.core.errors import MdfollowError
from mdfollow.store.atomic import write_new
from mdfollow.store.edit import create_prospect, edit_prospect, taken_ids
from mdfollow.store.folder import holds_prospects, root_above

EXAMPLE_BODY = """An example prospect: edit it, or delete this file.

Log each contact with `mdfollow log jane call "left a voicemail"`;
`mdfollow due` shows who to contact next."""


@dataclass(frozen=True, slots=True)
class NewFolder:
    """What `init` made: the config, the example (None when the folder already held
    prospects), and the mdfollow folder this one lies inside, if any."""

    config: Path
    example: Path | None
    outer: Path | None


def init_folder(root: Path, today: dt.date) -> NewFolder:
    """Create `root` if needed and `mdfollow.toml` in it; MdfollowError, touching nothing,
    when it exists. The example prospect is left out where it would show up as due among
    real prospects or clash with a real id (here or in an enclosing mdfollow folder)."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = "not a folder" if root.exists() else f"cannot create the folder: {error.strerror or error}"
        raise MdfollowError(f"{root}: {reason}") from None
    outer = root_above(root.resolve().parent)
    config = root / CONFIG_NAME
    if not write_new(config, DEFAULT_TOML.encode("utf-8")):
        raise MdfollowError(f"{config} already exists: nothing changed")
    folder = outer or root
    if holds_prospects(folder):
        return NewFolder(config, None, outer)
    example = create_prospect(
        root,
        "Jane Doe",
        company="Acme Corp",
        emails=["jane@acme.example"],
        source="Leeds trade show",
        tags=["example"],
        created=today,
        extra_body=EXAMPLE_BODY,
        taken=taken_ids(folder),
    )
    edit_prospect(example, Change(entries=[Entry(today, "meeting", "took her card")]))
    return NewFolder(config, example, outer)

"""The commands that write: init, add, log, mark, snooze. Each one calls `mdfollow.edit` once."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

import typer

from mdfollow import edit, render
from mdfollow.cli.app import app, env, parse_date
from mdfollow.config import CONFIG_NAME, DEFAULT_TOML, parse_gap
from mdfollow.errors import MdfollowError
from mdfollow.folder import Folder, resolve
from mdfollow.model import STATUSES, Problem, Prospect
from mdfollow.schedule import add_gap, follow_up

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_EXAMPLE = """An example prospect: edit it, or delete this file.

Log each contact with `mdfollow log jane call "left a voicemail"`;
`mdfollow due` shows who to contact next."""
ProspectArgument = Annotated[str, typer.Argument(help="An id, a path, or part of a name, company or email.")]
NextOption = Annotated[str | None, typer.Option("--next", help="Contact again on this date (YYYY-MM-DD).")]


def _usage(message: str) -> MdfollowError:
    """A bad option value: one line and exit 2, like every usage error."""
    return MdfollowError(message, exit_code=2)


def _date(text: str | None, option: str) -> dt.date | None:
    return None if text is None else parse_date(text, option)


def _commit(folder: Folder, path: Path, message: str) -> None:
    if folder.config.git_autocommit and (reason := edit.git_commit(path, message)):
        typer.echo(str(Problem(path, 0, reason, "warning")), err=True)


def _report(prospect: Prospect, folder: Folder, today: dt.date, done: str) -> None:
    typer.echo(f"{prospect.path}: {done}")
    typer.echo(f"next: {render.describe_follow_up(follow_up(prospect, today, folder.config), today)}")


@app.command()
def init(
    ctx: typer.Context,
    directory: Annotated[Path | None, typer.Argument(help="The new folder (default: --dir or here).")] = None,
) -> None:
    """Create mdfollow.toml (commented defaults) and one example prospect."""
    settings = env(ctx)
    root = directory or settings.directory or Path(".")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MdfollowError(f"{root}: cannot create the folder: {error.strerror or error}") from None
    if not edit.write_new(root / CONFIG_NAME, DEFAULT_TOML.encode("utf-8")):
        raise MdfollowError(f"{root / CONFIG_NAME} already exists: nothing changed")
    example = edit.create_prospect(
        root,
        "Jane Doe",
        company="Acme Corp",
        emails=["jane@acme.example"],
        source="Leeds trade show",
        tags=["example"],
        created=settings.today,
        extra_body=_EXAMPLE,
    )
    edit.edit_prospect(example, edit.Change(entries=[edit.Entry(settings.today, "meeting", "took her card")]))
    typer.echo(f"created {root / CONFIG_NAME} and {example}")


@app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The person's name.")],
    company: Annotated[str | None, typer.Option("--company", help="Their company.")] = None,
    email: Annotated[list[str] | None, typer.Option("--email", help="An email address (repeatable).")] = None,
    phone: Annotated[list[str] | None, typer.Option("--phone", help="A phone number (repeatable).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Where the lead came from.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeatable).")] = None,
    next_day: NextOption = None,
    created: Annotated[
        str | None, typer.Option("--created", help="When the lead came in (default today).")
    ] = None,
) -> None:
    """Create <slug>.md for a new prospect and print its path."""
    if not name.strip():
        raise _usage("NAME is empty: give the person's name")
    settings = env(ctx)
    folder = settings.load(warn=False)
    for address in email or []:
        for other in folder.prospects:
            if address.strip().casefold() in (e.casefold() for e in other.emails):
                owner = f"{address} already belongs to {other.name}"
                typer.echo(str(Problem(other.path, other.line_of("email"), owner, "warning")), err=True)
    path = edit.create_prospect(
        folder.root,
        name,
        company=company,
        emails=email or [],
        phones=phone or [],
        source=source,
        tags=tag or [],
        next=_date(next_day, "--next"),
        created=_date(created, "--created") or settings.today,
    )
    _commit(folder, path, f"add: {name.strip()}")
    typer.echo(str(path))


@app.command()
def log(
    ctx: typer.Context,
    prospect: ProspectArgument,
    channel: Annotated[str, typer.Argument(help="One word: call, email, meeting, text, linkedin, …")],
    note: Annotated[str, typer.Argument(help="What happened.")] = "",
    inbound: Annotated[bool, typer.Option("--in", help="They contacted you (a reply, a call).")] = False,
    date: Annotated[str | None, typer.Option("--date", help="When (default: today).")] = None,
    time: Annotated[str | None, typer.Option("--time", help="At what time (HH:MM).")] = None,
    next_day: NextOption = None,
) -> None:
    """Add a touch to the log, in date order; --next also sets `next`."""
    settings = env(ctx)
    if not edit.CHANNEL.match(channel):
        raise _usage(f"channel {channel!r} must be one word (call, email, meeting, …)")
    clock = _CLOCK.match(time or "")
    if time is not None and not clock:
        raise _usage(f"--time: {time!r} is not a time (use HH:MM)")
    day = _date(date, "--date") or settings.today
    next_date = _date(next_day, "--next")
    keys = {"next": next_date.isoformat()} if next_date else {}
    at = dt.time(int(clock[1]), int(clock[2])) if clock else None
    entry = edit.Entry(day, channel, note, time=at, direction="in" if inbound else "out")
    folder = settings.load(warn=False)
    found = resolve(folder, prospect)
    changed = edit.edit_prospect(found.path, edit.Change(keys, [entry]))
    _commit(folder, found.path, f"log: {channel.lower()} with {found.name}")
    _report(changed, folder, settings.today, f"logged {entry.lines()[0][2:]}")


@app.command()
def mark(
    ctx: typer.Context,
    prospect: ProspectArgument,
    status: Annotated[str, typer.Argument(help=f"The new status: {', '.join(STATUSES)}.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why; goes in the touch log.")] = None,
) -> None:
    """Set the status (and `closed` for won or lost)."""
    settings = env(ctx)
    if status not in STATUSES:
        raise _usage(f"status {status!r} is not one of {', '.join(STATUSES)}")
    folder = settings.load(warn=False)
    found = resolve(folder, prospect)
    changed = edit.edit_prospect(found.path, edit.mark_change(status, settings.today, reason))
    _commit(folder, found.path, f"mark: {found.name} {status}")
    _report(changed, folder, settings.today, f"marked {status}")


@app.command()
def snooze(
    ctx: typer.Context,
    prospect: ProspectArgument,
    until: Annotated[str | None, typer.Option("--until", help="Contact again on this date.")] = None,
    for_: Annotated[str | None, typer.Option("--for", help="Contact again after Nd, Nw or Nm.")] = None,
) -> None:
    """Set `next`: leave the prospect alone until a date."""
    settings = env(ctx)
    if (until is None) == (for_ is None):
        raise _usage("give exactly one of --until DATE and --for Nd|Nw|Nm")
    gap = parse_gap(for_) if for_ is not None else None
    if for_ is not None and (gap is None or gap.channel):
        raise _usage(f"--for: {for_!r} is not a gap (use Nd, Nw or Nm, e.g. 2w)")
    day = add_gap(settings.today, gap) if gap else _date(until, "--until")
    assert day is not None
    folder = settings.load(warn=False)
    found = resolve(folder, prospect)
    changed = edit.edit_prospect(found.path, edit.Change({"next": day.isoformat()}))
    _commit(folder, found.path, f"snooze: {found.name} until {day}")
    _report(changed, folder, settings.today, f"snoozed until {day}")

"""The commands that write: init, add, log, mark, snooze. Every write goes through `mdfollow.store.edit`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mdfollow.cli.app import app, env, parse_date
from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import STATUSES, Problem, Prospect, when_text

if TYPE_CHECKING:
    from mdfollow.store.folder import Folder

# The core modules (edit, folder, parse: YAML) are imported inside the commands that
# use them, so `mdfollow --help` and the other commands do not pay for them.

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_WHEN = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]([01]?\d|2[0-3]):([0-5]\d))?$")
ProspectArgument = Annotated[str, typer.Argument(help="An id, a path, or part of a name, company or email.")]
NextOption = Annotated[
    str | None, typer.Option("--next", help='Contact again on this date (YYYY-MM-DD or "YYYY-MM-DD HH:MM").')
]


@dataclass(frozen=True)
class When:
    """A value for `next`: a date, or a date and time (SPEC §2)."""

    date: dt.date
    time: dt.time | None = None

    def __str__(self) -> str:
        return when_text(self.date, self.time)


def _usage(message: str) -> MdfollowError:
    """A bad option value: one line and exit 2, like every usage error."""
    return MdfollowError(message, exit_code=2)


def _date(text: str | None, option: str) -> dt.date | None:
    return None if text is None else parse_date(text, option)


def _when(text: str | None, option: str) -> When | None:
    """A date with an optional time, for `next`; anything else is a usage error (exit 2)."""
    if text is None:
        return None
    match = _WHEN.match(text)
    if match:
        day = parse_date(match[1], option)
        return When(day, dt.time(int(match[2]), int(match[3])) if match[2] else None)
    raise _usage(f'{option}: {text!r} is not a date (use YYYY-MM-DD or "YYYY-MM-DD HH:MM")')


def _warn(path: Path, line: int, message: str) -> None:
    """A likely mistake: said on stderr, yet the write it concerns is made."""
    typer.echo(str(Problem(path, line, message, "warning")), err=True)


def _warn_next(prospect: Prospect, when: When, today: dt.date) -> None:
    """A `next` that a later touch consumes has no effect; one not after today is due at once."""
    from mdfollow.core.schedule import consumed_next

    if consumed_next(prospect) and prospect.last_touch is not None:
        message = f"next {when} is not after the latest touch ({prospect.last_touch.date}): it has no effect"
        _warn(prospect.path, prospect.line_of("next"), message)
    elif when.date <= today:
        past = "today" if when.date == today else "already past"
        _warn(prospect.path, prospect.line_of("next"), f"next {when} is {past}: due now")


def _warn_dnc(prospect: Prospect) -> None:
    if prospect.status == "dnc":
        _warn(prospect.path, prospect.line_of("status"), "status is dnc: do not contact")


def _commit(folder: Folder, path: Path, message: str) -> None:
    from mdfollow.store.git import git_commit

    if folder.config.git_autocommit and (reason := git_commit([path], message)):
        _warn(path, 0, reason)


def _report(prospect: Prospect, folder: Folder, today: dt.date, done: str) -> None:
    from mdfollow.core.render import describe_follow_up
    from mdfollow.core.schedule import follow_up

    typer.echo(f"{prospect.path}: {done}")
    typer.echo(f"next: {describe_follow_up(follow_up(prospect, today, folder.config), today)}")


@app.command()
def init(
    ctx: typer.Context,
    directory: Annotated[Path | None, typer.Argument(help="The new folder (default: --dir or here).")] = None,
) -> None:
    """Create mdfollow.toml, and an example prospect if there is none."""
    from mdfollow.core.config import CONFIG_NAME
    from mdfollow.store.newfolder import init_folder

    settings = env(ctx)
    made = init_folder(directory or settings.directory or Path("."), settings.today)
    if made.outer is not None:
        typer.echo(
            f"mdfollow: warning: {made.config.parent.resolve()} is inside the mdfollow folder {made.outer}: "
            f"commands run there or below will use its own {CONFIG_NAME}, not {made.outer / CONFIG_NAME}",
            err=True,
        )
    if made.example is None:
        where = "the folder" if made.outer is None else f"the enclosing mdfollow folder {made.outer}"
        typer.echo(f"created {made.config} (no example prospect: {where} already holds prospects)")
    else:
        typer.echo(f"created {made.config} and {made.example}")


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
    from mdfollow.core.newfile import emails_in_use
    from mdfollow.core.parse import parse_prospect
    from mdfollow.store.edit import create_prospect

    if not name.strip():
        raise _usage("NAME is empty: give the person's name")
    settings = env(ctx)
    when = _when(next_day, "--next")
    day_created = _date(created, "--created") or settings.today
    folder = settings.load(warn=False)
    for address, other in emails_in_use(folder.prospects, email or []):
        _warn(other.path, other.line_of("email"), f"{address} already belongs to {other.name}")
    path = create_prospect(
        folder.root,
        name,
        company=company,
        emails=email or [],
        phones=phone or [],
        source=source,
        tags=tag or [],
        next=when.date if when else None,
        next_time=when.time if when else None,
        created=day_created,
    )
    if when and when.date <= settings.today:
        new, _ = parse_prospect(path, path.read_bytes())
        assert new is not None, "create_prospect wrote a file that parses"
        _warn_next(new, when, settings.today)
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
    from mdfollow.core.change import CHANNEL, Change, Entry, line_of
    from mdfollow.core.patch import AlreadyLogged
    from mdfollow.store.edit import edit_prospect
    from mdfollow.store.folder import resolve

    settings = env(ctx)
    if not CHANNEL.match(channel):
        raise _usage(f"channel {channel!r} must be one word (call, email, meeting, …)")
    clock = _CLOCK.match(time or "")
    if time is not None and not clock:
        raise _usage(f"--time: {time!r} is not a time (use HH:MM)")
    day = _date(date, "--date") or settings.today
    when = _when(next_day, "--next")
    keys = {"next": str(when)} if when else {}
    at = dt.time(int(clock[1]), int(clock[2])) if clock else None
    entry = Entry(day, channel, note, time=at, direction="in" if inbound else "out")
    folder = settings.load(warn=False)
    found = resolve(folder, prospect)
    try:
        changed = edit_prospect(found.path, Change(keys, [entry]))
    except AlreadyLogged as logged:
        _warn(logged.path, logged.line, logged.reason)
        return
    _warn_dnc(changed)
    if day > settings.today:
        _warn(
            changed.path,
            line_of(changed, entry),
            f"touch dated in the future ({day}; today is {settings.today})",
        )
    if when:
        _warn_next(changed, when, settings.today)
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
    from mdfollow.core.change import mark_change
    from mdfollow.store.edit import edit_prospect
    from mdfollow.store.folder import resolve

    settings = env(ctx)
    new_status = next((known for known in STATUSES if known == status.strip().lower()), None)
    if new_status is None:
        raise _usage(f"status {status!r} is not one of {', '.join(STATUSES)}")
    folder = settings.load(warn=False)
    found = resolve(folder, prospect)
    if found.status == new_status and not (reason and reason.strip()):
        typer.echo(f"{found.path}: already {new_status}: nothing changed")
        return
    change = mark_change(new_status, settings.today, reason, current=found.status)
    changed = edit_prospect(found.path, change)
    _commit(folder, found.path, f"mark: {found.name} {new_status}")
    _report(changed, folder, settings.today, f"marked {new_status}")


@app.command()
def snooze(
    ctx: typer.Context,
    prospect: ProspectArgument,
    until: Annotated[
        str | None,
        typer.Option("--until", help='Contact again on this date (YYYY-MM-DD or "YYYY-MM-DD HH:MM").'),
    ] = None,
    for_: Annotated[str | None, typer.Option("--for", help="Contact again after Nd, Nw or Nm.")] = None,
) -> None:
    """Set `next`: leave the prospect alone until a date."""
    from mdfollow.core.change import Change
    from mdfollow.core.config import parse_gap
    from mdfollow.core.schedule import add_gap
    from mdfollow.store.edit import edit_prospect
    from mdfollow.store.folder import resolve

    settings = env(ctx)
    if (until is None) == (for_ is None):
        raise _usage("give exactly one of --until DATE and --for Nd|Nw|Nm")
    gap = parse_gap(for_) if for_ is not None else None
    if for_ is not None and (gap is None or gap.channel):
        raise _usage(f"--for: {for_!r} is not a gap (use Nd, Nw or Nm, e.g. 2w)")
    when = When(add_gap(settings.today, gap)) if gap else _when(until, "--until")
    assert when is not None
    folder = settings.load(warn=False)
    found = resolve(folder, prospect)
    changed = edit_prospect(found.path, Change({"next": str(when)}))
    _warn_dnc(changed)
    _warn_next(changed, when, settings.today)
    _commit(folder, found.path, f"snooze: {found.name} until {when}")
    _report(changed, folder, settings.today, f"snoozed until {when}")

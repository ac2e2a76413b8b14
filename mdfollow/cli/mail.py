"""The `mail` command: log the touches found in Maildir folders, mbox files and IMAP folders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mdfollow.cli.app import JsonOption, app, env, parse_date, print_json
from mdfollow.core.errors import MdfollowError

if TYPE_CHECKING:
    from mdfollow.core.mailmatch import MailTouch


def calendar_zone(timezone: str) -> dt.tzinfo:
    """The calendar's time zone (SPEC §3 `[calendar] timezone`): touches are dated in it."""
    from zoneinfo import ZoneInfo

    from mdfollow.store.zone import local_timezone

    key = local_timezone() if timezone == "local" else timezone
    if key is None:
        zone = dt.datetime.now().astimezone().tzinfo
        assert zone is not None
        return zone
    return ZoneInfo(key)


def _now(today: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The moment after which a `Date` is in the future: now, or the end of a `--today` day."""
    if today == dt.date.today():
        return dt.datetime.now(zone)
    return dt.datetime.combine(today, dt.time.max, zone)


@app.command()
def mail(
    ctx: typer.Context,
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[SOURCE]...",
            help="Maildir folders, mbox files, imap(s)://USER@HOST/FOLDER (default: [mail] sources).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="DATE", help="Skip messages dated before DATE.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be logged; write nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Log the emails to and from prospects as touches (reads the mailbox only)."""
    from mdfollow.connect.mail import log_touches, read_sources, resolve_source

    settings = env(ctx)
    start = parse_date(since, "--since") if since else None
    folder = settings.load()
    config = folder.config
    if not config.mail.me:
        where = config.path or folder.root / "mdfollow.toml"
        raise MdfollowError(
            f'{where}: [mail] me is not set: add your own addresses, e.g. me = ["you@example.com"]'
        )
    if sources:
        pairs = [(text, resolve_source(text, Path("."))) for text in sources]
    else:
        pairs = [(text, resolve_source(text, folder.root)) for text in config.mail.sources]
    if not pairs:
        raise MdfollowError(
            "no mail source: give SOURCE, or set [mail] sources in mdfollow.toml", exit_code=2
        )
    zone = calendar_zone(config.calendar.timezone)
    run = read_sources(pairs, folder.prospects, config.mail.me, zone, _now(settings.today, zone), start)
    for report in run.reports:
        for problem in report.problems:
            typer.echo(problem, err=True)
        if report.error:
            typer.echo(f"mdfollow: {report.error} (nothing logged from it)", err=True)
    for warning in log_touches(run, dry_run=dry_run, autocommit=config.git_autocommit):
        typer.echo(str(warning), err=True)
    for message in run.write_errors:
        typer.echo(f"mdfollow: {message}", err=True)
    if as_json:
        print_json([_json(found.touch, found.logged) for found in run.found])
    else:
        for touch in run.new:
            typer.echo(f"{touch.prospect.path}: {_line(touch)}")
    typer.echo(run.summary(dry_run), err=as_json)
    if run.failed:
        raise typer.Exit(1)


def _line(touch: MailTouch) -> str:
    """The touch as its log line reads (`- 2026-11-10 14:02 email in: Re: quote`)."""
    from mdfollow.core.change import Entry

    return Entry(touch.date, touch.channel, touch.note, time=touch.time, direction=touch.direction).lines()[0]


def _json(touch: MailTouch, logged: bool) -> dict[str, Any]:
    """SPEC §8's `--json` item."""
    return {
        "id": touch.prospect.id,
        "path": str(touch.prospect.path),
        "date": touch.date.isoformat(),
        "time": touch.time.strftime("%H:%M"),
        "channel": touch.channel,
        "direction": touch.direction,
        "note": touch.note,
        "message_id": touch.message_id,
        "logged": logged,
    }

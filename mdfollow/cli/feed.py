"""`mdfollow ics`: the iCalendar feed, on stdout or written atomically to a file."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from mdfollow.cli.app import app, env
from mdfollow.errors import MdfollowError


@app.command()
def ics(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the feed to this file, atomically.")
    ] = None,
    todo: Annotated[bool, typer.Option("--todo", help="Tasks (VTODO) instead of events.")] = False,
    days: Annotated[
        int | None, typer.Option("--days", min=0, help="Only follow-ups due in the next N days.")
    ] = None,
    digest: Annotated[
        bool, typer.Option("--digest", help='One "Follow-ups (N)" event a day instead of one per prospect.')
    ] = False,
) -> None:
    """Write the iCalendar feed (stdout without -o)."""
    from mdfollow.atomic import write_atomic
    from mdfollow.ics import build_feed, unrepresentable  # icalendar: ~100 ms to import, only ics pays
    from mdfollow.schedule import schedule

    settings = env(ctx)
    folder = settings.load()
    config = folder.config
    if digest:
        config = dataclasses.replace(config, calendar=dataclasses.replace(config.calendar, digest=True))
    follow_ups = schedule(folder.prospects, settings.today, config)
    for problem in unrepresentable(follow_ups):
        typer.echo(str(problem), err=True)
    data = build_feed(follow_ups, settings.today, config, todo=todo, days=days)
    if output is None:
        typer.echo(data, nl=False)
        return
    try:
        write_atomic(output, data)
    except OSError as error:
        raise MdfollowError(f"{output}: cannot write: {error.strerror or error}") from None

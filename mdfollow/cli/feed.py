"""`mdfollow ics`: the iCalendar feed, on stdout or written atomically to a file."""

from __future__ import annotations

import dataclasses
import os
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
    from mdfollow.cache import cached_output, folder_fingerprint

    settings = env(ctx)

    def make() -> tuple[list[str], bytes]:
        from mdfollow.ics import build_feed, unrepresentable  # icalendar: ~100 ms to import
        from mdfollow.schedule import schedule

        folder = settings.load(warn=False)
        config = folder.config
        if digest:
            config = dataclasses.replace(config, calendar=dataclasses.replace(config.calendar, digest=True))
        follow_ups = schedule(folder.prospects, settings.today, config)
        warnings = [str(problem) for problem in (*folder.problems, *unrepresentable(follow_ups))]
        return warnings, build_feed(follow_ups, settings.today, config, todo=todo, days=days)

    # The feed is a pure function of the folder, the config, today, the options and the
    # machine's zone ("local"): when none changed, the last one is still right.
    root = settings.root
    zone = (os.environ.get("TZ", ""), os.path.realpath("/etc/localtime"))
    options = (settings.today.isoformat(), str(todo), str(days), str(digest), *zone)
    warnings, data = cached_output(root, "ics", folder_fingerprint(root, *options), make)
    for warning in warnings:
        typer.echo(warning, err=True)
    if output is None:
        typer.echo(data, nl=False)
        return
    try:
        write_atomic(output, data)
    except OSError as error:
        raise MdfollowError(f"{output}: cannot write: {error.strerror or error}") from None

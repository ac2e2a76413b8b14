"""`mdfollow ics`: the iCalendar feed, on stdout or written atomically to a file."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mdfollow.cli.app import OwnerOption, app, env

if TYPE_CHECKING:
    from mdfollow.core.model import Config, FollowUp
    from mdfollow.live.feed import Build


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
    owner: OwnerOption = None,
) -> None:
    """Write the iCalendar feed (stdout without -o)."""
    from mdfollow.core.config import local_timezone
    from mdfollow.live.watch import file_publisher
    from mdfollow.store.cache import cached_output, folder_fingerprint

    settings = env(ctx)

    def make() -> tuple[list[str], bytes]:
        from mdfollow.core.ics import unrepresentable
        from mdfollow.core.schedule import schedule
        from mdfollow.core.team import owned_by

        folder = settings.load(warn=False)
        follow_ups = schedule(owned_by(folder.prospects, owner), settings.today, folder.config)
        warnings = [str(problem) for problem in (*folder.problems, *unrepresentable(follow_ups))]
        return warnings, feed_builder(todo, days, digest)(follow_ups, settings.today, folder.config)

    # The feed is a pure function of the folder, the config, today, the options and the
    # machine's zone ("local"): when none changed, the last one is still right.
    root = settings.root
    options = (
        settings.today.isoformat(),
        str(todo),
        str(days),
        str(digest),
        str(local_timezone()),
        repr(owner),
    )
    warnings, data = cached_output(root, "ics", folder_fingerprint(root, *options), make)
    for warning in warnings:
        typer.echo(warning, err=True)
    if output is None:
        typer.echo(data, nl=False)
    else:
        file_publisher(output)(data)


def feed_builder(todo: bool, days: int | None, digest: bool) -> Build:
    """The feed options of `ics`, `watch` and `serve`, applied to a build (`--digest` over the config)."""
    from mdfollow.core.ics import build_feed  # icalendar: ~100 ms to import, only the feed commands pay

    def build(follow_ups: Sequence[FollowUp], today: dt.date, config: Config) -> bytes:
        if digest:
            config = dataclasses.replace(config, calendar=dataclasses.replace(config.calendar, digest=True))
        return build_feed(follow_ups, today, config, todo=todo, days=days)

    return build

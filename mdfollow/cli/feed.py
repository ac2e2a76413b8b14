"""`mdfollow ics`: the iCalendar feed, on stdout or written atomically to a file."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mdfollow.cli.app import OwnerOption, app, env, print_warning

if TYPE_CHECKING:
    from mdfollow.core.model import Config, FollowUp
    from mdfollow.live.feed import Build


TodoOption = Annotated[bool, typer.Option("--todo", help="Tasks (VTODO) instead of events.")]
DaysOption = Annotated[
    int | None, typer.Option("--days", min=0, help="Only follow-ups due in the next N days.")
]
DigestOption = Annotated[
    bool, typer.Option("--digest", help='One "Follow-ups (N)" event a day instead of one per prospect.')
]
"""The feed options, the same for `ics`, `watch` and `serve`."""


@app.command()
def ics(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the feed to this file, atomically.")
    ] = None,
    todo: TodoOption = False,
    days: DaysOption = None,
    digest: DigestOption = False,
    owner: OwnerOption = None,
) -> None:
    """Write the iCalendar feed (stdout without -o)."""
    from mdfollow.live.watch import file_publisher
    from mdfollow.store.cache import cached_output, folder_fingerprint
    from mdfollow.store.zone import local_timezone

    settings = env(ctx)
    root = settings.root
    zone = local_timezone()

    def make() -> tuple[list[str], bytes]:
        from mdfollow.core.ics import unrepresentable
        from mdfollow.core.schedule import schedule
        from mdfollow.core.team import owned_by
        from mdfollow.core.templates import draft_links
        from mdfollow.store.feedcache import now_ns

        started = now_ns()
        folder = settings.load(warn=False)
        follow_ups = schedule(owned_by(folder.prospects, owner), settings.today, folder.config)
        left_out = unrepresentable(follow_ups, settings.today, folder.config.calendar)
        _, broken = draft_links(follow_ups, folder.config)  # a broken template costs the link only
        warnings = [str(problem) for problem in (*folder.problems, *left_out, *broken)]
        audience = f"owner:{owner.strip().casefold()}" if owner and owner.strip() else ""
        build = feed_builder(root, todo, days, digest, local_zone=zone, started_ns=started, audience=audience)
        return warnings, build(follow_ups, settings.today, folder.config)

    # The feed is a pure function of the folder, the config, today, the options and the
    # machine's zone ("local"): when none changed, the last one is still right.
    options = (settings.today.isoformat(), str(todo), str(days), str(digest), str(zone), repr(owner))
    warnings, data = cached_output(root, "ics", folder_fingerprint(root, *options), make)
    for warning in warnings:
        print_warning(warning)
    if output is None:
        typer.echo(data, nl=False)
    else:
        file_publisher(output)(data)


def feed_builder(
    root: Path,
    todo: bool,
    days: int | None,
    digest: bool,
    *,
    local_zone: str | None,
    started_ns: int | None = None,
    audience: str = "",
) -> Build:
    """The feed options of `ics`, `watch` and `serve`, applied to a build (`--digest` over the config).

    Stamps are kept across runs so they never go down. With `started_ns` (a one-shot run that
    began reading files then), rendered components are kept across runs too; `watch` and
    `serve` keep theirs in memory. `audience` names a feed of part of the folder (one owner's,
    a CalDAV collection's): it keeps stamps of its own, so building it never drops the stamps
    of the whole folder's feed.
    """
    from mdfollow.core.ics import FeedOptions, Render, build_feed
    from mdfollow.store.feedcache import Components, RecentComponents, Stamps, feed_name

    options = FeedOptions(root, local_zone, todo, days)
    feed = feed_name(options, digest) + (f" for={audience}" if audience else "")
    stamps = Stamps.open(root, feed)
    recent = RecentComponents()

    def build(follow_ups: Sequence[FollowUp], today: dt.date, config: Config) -> bytes:
        if digest:
            config = dataclasses.replace(config, calendar=dataclasses.replace(config.calendar, digest=True))
        drafting = dataclasses.replace(
            options, templates=config.templates, drafts=config.drafts, me=config.me
        )
        components: Render = recent
        if started_ns is None:
            recent.start()
        else:
            components = Components.open(root, feed, today, config, drafting, started_ns)
        stamps.start()
        data = build_feed(follow_ups, today, config, drafting, render_follow_up=components, stamp=stamps)
        stamps.save()
        if isinstance(components, Components):
            components.save()
        return data

    return build

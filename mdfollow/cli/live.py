"""`watch` and `serve`: the feed kept current while the folder changes.

watchdog, http.server and icalendar are imported inside the commands, so the
other commands do not pay for them.
"""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mdfollow.cli.app import app, env, print_warning
from mdfollow.cli.feed import DaysOption, DigestOption, TodoOption, feed_builder

if TYPE_CHECKING:
    from mdfollow.core.model import Config, FollowUp
    from mdfollow.live.feed import Build
    from mdfollow.live.serve import FeedState


def _log(message: str) -> None:
    print_warning(f"{time.strftime('%H:%M:%S')} {message}")


def _warn(message: str) -> None:
    print_warning(message)


def _clock(ctx: typer.Context) -> Callable[[], dt.date]:
    """`--today` pins the day; otherwise it is read at every check, so midnight moves the feed."""
    if ctx.find_root().params.get("today"):
        pinned = env(ctx).today
        return lambda: pinned
    return dt.date.today


@contextmanager
def _until_stopped() -> Iterator[None]:
    """Ctrl-C, SIGINT and SIGTERM (what `systemctl stop` sends) end the command cleanly, exit 0.

    SIGINT is set explicitly: a shell starts background jobs with it ignored.
    """
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, signal.default_int_handler) for number in stops}
    try:
        yield
    except KeyboardInterrupt:
        _log("stopped")
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@app.command()
def watch(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="The feed file to keep current.")],
    todo: TodoOption = False,
    days: DaysOption = None,
    digest: DigestOption = False,
) -> None:
    """Write the feed, then rewrite it whenever the folder changes, and at midnight."""
    from mdfollow.live.feed import LiveFeed
    from mdfollow.live.watch import file_publisher
    from mdfollow.store.zone import local_timezone

    root = env(ctx).root
    build = feed_builder(root, todo, days, digest, local_zone=local_timezone())
    live = LiveFeed(root, build, file_publisher(output), today=_clock(ctx), log=_log, warn=_warn)
    _log(f"watching {root}, writing {output}; Ctrl-C to stop")
    with _until_stopped(), live:
        live.run()


def _with_owner_feeds(build: Build, state: FeedState) -> Build:
    """`build`, also handing `state` what `/owners/NAME.ics` is cut from after each rebuild: the
    feed just built, keeping NAME's follow-ups (so they carry the very same stamps)."""
    from mdfollow.core.sync import task_uid, with_components
    from mdfollow.core.team import same_owner

    def build_all(follow_ups: Sequence[FollowUp], today: dt.date, config: Config) -> bytes:
        everyone = list(follow_ups)
        data = build(everyone, today, config)

        def owner_feed(name: str) -> bytes:
            uids = {task_uid(f) for f in everyone if same_owner(f.prospect.owner, name)}
            return with_components(data, uids)

        state.publish_owners(owner_feed)
        return data

    return build_all


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port; 0 picks a free one.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="MDFOLLOW_TOKEN", help="Serve only at /TOKEN/feed.ics."),
    ] = None,
    todo: TodoOption = False,
    days: DaysOption = None,
    digest: DigestOption = False,
) -> None:
    """Serve the live feed over HTTP at /feed.ics (with --token, only at /TOKEN/feed.ics),
    and each owner's at /owners/NAME.ics (under the token too)."""
    from mdfollow.live.feed import LiveFeed
    from mdfollow.live.serve import FeedServer, FeedState, check_binding, feed_url
    from mdfollow.store.zone import local_timezone

    secret = token or None
    check_binding(host, secret)
    root = env(ctx).root
    state = FeedState()
    build = feed_builder(root, todo, days, digest, local_zone=local_timezone())
    build = build if digest else _with_owner_feeds(build, state)
    live = LiveFeed(root, build, state.publish, today=_clock(ctx), log=_log, warn=_warn)
    with _until_stopped(), FeedServer(host, port, state, secret, _log) as server, live:
        typer.echo(f"Serving the follow-ups of {root} at {feed_url(host, server.port, secret)}")
        typer.echo(f"Subscribe in a calendar app: {feed_url(host, server.port, secret, 'webcal')}")
        live.run()

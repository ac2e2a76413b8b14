"""A team's commands: `mdfollow caldav URL` (one owner's follow-ups synced with a CalDAV calendar,
two ways), and the merge clean-up behind `mdfollow check --fix-duplicates`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mdfollow.cli.app import OwnerOption, app, env
from mdfollow.core.errors import MdfollowError

if TYPE_CHECKING:
    from mdfollow.core.model import Prospect
    from mdfollow.core.sync import Completion
    from mdfollow.store.folder import Folder


@app.command()
def caldav(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Argument(metavar="URL", help="The calendar collection's URL (not the server's).")
    ],
    owner: OwnerOption = None,
    user: Annotated[
        str | None,
        typer.Option("--user", metavar="U", help="Log in as U (default: the URL's user, else ~/.netrc's)."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, metavar="SECONDS", help="Give up on a silent server.")
    ] = 30.0,
) -> None:
    """Sync with a CalDAV calendar: tasks ticked off there become touches, then it holds
    exactly one task per current follow-up. Password: $MDFOLLOW_CALDAV_PASSWORD, else ~/.netrc."""
    from mdfollow.cli.feed import feed_builder
    from mdfollow.connect import caldav as connector
    from mdfollow.core.change import Change, Entry
    from mdfollow.core.model import when_text
    from mdfollow.core.sync import DONE_NOTE
    from mdfollow.store.edit import edit_prospect
    from mdfollow.store.feedcache import now_ns
    from mdfollow.store.git import git_commit
    from mdfollow.store.zone import local_timezone

    settings = env(ctx)
    folder = settings.load()
    url, user_in_url = connector.split_login(url)
    login, password = connector.credentials(url, user or user_in_url, os.environ)
    written: list[Path] = []

    def log_touch(prospect: Prospect, completion: Completion) -> Prospect:
        entry = Entry(completion.date, completion.channel, DONE_NOTE, completion.time)
        result = edit_prospect(prospect.path, Change(entries=[entry]))
        written.append(prospect.path)
        when = when_text(completion.date, completion.time)
        typer.echo(f"{prospect.path}: logged {completion.channel} {when}: {DONE_NOTE}")
        return result

    root, zone = settings.root, local_timezone()
    build = feed_builder(
        root, True, None, False, local_zone=zone, started_ns=now_ns(), audience=f"caldav:{url}"
    )
    target = connector.Target(url, owner, settings.today, build, zone)
    client = connector.connect(url, login, password, timeout)
    try:
        outcome = connector.sync(folder, lambda: settings.load(warn=False), client, target, log_touch)
    except MdfollowError:
        raise
    except Exception as error:  # the network, the login, the server's answers: one line each
        raise connector.explain(error, url, login, timeout, password is not None) from None
    finally:
        client.close()
        if written and folder.config.git_autocommit:
            reason = git_commit(written, f"caldav: {len(written)} follow-ups done in calendar")
            if reason:
                typer.echo(f"{written[0]}:1: warning: {reason}", err=True)
    for problem in outcome.problems:
        typer.echo(f"mdfollow: {problem}", err=True)
    typer.echo(f"{url}: {outcome.summary()}")
    if outcome.problems:
        raise typer.Exit(1)


def remove_repeated_touches(ctx: typer.Context, folder: Folder) -> Folder:
    """`check --fix-duplicates`: drop exact repeats of log lines, each file through the safe write;
    the folder as it is afterwards, for the check that follows."""
    from mdfollow.core.change import Change
    from mdfollow.core.render import plural
    from mdfollow.core.team import repeated_touches
    from mdfollow.store.edit import edit_prospect

    for prospect in folder.prospects:
        if not repeated_touches(prospect):
            continue
        try:
            written = edit_prospect(prospect.path, Change(drop_repeats=True))
        except MdfollowError as error:  # this file is left as it was; the others are still fixed
            typer.echo(f"mdfollow: {error.message}", err=True)
            continue
        removed = len(prospect.touches + prospect.notes) - len(written.touches + written.notes)
        if removed:
            typer.echo(f"{prospect.path}: removed {plural(removed, 'repeated touch line')}")
    return env(ctx).load(warn=False)

"""`mdfollow draft`: the next email of a follow-up, written as a draft in the user's mail client."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

import typer

from mdfollow.cli.app import OwnerOption, app, env
from mdfollow.core.errors import MdfollowError
from mdfollow.core.render import plural

if TYPE_CHECKING:
    from mdfollow.connect.drafts import Outcome
    from mdfollow.core.model import FollowUp
    from mdfollow.store.folder import Folder

NO_SENDER = 'no sender: set [mail] me = ["you@example.com"] in mdfollow.toml'
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """Text from files as a terminal may show it: controls and direction overrides made visible."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


@app.command()
def draft(
    ctx: typer.Context,
    prospect: Annotated[
        str | None,
        typer.Argument(metavar="[PROSPECT]", help="An id, a path, or part of a name, company or email."),
    ] = None,
    due: Annotated[
        bool, typer.Option("--due", help="Every email follow-up planned for today (overdue included).")
    ] = False,
    to_stdout: Annotated[
        bool, typer.Option("--print", help="Print the message instead of storing it in [drafts] to.")
    ] = False,
    owner: OwnerOption = None,
) -> None:
    """Write the next follow-up's email as a draft in your mail client; it is never sent."""
    if (prospect is None) == (not due):
        raise MdfollowError("name a PROSPECT or use --due (not both)", exit_code=2)
    settings = env(ctx)
    folder = settings.load()
    if due:
        follow_ups = _due_emails(folder, settings.today, owner)
    else:
        follow_ups = _one(folder, prospect or "", settings.today)
    drafts = folder.config.drafts
    if not to_stdout:
        if not drafts.to:
            raise MdfollowError(
                'no Drafts folder: set [drafts] to = "~/Mail/Drafts" (a Maildir folder, or '
                "imaps://USER@HOST/Drafts) in mdfollow.toml, or use --print"
            )
        if not folder.config.me:
            raise MdfollowError(NO_SENDER)
    elif not folder.config.me:
        fix = NO_SENDER.removeprefix("no sender: ")
        typer.echo(f"mdfollow: warning: the drafts have no From header ({fix})", err=True)
    from mdfollow.connect.drafts import make_drafts, open_drafts, sender_address

    if folder.config.me:
        sender_address(folder.config.me)

    now = dt.datetime.now(dt.UTC).astimezone()
    if to_stdout or not any(f.channel == "email" and f.prospect.emails for f in follow_ups):
        _report(make_drafts(follow_ups, folder.config, None, now), to_stdout, drafts.to)
    else:
        with open_drafts(drafts.to, folder.root) as target:
            _report(make_drafts(follow_ups, folder.config, target, now), to_stdout, drafts.to)


def _due_emails(folder: Folder, today: dt.date, owner: str | None) -> list[FollowUp]:
    """SPEC §9: every email follow-up planned for today, overdue ones included (of one owner's
    prospects with --owner, SPEC §10); with a [plan], what the plan places today (SPEC §7)."""
    from mdfollow.core.plan import plan
    from mdfollow.core.schedule import schedule
    from mdfollow.core.team import owned_by

    items = schedule(owned_by(folder.prospects, owner), today, folder.config)
    if folder.config.plan is not None:
        planned = plan(items, today, folder.config)
        return [f for f in planned if f.planned is not None and f.planned <= today and f.channel == "email"]
    return [f for f in items if f.due is not None and f.due <= today and f.channel == "email"]


def _one(folder: Folder, reference: str, today: dt.date) -> list[FollowUp]:
    from mdfollow.core.schedule import follow_up
    from mdfollow.store.folder import resolve

    found = resolve(folder, reference)
    upcoming = follow_up(found, today, folder.config)
    if upcoming is None or upcoming.due is None:
        why = "the cadence is exhausted" if upcoming else f"status {found.status}"
        typer.echo(f"{shown(found.id)}: no follow-up planned ({why}): no draft", err=True)
        return []
    return [upcoming]


def _report(outcomes: Iterable[Outcome], to_stdout: bool, to: str) -> None:
    """One line per draft on stdout as it is written (the messages themselves with --print), so a
    run stopped by a failing Drafts folder still shows what it wrote; skips and errors on stderr."""
    counts = dict.fromkeys(("drafted", "already", "skipped", "error", "printed"), 0)
    for outcome in outcomes:
        follow_up = outcome.follow_up
        counts[outcome.status] += 1
        if outcome.status == "printed":
            typer.echo(outcome.data.decode("ascii", "replace").replace("\r\n", "\n"))
        elif outcome.status == "drafted" and outcome.draft is not None:
            typer.echo(
                f"drafted {shown(follow_up.prospect.id)} (touch #{follow_up.touch}): "
                f"{shown(outcome.draft.subject)}"
            )
        elif outcome.status == "already":
            typer.echo(shown(outcome.message))
        else:
            typer.echo(shown(outcome.message), err=True)
    if not to_stdout:
        parts = [f"{plural(counts['drafted'], 'draft')} written to {shown(to)}"]
        if counts["already"]:
            parts.append(f"{counts['already']} already drafted")
        if counts["skipped"]:
            parts.append(f"{counts['skipped']} skipped")
        if counts["error"]:
            parts.append(plural(counts["error"], "error"))
        typer.echo("; ".join(parts))
    if counts["error"]:
        raise typer.Exit(1)

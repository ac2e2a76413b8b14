"""The read-only commands: due, list, show, check. They never write a file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

import typer

from mdfollow.cli.app import (
    JsonOption,
    OwnerOption,
    app,
    env,
    print_json,
    print_warning,
    skipped_note,
    terminal_width,
    use_color,
)
from mdfollow.core import plan, render
from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import STATUSES, Config, FollowUp
from mdfollow.core.schedule import add_days, follow_up, schedule
from mdfollow.core.team import owned_by


@app.command()
def due(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=0, help="Also the next N days.")] = 0,
    show_all: Annotated[bool, typer.Option("--all", help="Every scheduled follow-up.")] = False,
    exhausted: Annotated[
        bool, typer.Option("--exhausted", help="Only prospects whose cadence is exhausted.")
    ] = False,
    owner: OwnerOption = None,
    as_json: JsonOption = False,
) -> None:
    """What is due today or overdue, sorted by date then name (with a [plan]: what is planned)."""
    settings = env(ctx)
    today = settings.today
    folder = settings.load()
    items = schedule(owned_by(folder.prospects, owner), today, folder.config)
    if folder.config.plan is not None and not exhausted:
        _due_planned(items, today, folder.config, None if show_all else days, as_json, skipped_note(folder))
        return
    if exhausted:
        items = [f for f in items if f.due is None]
    else:
        horizon = add_days(today, days)
        items = [f for f in items if f.due is not None and (show_all or f.due <= horizon)]
    skipped = skipped_note(folder)
    if as_json:
        _print_due_json(items, today, folder.config)
        if skipped:
            print_warning(f"mdfollow: {skipped}")
        return
    if items:
        typer.echo(render.due_table(items, today, use_color(), terminal_width()))
    if exhausted:
        summary = f"{len(items)} exhausted"
    else:
        summary = render.due_summary(items, today) if items else "Nothing due. Well done."
    typer.echo(f"{summary} · {skipped}" if skipped else summary)


@app.command("list")
def list_prospects(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help=f"Only this status ({', '.join(STATUSES)}).")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Only prospects with this tag.")] = None,
    owner: OwnerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every prospect, one line each."""
    status = status.lower() if status else None
    if status is not None and status not in STATUSES:
        raise MdfollowError(f"--status: {status!r} is not one of {', '.join(STATUSES)}", exit_code=2)
    settings = env(ctx)
    folder = settings.load()
    wanted = {t.casefold() for t in tag or []}
    prospects = sorted(
        (
            p
            for p in owned_by(folder.prospects, owner)
            if (status is None or p.status == status) and wanted <= {t.casefold() for t in p.tags}
        ),
        key=lambda p: (p.name.casefold(), p.id),
    )
    items = [(p, follow_up(p, settings.today, folder.config)) for p in prospects]
    skipped = skipped_note(folder)
    if as_json:
        print_json([render.list_json(p, f if f and f.due else None) for p, f in items])
        if skipped:
            print_warning(f"mdfollow: {skipped}")
        return
    if items:
        typer.echo(render.list_table(items, settings.today, use_color(), terminal_width()))
    summary = render.plural(len(items), "prospect")
    typer.echo(f"{summary} · {skipped}" if skipped else summary)


@app.command()
def show(
    ctx: typer.Context,
    prospect: Annotated[str, typer.Argument(help="An id, a path, or part of a name, company or email.")],
    as_json: JsonOption = False,
) -> None:
    """One prospect: fields, touches, and when it is due and why."""
    settings = env(ctx)
    folder = settings.load_for(prospect, warn=True)
    from mdfollow.store.folder import resolve

    found = resolve(folder, prospect)
    upcoming = follow_up(found, settings.today, folder.config)
    planned, line = None, None
    if folder.config.plan is not None and upcoming is not None:
        # The plan places each follow-up among everyone's: it needs the whole folder.
        everyone = schedule(settings.load(warn=False).prospects, settings.today, folder.config)
        planned, line = plan.plan_one(found, everyone, settings.today, folder.config)
    if as_json:
        print_json(render.show_json(found, planned or upcoming))
    else:
        typer.echo(render.show_text(found, upcoming, settings.today, line))


@app.command()
def check(
    ctx: typer.Context,
    fix_duplicates: Annotated[
        bool,
        typer.Option(
            "--fix-duplicates", help="Remove touch lines that exactly repeat another (merge leftovers)."
        ),
    ] = False,
) -> None:
    """Validate the whole folder; exit 1 on any error."""
    folder = env(ctx).load(warn=False)
    from mdfollow.core.check import check_folder

    if fix_duplicates:
        from mdfollow.cli.caldav import remove_repeated_touches

        folder = remove_repeated_touches(ctx, folder)

    problems = check_folder(folder)
    for problem in problems:
        typer.echo(render.visible(str(problem)))
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    skipped = render.skipped_files(problems, folder.prospects)
    files = len(folder.prospects) + skipped
    unread = f" ({skipped} not read as prospects)" if skipped else ""
    typer.echo(
        f"{render.plural(files, 'file')} checked{unread}: "
        f"{render.plural(errors, 'error')}, {render.plural(warnings, 'warning')}"
    )
    if errors:
        raise typer.Exit(1)


def _due_planned(
    follow_ups: Sequence[FollowUp],
    today: dt.date,
    config: Config,
    days: int | None,
    as_json: bool,
    skipped: str | None,
) -> None:
    """`due` with a plan (SPEC §7): what is planned up to `days` ahead (None: everything)."""
    planned = [f for f in plan.plan(follow_ups, today, config) if f.planned is not None]
    horizon = dt.date.max if days is None else add_days(today, days)
    shown = [f for f in planned if f.planned is not None and f.planned <= horizon]
    if as_json:
        _print_due_json(shown, today, config)
        if skipped:
            print_warning(f"mdfollow: {skipped}")
        return
    if days:
        typer.echo(
            render.plan_days_table(shown, plan.plan_days(today, horizon, config), today, use_color(), config)
        )
    elif shown:
        typer.echo(render.due_table(shown, today, use_color(), terminal_width(), config))
    summary = render.plan_summary(shown, len(planned) - len(shown), today, config)
    typer.echo(f"{summary} · {skipped}" if skipped else summary)


def _print_due_json(follow_ups: Sequence[FollowUp], today: dt.date, config: Config) -> None:
    """`due --json`: each row with its draft's `mailto:` link (SPEC §9) when a template fits."""
    from mdfollow.core.templates import draft_links, mailto_of

    links, problems = draft_links(follow_ups, config)
    for problem in problems:
        print_warning(str(problem))
    print_json([{**render.due_json(f, today), "mailto": mailto_of(f, links)} for f in follow_ups])

"""The read-only commands: due, list, show, check. They never write a file."""

from __future__ import annotations

from typing import Annotated

import typer

from mdfollow.cli.app import JsonOption, OwnerOption, app, env, print_json, use_color
from mdfollow.core import render
from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import STATUSES
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
    """What is due today or overdue, sorted by date then name."""
    settings = env(ctx)
    today = settings.today
    folder = settings.load()
    items = schedule(owned_by(folder.prospects, owner), today, folder.config)
    if exhausted:
        items = [f for f in items if f.due is None]
    else:
        horizon = add_days(today, days)
        items = [f for f in items if f.due is not None and (show_all or f.due <= horizon)]
    if as_json:
        print_json([render.due_json(f, today) for f in items])
        return
    if items:
        typer.echo(render.due_table(items, today, use_color()))
    if exhausted:
        typer.echo(f"{len(items)} exhausted")
    else:
        typer.echo(render.due_summary(items, today) if items else "Nothing due. Well done.")


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
    if as_json:
        print_json([render.list_json(p, f if f and f.due else None) for p, f in items])
        return
    if items:
        typer.echo(render.list_table(items, settings.today, use_color()))
    typer.echo(render.plural(len(items), "prospect"))


@app.command()
def show(
    ctx: typer.Context,
    prospect: Annotated[str, typer.Argument(help="An id, a path, or part of a name, company or email.")],
    as_json: JsonOption = False,
) -> None:
    """One prospect: fields, touches, and when it is due and why."""
    settings = env(ctx)
    folder = settings.load()
    from mdfollow.store.folder import resolve

    found = resolve(folder, prospect)
    upcoming = follow_up(found, settings.today, folder.config)
    if as_json:
        print_json(render.show_json(found, upcoming))
    else:
        typer.echo(render.show_text(found, upcoming, settings.today))


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
        typer.echo(str(problem))
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    typer.echo(
        f"{render.plural(len(folder.prospects), 'prospect')} checked: "
        f"{render.plural(errors, 'error')}, {render.plural(warnings, 'warning')}"
    )
    if errors:
        raise typer.Exit(1)

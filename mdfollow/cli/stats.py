"""The `stats` command: follow-up discipline in figures. Reads only."""

from __future__ import annotations

from typing import Annotated

import typer

from mdfollow.cli.app import (
    JsonOption,
    OwnerOption,
    app,
    env,
    parse_date,
    print_json,
    print_warning,
    skipped_note,
)


@app.command()
def stats(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="DATE",
            help="Count only touches on or after DATE, and outcomes of prospects closed since then.",
        ),
    ] = None,
    owner: OwnerOption = None,
    as_json: JsonOption = False,
) -> None:
    """Follow-up discipline and conversion by touch number, beside often-quoted (unsourced) figures."""
    from mdfollow.core.stats import compute_stats, report, stats_json
    from mdfollow.core.team import owned_by

    start = parse_date(since, "--since") if since else None
    settings = env(ctx)
    folder = settings.load()
    figures = compute_stats(owned_by(folder.prospects, owner), settings.today, folder.config, start)
    skipped = skipped_note(folder)
    if as_json:
        print_json(stats_json(figures))
        if skipped:
            print_warning(f"mdfollow: {skipped}")
    else:
        typer.echo(report(figures) + (f"\n\nNot counted: {skipped}" if skipped else ""))

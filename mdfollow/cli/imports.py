"""The `import` command: new prospects from vCards or a CSV export, one file per contact."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mdfollow.cli.app import app, env
from mdfollow.core.errors import MdfollowError

if TYPE_CHECKING:
    from mdfollow.connect.importer import Contact

PROGRESS_FROM = 50
"""Contacts from which a progress line is worth showing (on a terminal only)."""


class Progress:
    """`12/500` redrawn in place on stderr; cleared before any other line is printed."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.enabled = total >= PROGRESS_FROM and sys.stderr.isatty()
        self.done = 0

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            sys.stderr.write(f"\rimporting {self.done}/{self.total}")
            sys.stderr.flush()

    def echo(self, message: str, *, err: bool = False) -> None:
        if self.enabled and self.done:
            sys.stderr.write("\r\x1b[K")
        typer.echo(message, err=err)
        if self.enabled and self.done and self.done < self.total:
            sys.stderr.write(f"\rimporting {self.done}/{self.total}")

    def close(self) -> None:
        if self.enabled and self.done:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _describe(contact: Contact) -> str:
    company = f", {contact.company}" if contact.company else ""
    email = f" <{contact.emails[0]}>" if contact.emails else ""
    return f"{contact.name}{company}{email}"


@app.command("import")
def import_contacts(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .vcf (one or many vCards) or a .csv export.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; write nothing.")
    ] = False,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag every new prospect.")] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="The new prospects' source (default: the file's name).")
    ] = None,
) -> None:
    """Create a prospect per contact; skip emails already in the folder."""
    from mdfollow.connect.importer import plan_import, read_contacts
    from mdfollow.core.render import plural
    from mdfollow.store.atomic import NotWritten
    from mdfollow.store.edit import create_prospect, taken_ids
    from mdfollow.store.git import git_commit

    try:
        data = file.read_bytes()
    except OSError as error:
        raise MdfollowError(f"{file}: cannot read: {error.strerror or error}") from None
    found = read_contacts(file, data)
    settings = env(ctx)
    folder = settings.load()
    typer.echo(f"{file}: {found.kind}, {found.encoding}, {plural(len(found.contacts), 'contact')}")
    new, skipped = plan_import(found.contacts, folder.prospects)
    for problem in found.problems:
        typer.echo(str(problem), err=True)
    for contact, reason in skipped:
        typer.echo(f"{file}:{contact.line}: {reason}", err=True)
    if dry_run:
        for contact in new:
            typer.echo(f"would create: {_describe(contact)}")
    imported: list[Path] = []
    refused, failed = 0, 0
    progress = Progress(0 if dry_run else len(new))
    taken = taken_ids(folder.root)  # one walk of the folder, not one per new file
    for contact in [] if dry_run else new:
        try:
            path = create_prospect(
                folder.root,
                contact.name,
                company=contact.company,
                emails=contact.emails,
                phones=contact.phones,
                source=source or file.name,
                tags=tag or (),
                created=settings.today,
                extra_body=contact.body,
                taken=taken,
            )
        except (NotWritten, OSError) as error:  # the disk's fault, not the record's: exit 1
            failed += 1
            reason = error.message if isinstance(error, NotWritten) else error.strerror or str(error)
            progress.echo(f"{file}:{contact.line}: {reason}", err=True)
        except MdfollowError as error:
            refused += 1
            progress.echo(f"{file}:{contact.line}: {error.message}", err=True)
        else:
            imported.append(path)
            progress.echo(str(path))
        progress.step()
    progress.close()
    if imported and folder.config.git_autocommit:
        not_committed = git_commit(imported, f"import: {plural(len(imported), 'prospect')} from {file.name}")
        if not_committed:
            typer.echo(f"mdfollow: warning: {not_committed}", err=True)
    done = f"{len(new)} would be imported" if dry_run else f"{len(imported)} imported"
    bad = plural(len(found.problems) + refused, "bad record")
    summary = f"{done}, {len(skipped)} skipped (email exists), {bad}"
    typer.echo(f"{summary}, {failed} failed to write" if failed else summary)
    if failed:
        raise typer.Exit(1)

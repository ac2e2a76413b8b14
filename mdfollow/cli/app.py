"""The Typer app, its global options, and the one place errors become messages."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from mdfollow import __version__
from mdfollow.core.errors import MdfollowError

if TYPE_CHECKING:
    from mdfollow.store.folder import Folder

HELP_ORDER = ("init", "add", "log", "mark", "snooze", "due", "list", "show", "check")


class _Group(TyperGroup):
    """Turns every `MdfollowError` into one line on stderr and its exit code."""

    def list_commands(self, ctx: Any) -> list[str]:
        """A day's workflow first in `--help`: set up, write, read; then the rest as registered."""
        names = list(super().list_commands(ctx))
        return sorted(names, key=lambda n: HELP_ORDER.index(n) if n in HELP_ORDER else len(HELP_ORDER))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except MdfollowError as error:
            typer.echo(f"mdfollow: {error.message}", err=True)
            raise typer.Exit(error.exit_code) from None


app = typer.Typer(
    cls=_Group,
    help="Plain-text sales follow-ups: who to contact next, and when.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass(frozen=True)
class Env:
    """The global options, resolved: where the folder is and what day it is."""

    directory: Path | None
    today: dt.date

    @property
    def root(self) -> Path:
        from mdfollow.store.folder import find_root

        return find_root(Path("."), self.directory)

    def load(self, *, warn: bool = True) -> Folder:
        """Load the folder, printing each problem to stderr as `path:line: message`."""
        from mdfollow.store.cache import load_cached_folder

        folder = load_cached_folder(self.root)
        if warn:
            for problem in folder.problems:
                typer.echo(str(problem), err=True)
        return folder


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str, option: str) -> dt.date:
    """A YYYY-MM-DD option value; anything else is a usage error (exit 2)."""
    try:
        if _ISO_DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise MdfollowError(f"{option}: {text!r} is not a date (use YYYY-MM-DD)", exit_code=2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mdfollow {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            envvar="MDFOLLOW_DIR",
            metavar="PATH",
            help="The prospect folder (default: found upwards).",
        ),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option(
            "--today", envvar="MDFOLLOW_TODAY", metavar="DATE", help="Take this date as today (YYYY-MM-DD)."
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Plain-text sales follow-ups: who to contact next, and when."""
    day = dt.date.today() if today is None else parse_date(today, "--today")
    ctx.obj = Env(directory, day)


def env(ctx: typer.Context) -> Env:
    obj = ctx.find_root().obj
    assert isinstance(obj, Env)
    return obj


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def use_color() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]
OwnerOption = Annotated[
    str | None,
    typer.Option(
        "--owner",
        envvar="MDFOLLOW_OWNER",
        metavar="NAME",
        help="Only prospects whose owner is NAME, any case (default: everyone's).",
    ),
]

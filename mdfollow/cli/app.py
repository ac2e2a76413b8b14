"""The Typer app, its global options, and the one place errors become messages."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from mdfollow import __version__
from mdfollow.core.errors import MdfollowError
from mdfollow.core.render import visible

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
            print_warning(f"mdfollow: {error.message}")
            raise typer.Exit(error.exit_code) from None

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            plain_placeholders(command)
        return command


OPTION_PLACEHOLDERS = {
    **dict.fromkeys(("date", "next", "until", "since", "created", "today"), "DATE"),
    "time": "HH:MM",
    "for": "GAP",
    "output": "FILE",
}
"""What the value of these options is, for their help; the others show TEXT, N or PATH."""


def plain_placeholders(command: Any) -> None:
    """Help shows `PROSPECT`, `TEXT`, `DATE` as Unix tools do, not Typer's `{prospect}` and
    `<str>`: every argument is its name in capitals, every option the kind of value it takes."""
    for param in command.params:
        if isinstance(param, typer.core.TyperArgument):
            if not isinstance(param, _PlainArgument):
                param.__class__ = _PlainArgument
        elif isinstance(param, typer.core.TyperOption) and param.metavar is None and not param.is_flag:
            flag = max(param.opts, key=len).lstrip("-")
            kind = getattr(param.type, "name", "")
            number = kind.startswith(("int", "integer"))
            param.metavar = OPTION_PLACEHOLDERS.get(flag) or (
                "N" if number else "PATH" if kind == "path" else "TEXT"
            )


class _PlainArgument(typer.core.TyperArgument):
    """An argument shown as `NAME` (required) or `[NAME]` (optional) in usage lines."""

    def make_metavar(self, ctx: Any = None, *, usage: bool = False) -> str:
        name = self.metavar or {"directory": "DIR"}.get(self.name or "", (self.name or "").upper())
        if self.nargs != 1:
            name += "..."
        return f"[{name}]" if usage and not self.required else name

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        """The usage line (older Typer releases build it without `usage=True`)."""
        return [self.make_metavar(ctx, usage=True)]


app = typer.Typer(
    cls=_Group,
    help="Plain-text sales follow-ups: who to contact next, and when.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass(frozen=True)
class Env:
    """The global options, resolved: where the folder is and what day it is."""

    directory: Path | None
    today: dt.date

    @cached_property
    def root(self) -> Path:
        """The folder from --dir, else found upwards; when no mdfollow.toml marks one, the
        current folder, said on stderr (a command run in the wrong place then shows why)."""
        from mdfollow.core.config import CONFIG_NAME
        from mdfollow.store.folder import find_root, root_above

        root = find_root(Path("."), self.directory)
        marked = root_above(root.resolve()) is not None or os.path.lexists(root / CONFIG_NAME)
        if self.directory is None and not marked:  # (a config that is not a file is refused later)
            print_warning(
                f"mdfollow: no {CONFIG_NAME} here or in a parent folder: using {root.resolve()} "
                "(run `mdfollow init` there to mark your prospect folder)"
            )
        return root

    def load(self, *, warn: bool = True) -> Folder:
        """Load the folder, printing each problem to stderr as `path:line: message`."""
        from mdfollow.store.cache import load_cached_folder

        folder = load_cached_folder(self.root)
        if warn:
            for problem in folder.problems:
                print_warning(str(problem))
        return folder

    def load_for(self, reference: str, *, warn: bool = False) -> Folder:
        """The folder as far as `resolve(folder, reference)` needs it: an exact id or path
        reads that one file (and the config), anything else the whole folder."""
        from mdfollow.store.cache import load_cached_for

        folder = load_cached_for(self.root, reference)
        if warn:
            for problem in folder.problems:
                print_warning(str(problem))
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


def print_warning(text: str) -> None:
    """One line on stderr; text from files in it is shown with `visible`, so it stays one line."""
    typer.echo(visible(text), err=True)


def skipped_note(folder: Folder) -> str:
    """What a summary says about the files left out because of errors ("" when none)."""
    from mdfollow.core.render import skipped_files

    count = skipped_files(folder.problems, folder.prospects)
    if not count:
        return ""
    return f"{count} file{' has' if count == 1 else 's have'} errors: run mdfollow check"


def terminal_width() -> int | None:
    """The columns a table may use: COLUMNS when set, the terminal's width on a terminal,
    no limit in a pipe (a script or a file gets the whole table)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def print_json(data: Any) -> None:
    """JSON keeps the exact text; the characters JSON may leave raw but a terminal would act
    on (DEL and C1 controls, bidirectional controls, line separators) are written as `\\uXXXX` escapes."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    typer.echo(_JSON_UNSAFE.sub(lambda match: f"\\u{ord(match[0]):04x}", text))


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

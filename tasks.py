"""Developer tasks that work on a fresh machine with only Python 3.11+.

python3 tasks.py demo    # set up .venv if needed, show who is due in examples/
python3 tasks.py test    # set up .venv if needed, run the test suite
python3 tasks.py lint    # ruff, mypy and the layer contracts
python3 tasks.py lowest  # the test suite on the lowest versions pyproject allows (CI runs it)
python3 tasks.py bench   # time the commands on generated folders of 1k and 10k prospects
python3 tasks.py docs    # regenerate docs/commands.md from the CLI's own --help
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"


def setup() -> None:
    """Create .venv and install mdfollow with its test tools, again whenever pyproject changes."""
    if not (BIN / "python").exists() and not (BIN / "python.exe").exists():
        print("Creating .venv ...", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    if STAMP.exists() and STAMP.read_bytes() == pyproject:
        return
    print("Installing mdfollow and its test tools into .venv ...", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run(*pip, "-e", ".[test,lint]")
    STAMP.write_bytes(pyproject)


def run(*command: str) -> None:
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode:
        sys.exit(result.returncode)


LOWEST = ROOT / ".venv-lowest"


def run_on_lowest_versions(*pytest_args: str) -> None:
    """The suite with every direct dependency at its lower bound, so those bounds stay true.

    uv (from PyPI, into .venv) resolves `--resolution lowest-direct`; pip has no such mode.
    The command reference is left out: it pins the help text of the newest typer.
    """
    run(str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "uv")
    uv = str(BIN / "uv")
    lowest_bin = LOWEST / ("Scripts" if os.name == "nt" else "bin")
    run(uv, "venv", "--quiet", "--allow-existing", "--python", sys.executable, str(LOWEST))
    env = {**os.environ, "VIRTUAL_ENV": str(LOWEST)}
    install = [uv, "pip", "install", "--quiet", "--resolution", "lowest-direct", "-e", ".[test]"]
    if subprocess.run(install, cwd=ROOT, env=env).returncode:
        sys.exit("could not install the lowest versions")
    deselect = ["--deselect", "tests/test_docs.py::test_command_reference_is_current"]
    run(str(lowest_bin / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", *deselect, *pytest_args)


COMMANDS_DOC = ROOT / "docs" / "commands.md"


def command_reference() -> str:
    """docs/commands.md: every command's --help, as the CLI prints it (needs mdfollow installed)."""
    import typer
    from typer.testing import CliRunner

    from mdfollow.cli import app

    def help_of(*words: str) -> str:
        result = CliRunner().invoke(app, [*words, "--help"], prog_name="mdfollow", env={"COLUMNS": "88"})
        return result.stdout.rstrip()

    names = sorted(typer.main.get_group(app).commands)
    parts = [
        "# Command reference",
        "",
        "Generated from the CLI by `python3 tasks.py docs`; a test keeps it current.",
        "",
        "```",
        help_of(),
        "```",
    ]
    for name in names:
        parts += ["", f"## mdfollow {name}", "", "```", help_of(name), "```"]
    return "\n".join(parts) + "\n"


def write_command_reference() -> None:
    COMMANDS_DOC.write_text(command_reference(), encoding="utf-8")


def main(task: str, *args: str) -> None:
    setup()
    python = str(BIN / "python")
    if task == "demo":
        today = ["--today", "2026-12-01"]  # the day the examples were written for
        run(str(BIN / "mdfollow"), "--dir", "examples", *today, "due", "--days", "7", *args)
    elif task == "test":
        run(python, "-m", "pytest", *args)
    elif task == "lint":
        run(python, "-m", "ruff", "check", "mdfollow", "tests", "bench", "tasks.py")
        run(python, "-m", "ruff", "format", "--check", "mdfollow", "tests", "bench", "tasks.py")
        run(python, "-m", "mypy")
        run(str(BIN / "lint-imports"))
    elif task == "lowest":
        run_on_lowest_versions(*args)
    elif task == "bench":
        run(python, "bench/run.py", *args)
    elif task == "docs":
        run(python, "-c", "import tasks; tasks.write_command_reference()")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(*(sys.argv[1:] or ["help"]))

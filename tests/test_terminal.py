"""Human output on a terminal or in a pipe: file text shown visibly (never raw control or
bidi characters), JSON exact, `due` as a call sheet that fits the terminal, plain help."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import unicodedata
from pathlib import Path

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from mdfollow.cli import app
from mdfollow.core.render import BIDI_CONTROLS, BOLD, DIM, RED, RESET, visible
from tests.conftest import TODAY, RunCli, WriteFile

MDFOLLOW = Path(sys.executable).parent / "mdfollow"
OSC52 = "\x1b]52;c;SGVsbG8=\x07"
CLEAR = "\x1b[2J"
EVIL = (  # YAML allows no raw control character: its double-quoted escapes write them
    '---\nname: "Eve\\e]52;c;SGVsbG8=\\a\\u202eliG"\ncompany: "\\e[2JCorp"\ncreated: 2026-11-30\n---\n## Touches\n'
)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Jane Doe", "Jane Doe"),
        ("José 👩‍💻 Müller", "José 👩‍💻 Müller"),  # a zero-width joiner is text, not a control
        (OSC52, "\\x1b]52;c;SGVsbG8=\\x07"),
        ("a\nb\rc\td", "a\\x0ab\\x0dc\\x09d"),
        ("\x9b31m", "\\x9b31m"),  # C1 CSI
        ("abc\u202edef\u2066x\u2069", "abc\\u202edef\\u2066x\\u2069"),
        ("line\u2028sep", "line\\u2028sep"),
        ("bad\udcffname", "bad\ufffdname"),
    ],
)
def test_visible(raw: str, shown: str) -> None:
    assert visible(raw) == shown


@given(st.text())
def test_visible_never_lets_a_control_character_through(text: str) -> None:
    shown = visible(text)
    assert not [c for c in shown if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in BIDI_CONTROLS]
    shown.encode("utf-8")  # no lone surrogate left: this would raise


@pytest.mark.parametrize("command", [("due",), ("list",), ("show", "eve"), ("check",)])
def test_file_text_is_shown_visibly_in_a_pipe(
    write: WriteFile, run: RunCli, command: tuple[str, ...]
) -> None:
    write(f"eve{CLEAR}.md", EVIL + f"- 2026-11-02 call: {CLEAR}wiped\n")
    write(f"bad{OSC52}.md", "---\nname: A: B\n---\n")
    result = run(*command)
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and "\x07" not in stream and "\u202e" not in stream
    assert "\\x1b]52;c;SGVsbG8=\\x07.md" in result.stdout + result.stderr  # the broken file's name
    if command[0] != "check":
        assert "\\x1b[2J" in result.stdout


def test_a_file_name_with_a_newline_cannot_forge_a_warning_line(
    folder: Path, write: WriteFile, run: RunCli
) -> None:
    write("x.md\nmdfollow: all good.md", "---\nname: A: B\n---\n")
    result = run("list")
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{folder}/x.md\\x0amdfollow: all good.md:2: broken YAML")
    checked = run("check").stdout.splitlines()
    assert len(checked) == 2 and checked[0].startswith(f"{folder}/x.md\\x0a")


def test_an_error_message_naming_a_file_is_shown_visibly(folder: Path, write: WriteFile, run: RunCli) -> None:
    write(f"{CLEAR}ahmed.md", "---\nname: A: B\n---\n")
    result = run("show", "ahmed")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith(
        f"mdfollow: {folder}/\\x1b[2Jahmed.md has errors: line 2:"
    )


def test_json_keeps_the_exact_text(write: WriteFile, run: RunCli) -> None:
    write("eve.md", EVIL + "- 2026-11-02 call: note\u2028two\x9b31m\n")
    result = run("show", "eve", "--json")
    assert not set(result.stdout) & {"\x1b", "\u202e", "\u2028", "\x9b"}
    data = json.loads(result.stdout)
    assert data["name"] == f"Eve{OSC52}\u202eliG" and data["company"] == f"{CLEAR}Corp"
    assert data["touches"][0]["note"] == "note\u2028two\x9b31m"
    assert json.loads(run("due", "--json").stdout)[0]["name"] == f"Eve{OSC52}\u202eliG"


def _on_a_terminal(
    args: list[str], cwd: Path, columns: int = 200, env: dict[str, str] | None = None
) -> bytes:
    """Run the real console script with stdout and stderr on a pseudo-terminal of `columns`."""
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    clean = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "MDFOLLOW_DIR")}
    process = subprocess.Popen(
        [str(MDFOLLOW), "--today", TODAY, *args],
        cwd=cwd,
        stdin=child,
        stdout=child,
        stderr=child,
        env={**clean, "MDFOLLOW_NO_CACHE": "1", **(env or {})},
    )
    os.close(child)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([parent], [], [], 20)
            if not ready:
                break
            try:
                chunk = os.read(parent, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(parent)
        assert process.wait(timeout=20) == 0, output
    return output


@pytest.mark.parametrize("command", [["due"], ["list"], ["show", "eve"]])
def test_on_a_real_terminal_only_mdfollows_own_colours_are_raw(
    folder: Path, write: WriteFile, command: list[str]
) -> None:
    write("eve.md", EVIL + f"- 2026-11-02 call: {CLEAR}wiped\n")
    write(f"bad{OSC52}.md", "---\nname: A: B\n---\n")
    text = _on_a_terminal(command, folder).decode("utf-8")
    own = re.sub("|".join(re.escape(code) for code in (RED, DIM, BOLD, RESET)), "", text)
    assert "\x1b" not in own and "\x07" not in own and "\u202e" not in own
    assert "\\x1b]52;c;SGVsbG8=\\x07" in own
    if command == ["due"]:
        assert RESET in text  # it is a terminal: the colours are there, and only they are raw


def test_due_json_has_phone_and_email(write: WriteFile, run: RunCli) -> None:
    write("a.md", '---\nname: A\nphone: ["+44 1", "+44 2"]\nemail: a@x.example\ncreated: 2026-11-30\n---\n')
    write("b.md", "---\nname: B\ncreated: 2026-11-30\n---\n")
    rows = json.loads(run("due", "--json").stdout)
    assert [(r["phone"], r["email"]) for r in rows] == [("+44 1", "a@x.example"), (None, None)]


SHEET = {
    "cal.md": "---\nname: Carla Callme\ncompany: Phone Co\nphone: '+44 20 7946 0001'\nemail: carla@x.example\n"
    "---\n## Touches\n- 2026-11-20 email: intro\n- 2026-11-22 email: quote\n",  # touch 3: "4d call"
    "em.md": "---\nname: Emil Mailer\ncompany: Letters International Holdings\nphone: '+1 555 0100'\n"
    "email: emil@letters.example\ncreated: 2026-11-30\n---\n",  # new: no channel, so email
    "nob.md": "---\nname: Nobody Reachable With A Long Name\ncreated: 2026-11-27\n---\n",
}


@pytest.fixture
def sheet(write: WriteFile) -> None:
    for name, text in SHEET.items():
        write(name, text)


@pytest.mark.usefixtures("sheet")
def test_due_shows_the_phone_for_calls_and_the_email_otherwise(run: RunCli) -> None:
    lines = run("due").stdout.splitlines()
    assert lines[0].split() == ["DUE", "TOUCH", "CHANNEL", "NAME", "COMPANY", "CONTACT", "WHY"]
    by_name = {name: next(line for line in lines if name in line) for name in ("Carla", "Emil", "Nobody")}
    assert "+44 20 7946 0001" in by_name["Carla"] and "carla@" not in by_name["Carla"]
    assert "emil@letters.example" in by_name["Emil"] and "+1 555" not in by_name["Emil"]


@pytest.mark.usefixtures("sheet")
@pytest.mark.parametrize("columns", [40, 60, 80, 100])
def test_due_fits_columns_without_wrapping(
    run: RunCli, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    lines = run("due").stdout.splitlines()
    assert len(lines) == 5  # header, 3 rows, summary: nothing wrapped onto a second line
    assert all(len(line) <= columns for line in lines[:-1]), lines
    assert all(word in "\n".join(lines) for word in ("DUE", "NAME", "late"))
    if columns >= 80:
        assert "+44 20 7946 0001" in lines[2] or "+44 20 7946 0001" in lines[1]


@pytest.mark.usefixtures("sheet")
@pytest.mark.parametrize("columns", [50, 60, 200])
def test_list_fits_columns_too(run: RunCli, monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    lines = run("list").stdout.splitlines()
    assert len(lines) == 5 and all(len(line) <= columns for line in lines), lines
    assert all(row.split()[0] in ("cal", "em", "nob") for row in lines[1:4])  # the id is never cut
    if columns == 200:
        assert lines[0].split() == ["ID", "NAME", "COMPANY", "STATUS", "TOUCHES", "LAST", "DUE"]


@pytest.mark.usefixtures("sheet")
def test_due_fits_a_real_terminal(folder: Path) -> None:
    text = _on_a_terminal(["due"], folder, columns=60).decode("utf-8")
    plain = re.sub("|".join(re.escape(code) for code in (RED, DIM, BOLD, RESET)), "", text)
    lines = plain.replace("\r\n", "\n").strip("\n").splitlines()
    assert len(lines) == 5 and all(len(line) <= 60 for line in lines), lines
    wide = _on_a_terminal(["due"], folder, columns=200).decode("utf-8")
    assert "+44 20 7946 0001" in wide and "emil@letters.example" in wide


def _help(*words: str) -> str:
    from typer.testing import CliRunner

    return CliRunner().invoke(app, [*words, "--help"], prog_name="mdfollow").stdout


def test_help_placeholders_are_plain_words() -> None:
    names = sorted(typer.main.get_group(app).commands)
    for name in names:
        text = _help(name)
        assert "{" not in text.split("\n\n", 1)[0] and "<str>" not in text and "<int" not in text, text
    assert _help("log").startswith("Usage: mdfollow log [OPTIONS] PROSPECT CHANNEL [NOTE]\n")
    assert "--date DATE" in _help("log") and "--time HH:MM" in _help("log") and "--for GAP" in _help("snooze")
    assert "--company TEXT" in _help("add") and "--days N" in _help("due")


def test_shell_completion_is_offered_and_works(tmp_path: Path) -> None:
    assert "--install-completion" in _help() and "--show-completion" in _help()
    script = subprocess.run(
        [str(MDFOLLOW), "--show-completion", "bash"], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout
    assert "_MDFOLLOW_COMPLETE" in script
    completed = subprocess.run(
        [str(MDFOLLOW)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            **os.environ,
            "_MDFOLLOW_COMPLETE": "complete_bash",
            "COMP_WORDS": "mdfollow sn",
            "COMP_CWORD": "1",
        },
    )
    assert "snooze" in completed.stdout


@pytest.mark.parametrize("command", [("log", "ahmed", "call"), ("ics",), ("snooze", "ahmed", "--for", "1w")])
def test_writes_and_the_feed_show_file_names_visibly_too(
    write: WriteFile, run: RunCli, command: tuple[str, ...]
) -> None:
    write(f"{CLEAR}ahmed.md", "---\nname: Ahmed\ncreated: 2026-11-30\n---\n## Touches\n")
    write(f"bad{OSC52}.md", "---\nname: A: B\n---\n")
    result = run(*command)
    assert result.exit_code == 0, result
    assert "\x1b" not in result.stderr
    if command[0] == "ics":
        assert "\\x1b]52;c;SGVsbG8=\\x07.md:2: broken YAML" in result.stderr
    else:
        assert "\x1b" not in result.stdout and "\\x1b[2Jahmed.md" in result.stdout

"""The read-only commands through the real CLI: output, exit codes, and nothing written."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from mdfollow.cli import app
from tests.conftest import RunCli, WriteFile

FILES = {
    "ann.md": "---\nname: Ann Lee\ncompany: Pixel Ltd\ntags: [warm]\ncreated: 2026-11-20\n---\n",
    "ben.md": "---\nname: Ben Ng\nemail: ben@ng.example\n---\n## Touches\n- 2026-11-27 email in: call me\n",
    "cat.md": "---\nname: Cat Roe\n---\n## Touches\n- 2026-11-26 call: intro\n",
    "dan.md": "---\nname: Dan Wu\nstatus: won\nclosed: 2026-10-01\n---\n## Touches\n- 2026-10-01 meeting:\n",
    "eve.md": "---\nname: Eve Fox\nstatus: lost\n---\n## Touches\n- 2026-11-01 call: no budget\n",
    "fay.md": "---\nname: Fay Ode\nstatus: dnc\nnext: 2026-12-01\n---\n",
}


@pytest.fixture
def filled(write: WriteFile) -> None:
    for name, text in FILES.items():
        write(name, text)


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.usefixtures("filled")
def test_due_json(run: RunCli) -> None:
    result = run("due", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [(r["id"], r["due"], r["overdue_days"], r["reason"], r["touch"], r["channel"]) for r in rows] == [
        ("ann", "2026-11-20", 10, "new", 1, None),
        ("ben", "2026-11-30", 0, "reply", 1, "email"),
        ("cat", "2026-11-30", 0, "cadence", 2, "email"),
    ]
    keys = {"id", "name", "company", "status", "due", "overdue_days", "touch", "channel", "reason", "path"}
    assert keys <= set(rows[0])
    assert rows[0]["path"].endswith("ann.md") and rows[0]["company"] == "Pixel Ltd"


@pytest.mark.usefixtures("filled")
def test_due_days_all_and_exhausted(folder: Path, run: RunCli, write: WriteFile) -> None:
    (folder / "mdfollow.toml").write_text('[cadences.once]\ngaps = []\nthen = "stop"\n')
    write("gus.md", "---\nname: Gus\ncadence: once\n---\n## Touches\n- 2026-11-02 call:\n")
    assert [r["id"] for r in json.loads(run("due", "--json", "--days", "7").stdout)] == ["ann", "ben", "cat"]
    everything = json.loads(run("due", "--all", "--json").stdout)
    assert [(r["id"], r["due"]) for r in everything] == [
        ("ann", "2026-11-20"),
        ("ben", "2026-11-30"),
        ("cat", "2026-11-30"),
        ("dan", "2027-01-01"),
    ]
    [exhausted] = json.loads(run("due", "--exhausted", "--json").stdout)
    assert (exhausted["id"], exhausted["due"], exhausted["reason"]) == ("gus", None, "exhausted")


@pytest.mark.usefixtures("filled")
def test_due_table_and_summary(run: RunCli) -> None:
    result = run("due")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["DUE", "TOUCH", "CHANNEL", "NAME", "COMPANY", "WHY"]
    assert "10d late" in lines[1] and "Ann Lee" in lines[1] and "\x1b" not in result.stdout
    assert lines[-1] == "2 due today, 1 overdue"


def test_nothing_due(run: RunCli) -> None:
    assert run("due").stdout == "Nothing due. Well done.\n"
    assert run("due", "--json").stdout == "[]\n"


@pytest.mark.usefixtures("filled")
def test_list_json_and_filters(run: RunCli) -> None:
    rows = json.loads(run("list", "--json").stdout)
    assert [r["id"] for r in rows] == ["ann", "ben", "cat", "dan", "eve", "fay"]
    dan = rows[3]
    assert dan == {
        "id": "dan",
        "name": "Dan Wu",
        "company": None,
        "status": "won",
        "tags": [],
        "touches": 1,
        "last_touch": "2026-10-01",
        "due": "2027-01-01",
        "path": dan["path"],
    }
    assert rows[5]["due"] is None
    assert [r["id"] for r in json.loads(run("list", "--status", "lost", "--json").stdout)] == ["eve"]
    assert [r["id"] for r in json.loads(run("list", "--tag", "WARM", "--json").stdout)] == ["ann"]
    bad = run("list", "--status", "gone")
    assert bad.exit_code == 2 and "'gone' is not one of" in bad.stderr


@pytest.mark.usefixtures("filled")
def test_show(run: RunCli) -> None:
    data = json.loads(run("show", "ben", "--json").stdout)
    assert (data["id"], data["email"], data["due"], data["reason"], data["touch"], data["channel"]) == (
        "ben",
        "ben@ng.example",
        "2026-11-30",
        "reply",
        1,
        "email",
    )
    assert data["touches"] == [
        {
            "date": "2026-11-27",
            "time": None,
            "channel": "email",
            "direction": "in",
            "note": "call me",
            "line": 6,
        }
    ]
    assert data["notes"] == []
    text = run("show", "Cat").stdout
    assert "Cat Roe" in text and "2026-11-30 (today): touch #2 by email, cadence" in text


@pytest.mark.usefixtures("filled")
def test_show_errors_are_one_line_and_exit_1(run: RunCli) -> None:
    missing = run("show", "nobody")
    assert (missing.exit_code, missing.stderr) == (1, "mdfollow: no prospect matches 'nobody'\n")
    several = run("show", "n")
    assert several.exit_code == 1 and "matches" in several.stderr and len(several.stderr.splitlines()) == 1


def test_check_reports_everything_and_exits_1(folder: Path, write: WriteFile, run: RunCli) -> None:
    (folder / "mdfollow.toml").write_text('channels = ["call", "email"]\n')
    write("good.md", "---\nname: Good\nnext: 2026-11-01\n---\n## Touches\n- 2026-11-02 fax: sent\n")
    write("dnc.md", "---\nname: Dnc\nstatus: dnc\nnext: 2026-12-01\n---\n")
    write("odd.md", "---\nname: Odd\ncadence: turbo\n---\n## Touches\n- yesterday call: hi\n")
    write("bad.md", "---\nname: Bad\ncreated: 2026-02-30\n---\n")
    before = snapshot(folder)
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f'{folder}/bad.md:3: created "2026-02-30" is not a date',
        f"{folder}/dnc.md:4: warning: status is dnc (do not contact): next is ignored",
        f"{folder}/good.md:3: warning: next 2026-11-01 is not after the latest touch (2026-11-02): ignored",
        f"{folder}/good.md:6: warning: channel 'fax' is not in the channels of {folder}/mdfollow.toml",
        f"{folder}/odd.md:3: unknown cadence 'turbo' (known: customer, default)",
        f'{folder}/odd.md:6: expected "- YYYY-MM-DD [HH:MM] channel[ in]: note"',
        "3 prospects checked: 3 errors, 3 warnings",
    ]
    assert result.stderr == ""
    assert snapshot(folder) == before


def test_check_passes_on_warnings_only(write: WriteFile, run: RunCli) -> None:
    write("a.md", "---\nname: A\nstatus: dnc\nnext: 2026-12-01\n---\n")
    result = run("check")
    assert result.exit_code == 0
    assert "a.md:4: warning: status is dnc (do not contact): next is ignored" in result.stdout + result.stderr


def test_bad_files_warn_but_every_good_prospect_is_listed(write: WriteFile, run: RunCli) -> None:
    write("good.md", "---\nname: Good\n---\n")
    write("broken.md", "---\nname: 'open\n---\n")
    write("bad-touch.md", "---\nname: Touchy\n---\n## Touches\n- 2026-11-02 call: ok\n- oops\n")
    result = run("list", "--json")
    assert result.exit_code == 0
    assert sorted(r["id"] for r in json.loads(result.stdout)) == ["bad-touch", "good"]
    assert "broken.md:" in result.stderr and "bad-touch.md:6:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_config_is_one_line(folder: Path, write: WriteFile, run: RunCli) -> None:
    (folder / "mdfollow.toml").write_text('reply = "tomorrow"\n')
    result = run("due")
    assert result.exit_code == 1
    assert (
        result.stderr
        == f'mdfollow: {folder}/mdfollow.toml:1: reply: \'tomorrow\' is not a gap (use "Nd", "Nw" or "Nm", then a channel)\n'
    )


def test_bad_global_options_are_usage_errors(run: RunCli, folder: Path) -> None:
    result = run("due", today="2026-13-01")
    assert result.exit_code == 2 and "'2026-13-01' is not a date" in result.stderr
    runner_result = run("--dir", str(folder / "missing"), "due")
    assert runner_result.exit_code == 2 and "not a folder" in runner_result.stderr


def test_today_and_dir_from_the_environment(folder: Path, write: WriteFile) -> None:
    write("a.md", "---\nname: A\ncreated: 2026-11-20\n---\n")
    env = {**os.environ, "MDFOLLOW_DIR": str(folder), "MDFOLLOW_TODAY": "2026-11-25", "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mdfollow", "due", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)[0]["overdue_days"] == 5


def test_the_root_is_found_from_a_subfolder(folder: Path, write: WriteFile) -> None:
    write("a.md", "---\nname: A\n---\n")
    (folder / "sub").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "mdfollow", "--today", "2026-11-30", "list", "--json"],
        cwd=folder / "sub",
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)[0]["path"] == "../a.md"


def test_version() -> None:
    result = subprocess.run([sys.executable, "-m", "mdfollow", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("mdfollow ")


COMMANDS = sorted(c.name or "" for c in typer.main.get_group(app).commands.values())


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, run: RunCli) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert len(result.stdout.split("\n\n")[1].strip()) > 10


def test_show_json_gives_the_checked_form_of_known_keys(write: WriteFile, run: RunCli) -> None:
    write(
        "a.md",
        "---\nname: A\ntags: foo, bar\ncreated: 2026-11-01T09:15:00\nnext: 2026-12-03 14:30\nmine: x\n---\n",
    )
    data = json.loads(run("show", "a", "--json").stdout)
    assert (data["tags"], data["created"], data["next"], data["mine"]) == (
        ["foo", "bar"],
        "2026-11-01",
        "2026-12-03T14:30",
        "x",
    )


def test_help_loads_no_parser_nor_feed_library() -> None:
    """Startup speed: `--help` needs typer and the command modules, not YAML or icalendar."""
    script = (
        "import sys; from mdfollow.cli import main; sys.argv = ['mdfollow', '--help']\n"
        "try: main()\n"
        "except SystemExit: pass\n"
        "heavy = {'yaml', 'frontmatter', 'icalendar', 'watchdog', 'vobject', 'anyascii', 'mdfollow.store.edit'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "[]"

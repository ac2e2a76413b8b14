"""`mdfollow import` through the real CLI: files written, skipped, reported; nothing on a dry run."""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mdfollow.cli import imports
from mdfollow.core.errors import MdfollowError
from mdfollow.store import edit
from mdfollow.store.git import PATHSPEC_ARGS
from tests.conftest import RunCli, WriteFile


def card(*lines: str) -> str:
    return "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", *lines, "END:VCARD"]) + "\r\n"


@pytest.fixture
def cards(tmp_path: Path) -> Path:
    """Three good cards, a malformed one between them, and one repeating an email."""
    path = tmp_path / "cards.vcf"
    path.write_text(
        card("FN:José Müller", "ORG:Müller GmbH", "EMAIL:jose@mueller.example", "TITLE:Buyer")
        + card("FN Broken", "EMAIL:broken@example.com")
        + card("FN:Jane Again", "EMAIL:JANE@acme.example")
        + card("FN:佐藤 花子", "EMAIL:hanako@sato.example", "NOTE:Met at the expo")
        + card("FN:José Twice", "EMAIL:Jose@Mueller.example"),
        encoding="utf-8",
        newline="",
    )
    return path


@pytest.fixture
def jane(write: WriteFile) -> Path:
    return write("jane.md", "---\nname: Jane Doe\nemail: jane@acme.example\n---\n")


def prospects(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.md"))


@pytest.mark.usefixtures("jane")
def test_import_vcards(cards: Path, folder: Path, run: RunCli) -> None:
    result = run("import", str(cards), "--tag", "expo", "--tag", "2026", "--source", "Leeds expo")
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == f"{cards}: vCard, UTF-8, 4 contacts"
    assert lines[-1] == "2 imported, 2 skipped (email exists), 1 bad record"
    assert result.stderr.splitlines() == [
        f"{cards}:8: malformed vCard: Failed to parse line: FN Broken: skipped",
        f"{cards}:13: Jane Again <JANE@acme.example>: email already in {folder / 'jane.md'}: skipped",
        f"{cards}:24: José Twice <Jose@Mueller.example>: email already imported from line 1: skipped",
    ]
    assert prospects(folder) == ["jane.md", "jose-muller-muller-gmbh.md", "zuo-teng-hua-zi.md"]
    jose = (folder / "jose-muller-muller-gmbh.md").read_text(encoding="utf-8")
    assert jose.startswith(
        "---\nname: José Müller\ncompany: Müller GmbH\nemail: jose@mueller.example\nstatus: active\n"
        'source: Leeds expo\ntags: [expo, "2026"]\ncreated: 2026-11-30\n---\n'
    )
    assert "Title: Buyer" in jose
    listed = json.loads(run("list", "--json").stdout)
    assert sorted(p["name"] for p in listed) == ["Jane Doe", "José Müller", "佐藤 花子"]
    check = run("check")
    assert check.exit_code == 0, check
    due = json.loads(run("due", "--json").stdout)
    assert {d["name"]: d["reason"] for d in due}["佐藤 花子"] == "new"


@pytest.mark.usefixtures("jane")
def test_dry_run_writes_nothing(cards: Path, folder: Path, run: RunCli) -> None:
    result = run("import", str(cards), "--dry-run")
    assert result.exit_code == 0, result
    assert "would create: José Müller, Müller GmbH <jose@mueller.example>" in result.stdout
    assert "would create: 佐藤 花子 <hanako@sato.example>" in result.stdout
    assert result.stdout.splitlines()[-1] == "2 would be imported, 2 skipped (email exists), 1 bad record"
    assert prospects(folder) == ["jane.md"]


def test_importing_twice_imports_nothing_new(cards: Path, folder: Path, run: RunCli) -> None:
    assert run("import", str(cards)).exit_code == 0
    before = prospects(folder)
    again = run("import", str(cards))
    assert again.stdout.splitlines()[-1] == "0 imported, 4 skipped (email exists), 1 bad record"
    assert prospects(folder) == before


def test_linkedin_csv_in_cp1252(tmp_path: Path, folder: Path, run: RunCli) -> None:
    path = tmp_path / "Connections.csv"
    path.write_bytes(
        b"Notes:\r\n"
        b'"When exporting your connection data, some email addresses may be missing."\r\n'
        b"\r\n"
        b"First Name,Last Name,Email Address,Company,Position,Connected On\r\n"
        b"Zo\xeb,Kraus,zoe@creme.example,Caf\xe9 Cr\xe8me,CTO,14 Oct 2026\r\n"
        b"Ana,L\xf3pez,,Sol,,02 Oct 2026\r\n"
    )
    result = run("import", str(path), "--source", "LinkedIn")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines()[0] == (
        f"{path}: LinkedIn connections (header on line 4), cp1252, 2 contacts"
    )
    text = (folder / "zoe-kraus-cafe-creme.md").read_text(encoding="utf-8")
    assert "name: Zoë Kraus\ncompany: Café Crème\n" in text
    assert "Position: CTO\nConnected On: 14 Oct 2026\n" in text
    assert (folder / "ana-lopez-sol.md").exists()


def test_a_csv_without_a_name_column_is_one_error(tmp_path: Path, folder: Path, run: RunCli) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Email,Company\na@x.example,Acme\n")
    result = run("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"mdfollow: {path}: no name column found")
    assert prospects(folder) == []


def test_a_missing_file_is_an_error(tmp_path: Path, run: RunCli) -> None:
    result = run("import", str(tmp_path / "nope.vcf"))
    assert result.exit_code == 1
    assert "nope.vcf: cannot read" in result.stderr


def test_a_record_the_writer_refuses_is_a_bad_record(
    tmp_path: Path, folder: Path, run: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = edit.create_prospect

    def refuse_bob(root: Path, name: str, **fields: Any) -> Path:
        if name == "Bob":
            raise MdfollowError("cannot write a prospect file for 'Bob': name would not read back")
        return real(root, name, **fields)

    monkeypatch.setattr(edit, "create_prospect", refuse_bob)
    path = tmp_path / "leads.csv"
    path.write_text("Name,Email\nAnn,ann@x.example\nBob,bob@x.example\nCy,cy@x.example\n")
    result = run("import", str(path))
    assert result.exit_code == 0, result
    assert result.stderr == f"{path}:3: cannot write a prospect file for 'Bob': name would not read back\n"
    assert result.stdout.splitlines()[-1] == "2 imported, 0 skipped (email exists), 1 bad record"
    assert prospects(folder) == ["ann.md", "cy.md"]


def _limit_file_size() -> None:
    """In the child: files may not grow past 300 bytes, and exceeding that is an error, not a kill."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300, 300))


def test_files_the_disk_refuses_are_counted_apart_and_exit_1(tmp_path: Path, folder: Path) -> None:
    """A real write failure (even as root): a file-size limit that Bob's long note exceeds."""
    path = tmp_path / "leads.csv"
    path.write_text(f"Name,Email,Notes\nAnn,ann@x.example,\nBob,bob@x.example,{'x' * 400}\n,,\n")
    command = [sys.executable, "-m", "mdfollow", "--dir", str(folder), "--today", "2026-11-30"]
    result = subprocess.run(
        [*command, "import", str(path)],
        preexec_fn=_limit_file_size,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result
    assert (
        result.stdout.splitlines()[-1]
        == "1 imported, 0 skipped (email exists), 0 bad records, 1 failed to write"
    )
    assert result.stderr == f"{path}:3: {folder / 'bob.md'}: cannot write: File too large\n"
    assert sorted(os.listdir(folder)) == ["ann.md", "mdfollow.toml"]


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(folder), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.usefixtures("jane")
def test_autocommit_commits_the_imported_files_in_one_commit(cards: Path, folder: Path, run: RunCli) -> None:
    (folder / "mdfollow.toml").write_text("[git]\nautocommit = true\n")
    (folder / "draft.md").write_text("staged by the user\n")
    git(folder, "init", "-q")
    git(folder, "config", "user.name", "Test")
    git(folder, "config", "user.email", "test@example.com")
    git(folder, "add", "jane.md", "mdfollow.toml")
    git(folder, "commit", "-q", "-m", "start")
    git(folder, "add", "draft.md")

    result = run("import", str(cards))
    assert result.exit_code == 0 and "warning" not in result.stderr, result
    assert git(folder, "log", "-1", "--format=%s", "--name-only").splitlines() == [
        "import: 2 prospects from cards.vcf",
        "",
        "jose-muller-muller-gmbh.md",
        "zuo-teng-hua-zi.md",
    ]
    assert git(folder, "status", "--porcelain") == "A  draft.md"


def test_autocommit_of_one_prospect_and_of_many(tmp_path: Path, folder: Path, run: RunCli) -> None:
    (folder / "mdfollow.toml").write_text("[git]\nautocommit = true\n")
    git(folder, "init", "-q")
    git(folder, "config", "user.name", "Test")
    git(folder, "config", "user.email", "test@example.com")
    one = tmp_path / "one.csv"
    one.write_text("Name\nAnn\n")
    assert run("import", str(one)).exit_code == 0
    assert git(folder, "log", "-1", "--format=%s") == "import: 1 prospect from one.csv"
    many = tmp_path / "many.csv"
    many.write_text("Name\n" + "".join(f"Person {n}\n" for n in range(PATHSPEC_ARGS + 1)))
    assert run("import", str(many)).exit_code == 0
    assert git(folder, "log", "-1", "--format=%s") == f"import: {PATHSPEC_ARGS + 1} prospects from many.csv"
    assert git(folder, "status", "--porcelain") == "?? mdfollow.toml"


def test_autocommit_outside_a_repository_warns_and_keeps_the_files(
    tmp_path: Path, folder: Path, run: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(folder.parent))
    (folder / "mdfollow.toml").write_text("[git]\nautocommit = true\n")
    path = tmp_path / "leads.csv"
    path.write_text("Name\nAnn\n")
    result = run("import", str(path))
    assert result.exit_code == 0
    assert result.stderr.startswith("mdfollow: warning: not committed: fatal: not a git repository")
    assert prospects(folder) == ["ann.md"]


def test_vobject_is_not_imported_at_startup() -> None:
    code = "import sys, mdfollow.cli; print('vobject' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_and_only_for_large_files(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert not imports.Progress(imports.PROGRESS_FROM - 1).enabled
    progress = imports.Progress(imports.PROGRESS_FROM)
    progress.step()
    progress.echo("a/path.md")
    progress.close()
    assert capsys.readouterr().out == "a/path.md\n"
    shown = terminal.getvalue()
    assert shown.startswith(f"\rimporting 1/{imports.PROGRESS_FROM}\r\x1b[K")
    assert shown.endswith("\r\x1b[K")
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not imports.Progress(1000).enabled

"""Writes keep what the user set on a file, refuse what a replace would damage, leave no temp (SPEC §6)."""

from __future__ import annotations

import datetime
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mdfollow.core.change import Change, Entry
from mdfollow.store.atomic import is_temp_of, temp_prefix
from mdfollow.store.edit import edit_prospect
from tests.conftest import TODAY, RunCli, WriteFile

TODAY_DATE = datetime.date.fromisoformat(TODAY)

JANE = "---\nname: Jane Doe\nstatus: active\n---\n# Jane\n\n## Touches\n- 2026-11-01 call: hello\n"
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def jane(write: WriteFile) -> Path:
    return write("jane.md", JANE)


def test_a_hard_linked_prospect_is_refused_and_stays_linked(
    folder: Path, jane: Path, run: RunCli, tmp_path: Path
) -> None:
    other = tmp_path / "elsewhere.md"
    os.link(jane, other)
    result = run("log", str(jane), "call", "again")
    assert result.exit_code == 1
    assert result.stderr == (
        f"mdfollow: {jane}: has 2 hard links: not changed (a rewrite would split them; "
        "make it one file, e.g. `cp` it and delete the other names)\n"
    )
    assert jane.read_text() == JANE and os.path.samefile(jane, other)


def test_a_read_only_file_is_refused_even_for_root(folder: Path, jane: Path, run: RunCli) -> None:
    jane.chmod(0o444)
    result = run("log", "jane", "call", "again")
    assert result.exit_code == 1
    assert result.stderr == f"mdfollow: {jane}: is read-only (mode 0444): not changed\n"
    assert jane.read_text() == JANE and stat.S_IMODE(jane.stat().st_mode) == 0o444


def test_a_write_keeps_mode_owner_group_and_extended_attributes(
    folder: Path, jane: Path, run: RunCli
) -> None:
    jane.chmod(0o660)
    try:
        os.setxattr(jane, "user.color", b"red")
    except OSError:
        pytest.skip("this file system has no user extended attributes")
    if ROOT:
        os.chown(jane, 1234, 5678)
    before = jane.stat()
    assert run("log", "jane", "call", "again").exit_code == 0
    after = jane.stat()
    assert after.st_ino != before.st_ino  # replaced, yet the same as far as the user can tell
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (
        0o660,
        before.st_uid,
        before.st_gid,
    )
    assert os.getxattr(jane, "user.color") == b"red"
    assert jane.read_text() == JANE + "- 2026-11-30 call: again\n"


def test_a_255_byte_file_name_is_writable(folder: Path, write: WriteFile, run: RunCli) -> None:
    path = write("j" * 252 + ".md", JANE)
    assert len(os.fsencode(path.name)) == 255
    assert len(temp_prefix(path)) + 8 + len(".tmp") < 40
    result = run("log", str(path), "call", "again")
    assert result.exit_code == 0, result
    assert path.read_text().endswith("- 2026-11-30 call: again\n")


KILLED_WRITER = """
import datetime, os, signal, sys
from pathlib import Path
from mdfollow.core.change import Change, Entry
from mdfollow.store.edit import edit_prospect

def die(descriptor):  # flushing the temporary file: the moment a crash hurts most
    os.kill(os.getpid(), signal.SIGKILL)

os.fsync = die
edit_prospect(Path(sys.argv[1]), Change(entries=[Entry(datetime.date(2026, 11, 30), "call", "killed")]))
"""


def test_a_temp_file_left_by_a_killed_write_is_removed_by_the_next(folder: Path, jane: Path) -> None:
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(jane)], capture_output=True, timeout=30)
    assert killed.returncode == -signal.SIGKILL
    [left] = [name for name in os.listdir(folder) if name.startswith(".")]
    assert is_temp_of(left, jane)
    assert jane.read_text() == JANE  # the old file, whole
    (folder / "other.md").write_text(JANE)
    kept = [".jane.md.swp", temp_prefix(folder / "other.md") + "abcd1234.tmp", temp_prefix(jane) + "x.tmp"]
    for name in kept:  # an editor's swap file, another file's temp, a name not of the pattern
        (folder / name).write_text("keep me")
    edit_prospect(jane, Change(entries=[Entry(TODAY_DATE, "call", "next write")]))
    assert sorted(name for name in os.listdir(folder) if name.startswith(".")) == sorted(kept)
    assert jane.read_text() == JANE + "- 2026-11-30 call: next write\n"


def test_the_same_touch_twice_is_logged_once(folder: Path, jane: Path, run: RunCli) -> None:
    assert run("log", "jane", "email", "sent the quote", "--time", "09:30").exit_code == 0
    once = jane.read_text()
    again = run("log", "jane", "email", "sent the quote", "--time", "09:30")
    assert again.exit_code == 0
    assert again.stderr == (
        f"{jane}:9: warning: the same touch is already logged: nothing written "
        "(2026-11-30 09:30 email: sent the quote)\n"
    )
    assert again.stdout == ""
    assert jane.read_text() == once
    assert run("log", "jane", "email", "sent the quote", "--in", "--time", "09:30").exit_code == 0
    assert jane.read_text() == once + "- 2026-11-30 09:30 email in: sent the quote\n"

"""`ics -o` and `watch -o` write only what they mean to (SPEC §6): a new file, or over a feed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TODAY, RunCli, WriteFile

JANE = "---\nname: Jane Doe\nstatus: active\ncreated: 2026-11-20\n---\n# Jane\n\n## Touches\n"
OLD_FEED = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


@pytest.fixture
def jane(write: WriteFile) -> Path:
    return write("jane.md", JANE)


def test_a_new_file_is_created_and_an_old_feed_replaced(folder: Path, jane: Path, run: RunCli) -> None:
    target = folder / "feed.ics"
    assert run("ics", "-o", str(target)).exit_code == 0
    first = target.read_bytes()
    assert first.startswith(b"BEGIN:VCALENDAR\r\n") and b"Jane Doe" in first
    target.write_bytes(OLD_FEED)
    assert run("ics", "-o", str(target)).exit_code == 0
    assert target.read_bytes() == first


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("jane.md", None),  # a prospect
        ("mdfollow.toml", b'[calendar]\nname = "Mine"\n'),
        ("notes.txt", b"call the bank\n"),
        ("empty.ics", b""),
        ("almost.ics", b"BEGIN:VCARD\r\nEND:VCARD\r\n"),
    ],
)
def test_any_other_existing_file_is_refused_and_kept(
    folder: Path, jane: Path, run: RunCli, name: str, content: bytes | None
) -> None:
    target = folder / name
    if content is not None:
        target.write_bytes(content)
    before = target.read_bytes()
    result = run("ics", "-o", str(target))
    assert result.exit_code == 1
    assert result.stderr == (
        f"mdfollow: {target}: exists and is not a calendar feed (its first line is not "
        "BEGIN:VCALENDAR): not overwritten (remove it or choose another name)\n"
    )
    assert target.read_bytes() == before


def test_a_fifo_is_refused_without_hanging(folder: Path, jane: Path, run: RunCli) -> None:
    fifo = folder / "feed.ics"
    os.mkfifo(fifo)
    result = run("ics", "-o", str(fifo))
    assert result.exit_code == 1
    assert result.stderr == f"mdfollow: {fifo}: is a FIFO, not a feed file: not written\n"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_is_refused(folder: Path, jane: Path, run: RunCli) -> None:
    device = folder / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    result = run("ics", "-o", str(device))
    assert result.exit_code == 1
    assert result.stderr == f"mdfollow: {device}: is a device, not a feed file: not written\n"
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_a_symlink_is_followed_and_stays_a_link(
    folder: Path, jane: Path, run: RunCli, tmp_path: Path
) -> None:
    published = tmp_path / "www"
    published.mkdir()
    real = published / "follow-ups.ics"
    real.write_bytes(OLD_FEED)
    link = folder / "feed.ics"
    link.symlink_to(real)
    assert run("ics", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert b"Jane Doe" in real.read_bytes()
    assert sorted(os.listdir(published)) == ["follow-ups.ics"] and sorted(os.listdir(folder)) == [
        "feed.ics",
        "jane.md",
        "mdfollow.toml",
    ]
    dangling = folder / "new.ics"
    dangling.symlink_to(published / "new.ics")
    assert run("ics", "-o", str(dangling)).exit_code == 0
    assert dangling.is_symlink() and (published / "new.ics").read_bytes() == real.read_bytes()


def test_a_symlink_to_a_prospect_is_refused(folder: Path, jane: Path, run: RunCli) -> None:
    link = folder / "feed.ics"
    link.symlink_to(jane)
    result = run("ics", "-o", str(link))
    assert result.exit_code == 1
    assert "is not a calendar feed" in result.stderr
    assert jane.read_text() == JANE and link.is_symlink()


def test_watch_refuses_a_prospect_before_it_starts(folder: Path, jane: Path) -> None:
    command = [sys.executable, "-m", "mdfollow", "--dir", str(folder), "--today", TODAY]
    result = subprocess.run([*command, "watch", "-o", str(jane)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.endswith("not overwritten (remove it or choose another name)\n")
    assert result.stderr.count("\n") == 1
    assert jane.read_text() == JANE

"""The README's commands run as written on a fresh folder, and its sample output is real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BIN = Path(sys.executable).parent

NOT_RUN = {
    "python3 tasks.py demo": "Quick start: CI runs tasks.py itself (and `test` would run this suite inside it)",
    "mdfollow ics -o ~/Calendars/follow-ups.ics": "In your calendar: writes into ~ and starts watch/serve",
    "python3 tasks.py test": "Development: runs this suite, the linters and the benchmarks",
}
"""Blocks left out, by their first command, each reviewed: why it is not run here."""


def sh_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.M | re.S)


def first_command(block: str) -> str:
    return block.splitlines()[0].split("#", 1)[0].strip()


def test_every_block_is_run_or_listed_with_a_reason() -> None:
    firsts = [first_command(block) for block in sh_blocks()]
    assert set(NOT_RUN) <= set(firsts), "a listed block is gone from the README: update NOT_RUN"
    assert [f for f in firsts if f not in NOT_RUN], "no README block would be run"


@pytest.mark.parametrize(
    "block", [b for b in sh_blocks() if first_command(b) not in NOT_RUN], ids=first_command
)
def test_a_readme_block_runs_as_written_in_a_fresh_folder(block: str, tmp_path: Path) -> None:
    assert shutil.which("mdfollow", path=str(BIN)), "mdfollow is not installed beside this Python"
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "MDFOLLOW_TODAY": "2026-11-30",
        "GIT_AUTHOR_NAME": "Sam Seller",
        "GIT_AUTHOR_EMAIL": "sam@seller.example",
        "GIT_COMMITTER_NAME": "Sam Seller",
        "GIT_COMMITTER_EMAIL": "sam@seller.example",
        "GIT_CONFIG_NOSYSTEM": "1",
        "LANG": "C.UTF-8",
    }
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    if "git diff" in block:
        added = [line for line in result.stdout.splitlines() if line.startswith("+- ")]
        assert any("call: left voicemail" in line for line in added), result.stdout
        assert any("email in: call me in two weeks" in line for line in added), result.stdout
        assert "ambiguous" not in result.stderr and "matches 2" not in result.stderr


def test_the_quick_start_sample_is_what_demo_prints() -> None:
    text = README.read_text(encoding="utf-8")
    sample = text.split("Its output:\n\n```\n", 1)[1].split("```", 1)[0].splitlines()
    result = subprocess.run(
        [str(BIN / "mdfollow"), "--dir", "examples", "--today", "2026-12-01", "due", "--days", "7"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "MDFOLLOW_NO_CACHE": "1", "COLUMNS": ""},
        check=True,
    )
    printed = result.stdout.splitlines()
    shown = [line for line in sample if line != "..."]
    assert all(line in printed for line in shown), (sample, printed)
    assert (sample[0], sample[-1]) == (printed[0], printed[-1])


def test_the_readme_prospect_file_is_a_clean_prospect(tmp_path: Path) -> None:
    [example] = re.findall(r"^```markdown\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.M | re.S)
    (tmp_path / "mdfollow.toml").write_text("")
    (tmp_path / "jane-doe.md").write_text(example, encoding="utf-8")
    result = subprocess.run(
        [str(BIN / "mdfollow"), "--dir", str(tmp_path), "--today", "2026-11-30", "show", "jane", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "MDFOLLOW_NO_CACHE": "1"},
        check=True,
    )
    shown = json.loads(result.stdout)
    assert (len(shown["touches"]), len(shown["notes"]), shown["reason"]) == (4, 1, "next")
    checked = subprocess.run(
        [str(BIN / "mdfollow"), "--dir", str(tmp_path), "check"], capture_output=True, text=True
    )
    assert (checked.returncode, checked.stdout) == (0, "1 file checked: 0 errors, 0 warnings\n")

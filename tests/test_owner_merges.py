"""What a union merge or a rebase of a shared folder can leave, and `check --fix-duplicates`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import RunCli, WriteFile

JANE = """\
---
name: Jane Doe
owner: alice
created: 2026-11-01
---
## Touches
- 2026-11-02 email: sent quote #1042
- 2026-11-09 call: no answer
    left a voicemail
- 2026-11-02 email: sent quote #1042
- 2026-11-09 call: no answer
    left a voicemail
- 2026-11-09 call: no answer
- 2026-11-10 note: asked to call back
- 2026-11-10 note: asked to call back
"""


def test_check_warns_about_each_repeated_touch_and_a_repeated_key(write: WriteFile, run: RunCli) -> None:
    write("jane.md", JANE)
    write("bob.md", "---\nname: Bob\nnext: 2026-12-01\nnext: 2026-12-03\n---\n")
    result = run("check")
    assert result.exit_code == 0, result  # warnings, not errors: the files still read
    lines = result.stdout.splitlines()
    jane = [line for line in lines if line.startswith(str(Path(lines[0]).parent)) and "jane.md" in line]
    assert [line.split(":")[1] for line in jane] == ["10", "11", "15"]
    assert "the same touch as line 7" in jane[0] and "--fix-duplicates" in jane[0]
    assert "the same touch as line 8" in jane[1]
    assert any("bob.md:4: warning: key 'next' appears twice" in line for line in lines)


def test_fix_duplicates_removes_exact_copies_only(write: WriteFile, run: RunCli, folder: Path) -> None:
    path = write("jane.md", JANE)
    (folder / "nina.md").write_text("---\nname: Nina\n---\n## Touches\n- 2026-11-02 call: hi\n")
    nina = (folder / "nina.md").read_bytes()
    result = run("check", "--fix-duplicates")
    assert result.exit_code == 0, result
    assert f"{path}: removed 3 repeated touch lines" in result.stdout
    assert path.read_text() == (
        "---\nname: Jane Doe\nowner: alice\ncreated: 2026-11-01\n---\n## Touches\n"
        "- 2026-11-02 email: sent quote #1042\n"
        "- 2026-11-09 call: no answer\n    left a voicemail\n"
        "- 2026-11-09 call: no answer\n"  # not a copy: the voicemail line is not there
        "- 2026-11-10 note: asked to call back\n"
    )
    assert (folder / "nina.md").read_bytes() == nina
    assert "the same touch" not in result.stdout
    assert "removed" not in run("check", "--fix-duplicates").stdout


def test_fix_duplicates_keeps_crlf_and_an_inexact_copy(write: WriteFile, run: RunCli) -> None:
    text = "---\r\nname: Jane\r\n---\r\n## Touches\r\n- 2026-11-02 call: hi\r\n-  2026-11-02 call: hi\r\n- 2026-11-02 call: hi\r\n"
    path = write("jane.md", text.encode())
    result = run("check", "--fix-duplicates")
    assert "removed 1 repeated touch line" in result.stdout
    assert (
        path.read_bytes()
        == b"---\r\nname: Jane\r\n---\r\n## Touches\r\n- 2026-11-02 call: hi\r\n-  2026-11-02 call: hi\r\n"
    )
    assert ":6: warning: the same touch as line 5" in result.stdout  # still said: fix it by hand


def test_a_union_merge_of_two_logs_of_the_same_touch_is_found_and_fixed(
    folder: Path, run: RunCli, tmp_path: Path
) -> None:
    """Two people log the same call on the same day in their clones; with `*.md merge=union`
    git keeps both lines, `check` says so, and `--fix-duplicates` leaves one."""

    def git(*args: str, cwd: Path = folder) -> str:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    git("init", "-q", "-b", "main")
    git("config", "user.email", "a@example.com")
    git("config", "user.name", "A")
    (folder / ".gitattributes").write_text("*.md merge=union\n")
    (folder / "jane.md").write_text(
        "---\nname: Jane\nowner: alice\n---\n## Touches\n- 2026-11-02 email: quote\n"
    )
    git("add", ".")
    git("commit", "-qm", "jane")
    git("checkout", "-qb", "bob")
    run("log", "jane", "email", "sent brochure", "--date", "2026-11-29")
    run("log", "jane", "call", "left a voicemail", "--date", "2026-11-30")
    run("log", "jane", "text", "texted the link", "--date", "2026-11-30")
    git("commit", "-qam", "bob logs")
    git("checkout", "-q", "main")
    run("log", "jane", "call", "left a voicemail", "--date", "2026-11-30")
    run("log", "jane", "email", "sent the price list", "--date", "2026-11-30")
    git("commit", "-qam", "alice logs")
    git("merge", "-q", "bob", "-m", "merge")
    merged = (folder / "jane.md").read_text()
    assert merged.count("left a voicemail") == 2 and "sent brochure" in merged
    assert "the same touch as line" in run("check").stdout
    assert "removed 1 repeated touch line" in run("check", "--fix-duplicates").stdout
    fixed = (folder / "jane.md").read_text()
    assert fixed.count("left a voicemail") == 1 and "sent brochure" in fixed

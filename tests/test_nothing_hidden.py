"""No prospect disappears quietly: skipped files are counted, broken references say why,
near-miss headings and unread encodings are reported, and the folder in use is named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunCli, WriteFile

GOOD = "---\nname: Good Person\nemail: good@x.example\ncreated: 2026-11-30\n---\n## Touches\n"
BROKEN = "---\nname: Ahmed Khan\ncompany: Khan: Textiles\n---\n"


@pytest.fixture
def two_broken(write: WriteFile) -> None:
    write("good.md", GOOD)
    write("ahmed.md", BROKEN)
    write("bad-date.md", "---\nname: Bea\ncreated: 2026-02-30\n---\n")
    write("notes.md", "# just notes, not a prospect\n")


@pytest.mark.usefixtures("two_broken")
@pytest.mark.parametrize("command", [("due",), ("due", "--all"), ("due", "--exhausted"), ("list",)])
def test_every_listing_counts_the_files_it_skipped(run: RunCli, command: tuple[str, ...]) -> None:
    result = run(*command)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].endswith(" · 2 files have errors: run mdfollow check")


@pytest.mark.usefixtures("two_broken")
@pytest.mark.parametrize("command", ["due", "list"])
def test_with_json_the_count_goes_to_stderr_and_stdout_stays_json(run: RunCli, command: str) -> None:
    result = run(command, "--json")
    assert [row["id"] for row in json.loads(result.stdout)] == ["good"]
    assert result.stderr.splitlines()[-1] == "mdfollow: 2 files have errors: run mdfollow check"


def test_one_skipped_file_is_singular_and_a_clean_folder_says_nothing(write: WriteFile, run: RunCli) -> None:
    write("good.md", GOOD)
    assert run("list").stdout.splitlines()[-1] == "1 prospect"
    write("ahmed.md", BROKEN)
    assert run("list").stdout.splitlines()[-1] == "1 prospect · 1 file has errors: run mdfollow check"


def test_a_bad_touch_line_does_not_count_as_skipped(write: WriteFile, run: RunCli) -> None:
    write("good.md", GOOD + "- yesterday call: hi\n")
    assert run("list").stdout.splitlines()[-1] == "1 prospect"


@pytest.mark.usefixtures("two_broken")
def test_check_counts_files_not_only_prospects(run: RunCli) -> None:
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "3 files checked (2 not read as prospects): 2 errors, 0 warnings"


@pytest.mark.usefixtures("two_broken")
@pytest.mark.parametrize("command", [("show", "ahmed"), ("log", "ahmed", "call"), ("show", "AHM")])
def test_a_reference_to_a_broken_file_says_it_has_errors(
    folder: Path, run: RunCli, command: tuple[str, ...]
) -> None:
    result = run(*command)
    assert result.exit_code == 1
    assert result.stderr.splitlines(keepends=True)[-1] == (
        f"mdfollow: {folder}/ahmed.md has errors: line 3: broken YAML: a value with a colon needs quotes"
        ' (key: "text: more text") (fix the file first)\n'
    )
    assert "no prospect matches" not in result.stderr


@pytest.mark.usefixtures("two_broken")
def test_no_match_says_that_broken_files_could_not_be_searched(run: RunCli) -> None:
    result = run("show", "textiles")
    assert result.stderr.splitlines()[-1] == (
        "mdfollow: no prospect matches 'textiles' (2 files have errors and could not be searched: "
        "run mdfollow check)"
    )


def test_a_part_matching_a_good_and_a_broken_file_is_ambiguous(write: WriteFile, run: RunCli) -> None:
    write("jane-smith.md", "---\nname: Jane Smith\n---\n")
    write("jane-doe.md", "---\nname: Jane Doe\n\tcompany: Acme\n---\n")
    result = run("log", "jane", "call")
    assert result.exit_code == 1
    assert "matches 2 prospects: jane-smith (Jane Smith); jane-doe (has errors" in result.stderr


@pytest.mark.parametrize(
    ("front", "line", "hint"),
    [
        ("name: A\ncompany: Acme: West", 3, 'a value with a colon needs quotes (key: "text: more text")'),
        ("name: A\n\tcompany: B", 3, "indent with spaces, not tabs"),
        ("name: A\n  company: B", 3, "this line is indented: keys start at the beginning of the line"),
        ("name: @jane", 2, 'a value starting with @ needs quotes (key: "@…")'),
        ('name: "Jane\ncompany: B', 2, "a quote opened here is not closed"),
        ("name: A\ntags: [a, b", 3, "a [list] opened here is not closed, or an item in it needs quotes"),
        (
            "name: A\nfoo\ncompany: b",
            3,
            "this line is not `key: value` (add the colon, or join it to the line above)",
        ),
        ("name: 'Jane' Doe", 2, "text after a quoted value: quote the whole value (key: \"'Jane' Doe\")"),
        ("name: A\ntags: [", 3, "a value is unfinished here (a [ or { that is not closed?)"),
        ("name: A\nx: " + "[" * 2000 + "]" * 2000, 3, "lists or mappings nested too deeply"),
        ("name: A\nx: " + "[" * 60 + "]" * 60, 3, "lists or mappings nested too deeply"),
    ],
)
def test_yaml_errors_in_plain_words(write: WriteFile, run: RunCli, front: str, line: int, hint: str) -> None:
    path = write("p.md", f"---\n{front}\n---\n")
    assert run("check").stdout.splitlines()[0] == f"{path}:{line}: broken YAML: {hint}"


@pytest.mark.parametrize(
    "heading", ["## Touches log", "## Touch", "### touches:", "## **Touches**", "# Touchpoints"]
)
def test_check_warns_on_a_heading_that_looks_like_the_touch_log(
    write: WriteFile, run: RunCli, heading: str
) -> None:
    path = write("p.md", f"---\nname: P\n---\n# P\n\n{heading}\n- 2026-11-02 call: hi\n")
    result = run("check")
    level = heading.split()[0]
    assert result.stdout.splitlines()[0] == (
        f'{path}:6: warning: heading "{heading}" is not the touch log, so its items are not read: '
        f'name it exactly "{level} Touches"'
    )
    assert f'{path}:6: warning: heading "{heading}"' in run("due").stderr  # and elsewhere too


@pytest.mark.parametrize("heading", ["## Touches", "## TOUCHES", "## Keep in touch", "## Notes"])
def test_no_warning_for_the_real_heading_or_unrelated_ones(
    write: WriteFile, run: RunCli, heading: str
) -> None:
    write("p.md", f"---\nname: P\n---\n{heading}\n- 2026-11-02 call: hi\n")
    assert run("check").stdout == "1 file checked: 0 errors, 0 warnings\n"


def test_a_touch_sub_heading_inside_the_log_is_read_and_not_warned(write: WriteFile, run: RunCli) -> None:
    write("p.md", "---\nname: P\n---\n## Touches\n### Touches in 2026\n- 2026-11-02 call: hi\n")
    assert run("check").stdout == "1 file checked: 0 errors, 0 warnings\n"
    assert json.loads(run("show", "p", "--json").stdout)["touches"][0]["note"] == "hi"


@pytest.mark.parametrize(
    ("codec", "message"),
    [
        ("utf-16", "the file is saved as UTF-16: save it as UTF-8 to be read"),
        ("utf-32", "the file is saved as UTF-32: save it as UTF-8 to be read"),
        ("utf-16-be-bom", "the file is saved as UTF-16: save it as UTF-8 to be read"),
        ("cr", "lines end in CR only (old Mac style): save it with LF or CRLF line endings to be read"),
    ],
)
def test_unread_encodings_are_reported_not_ignored(
    write: WriteFile, run: RunCli, codec: str, message: str
) -> None:
    text = "---\nname: Wide Wanda\n---\n## Touches\n- 2026-11-02 call: hi\n"
    if codec == "cr":
        data = text.replace("\n", "\r").encode()
    elif codec == "utf-16-be-bom":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(codec)
    path = write("wanda.md", data)
    checked = run("check")
    assert checked.exit_code == 1
    assert checked.stdout.splitlines()[0] == f"{path}:1: {message}"
    listed = run("list")
    assert f"{path}:1: {message}" in listed.stderr
    assert "1 file has errors" in listed.stdout


def test_a_utf16_file_that_is_not_a_prospect_stays_silent(write: WriteFile, run: RunCli) -> None:
    write("readme.md", "# Notes\n".encode("utf-16"))
    result = run("check")
    assert (result.exit_code, result.stdout) == (0, "0 files checked: 0 errors, 0 warnings\n")


def test_a_consumed_next_is_not_a_problem(write: WriteFile, run: RunCli) -> None:
    write("p.md", "---\nname: P\nnext: 2026-11-20\n---\n## Touches\n- 2026-11-20 call: called as asked\n")
    result = run("check")
    assert (result.exit_code, result.stdout) == (0, "1 file checked: 0 errors, 0 warnings\n")


def test_log_still_warns_about_a_next_that_is_past_when_written(write: WriteFile, run: RunCli) -> None:
    write("p.md", "---\nname: P\n---\n## Touches\n- 2026-11-20 call: hi\n")
    assert "is not after the latest touch" in run("log", "p", "call", "--next", "2026-11-01").stderr


def _mdfollow(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "mdfollow"
    clean = {k: v for k, v in os.environ.items() if k not in ("MDFOLLOW_DIR", "COLUMNS")}
    return subprocess.run(
        [str(script), "--today", "2026-11-30", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_without_a_config_up_the_tree_the_folder_in_use_is_named(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "p.md").write_text(GOOD)
    result = _mdfollow("due", "--json", cwd=loose)
    assert result.returncode == 0 and json.loads(result.stdout)[0]["id"] == "p"
    assert result.stderr == (
        f"mdfollow: no mdfollow.toml here or in a parent folder: using {loose.resolve()} "
        "(run `mdfollow init` there to mark your prospect folder)\n"
    )


def test_with_a_config_up_the_tree_or_dir_nothing_is_said(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "mdfollow.toml").write_text("")
    (root / "p.md").write_text(GOOD)
    assert _mdfollow("list", cwd=root / "sub").stderr == ""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert _mdfollow("--dir", str(elsewhere), "list", cwd=tmp_path).stderr == ""


@pytest.mark.usefixtures("two_broken")
def test_stats_says_what_it_did_not_count(run: RunCli) -> None:
    assert run("stats").stdout.splitlines()[-1] == "Not counted: 2 files have errors: run mdfollow check"
    result = run("stats", "--json")
    assert json.loads(result.stdout)["prospects"] == 1
    assert result.stderr.splitlines()[-1] == "mdfollow: 2 files have errors: run mdfollow check"

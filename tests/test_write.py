"""init, add, log, mark, snooze through the real CLI: exact bytes after each, errors, races, git."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdfollow.core.config import DEFAULT_TOML
from mdfollow.core.parse import BOM
from mdfollow.store.folder import load_folder
from tests.conftest import TODAY, RunCli, WriteFile

ODD = (
    "---\n"
    "# who she is\n"
    "name:   'Jane Doe'   # quoted on purpose\n"
    "email: jane@acme.example\n"
    "status: active # still hopeful\n"
    "x-owner-notes: {keep: me}\n"
    "created: 2026-11-01\n"
    "---\n"
    "# Jane Doe   \n"
    "\n"
    "Body text with trailing spaces.  \n"
    "\n"
    "## Touches\n"
    "- 2026-11-01 meeting: met at the stand\n"
    "- 2026-11-09 09:40 call: no answer\n"
    "- 2026-11-20 email: sent quote #1042\n"
    "\n"
    "## Later\n"
    "the end"
)
FORMS = pytest.mark.parametrize(("eol", "bom"), [("\n", b""), ("\r\n", b""), ("\n", BOM), ("\r\n", BOM)])


def encoded(text: str, eol: str, bom: bytes) -> bytes:
    return bom + text.replace("\n", eol).encode()


@FORMS
def test_log_adds_one_line_in_date_order(write: WriteFile, run: RunCli, eol: str, bom: bytes) -> None:
    path = write("jane.md", encoded(ODD, eol, bom))
    result = run(
        "log", "jane", "call", "she said: call back #2 🎉", "--date", "2026-11-10", "--time", "08:15"
    )
    assert result.exit_code == 0, result
    expected = ODD.replace(
        "- 2026-11-20", "- 2026-11-10 08:15 call: she said: call back #2 🎉\n- 2026-11-20", 1
    )
    assert path.read_bytes() == encoded(expected, eol, bom)
    assert result.stdout.splitlines() == [
        f"{path}: logged 2026-11-10 08:15 call: she said: call back #2 🎉",
        "next: 2026-11-27 (3 days overdue): touch #5 by call, cadence",
    ]


@FORMS
def test_log_inbound_with_next_and_a_multiline_note(
    write: WriteFile, run: RunCli, eol: str, bom: bytes
) -> None:
    path = write("jane.md", encoded(ODD, eol, bom))
    result = run("log", "jane", "email", "busy\nask again in Jan", "--in", "--next", "2027-01-04")
    assert result.exit_code == 0, result
    expected = ODD.replace("created: 2026-11-01\n", "created: 2026-11-01\nnext: 2027-01-04\n").replace(
        "#1042\n", "#1042\n- 2026-11-30 email in: busy\n    ask again in Jan\n"
    )
    assert path.read_bytes() == encoded(expected, eol, bom)
    assert "next: 2027-01-04: touch #4, date set with next or snooze" in result.stdout


@FORMS
def test_mark_changes_the_status_value_and_adds_closed(
    write: WriteFile, run: RunCli, eol: str, bom: bytes
) -> None:
    path = write("jane.md", encoded(ODD, eol, bom))
    result = run("mark", "jane", "lost", "--reason", "chose a competitor: Initech")
    assert result.exit_code == 0, result
    expected = (
        ODD.replace("status: active # still", "status: lost # still")
        .replace("created: 2026-11-01\n", "created: 2026-11-01\nclosed: 2026-11-30\n")
        .replace("#1042\n", "#1042\n- 2026-11-30 note: marked lost: chose a competitor: Initech\n")
    )
    assert path.read_bytes() == encoded(expected, eol, bom)
    [prospect] = load_folder(path.parent).prospects
    assert (prospect.status, len(prospect.touches), prospect.notes[0].note) == (
        "lost",
        3,
        "marked lost: chose a competitor: Initech",
    )


def test_mark_active_sets_only_the_status(write: WriteFile, run: RunCli) -> None:
    path = write("jane.md", ODD.replace("active", "dnc").encode())
    assert run("mark", "jane", "active").exit_code == 0
    assert path.read_bytes() == ODD.encode()


@FORMS
def test_snooze_sets_next(write: WriteFile, run: RunCli, eol: str, bom: bytes) -> None:
    path = write("jane.md", encoded(ODD, eol, bom))
    result = run("snooze", "jane", "--for", "2w")
    assert result.exit_code == 0, result
    expected = ODD.replace("created: 2026-11-01\n", "created: 2026-11-01\nnext: 2026-12-14\n")
    assert path.read_bytes() == encoded(expected, eol, bom)
    assert run("snooze", "jane", "--until", "2027-02-01").exit_code == 0
    assert path.read_bytes() == encoded(expected.replace("2026-12-14", "2027-02-01"), eol, bom)


def test_snooze_replaces_next_in_place_keeping_its_comment(write: WriteFile, run: RunCli) -> None:
    path = write("jane.md", b"---\nname: Jo\nnext:   2026-12-01   # asked\ntags: [a]\n---\n")
    assert run("snooze", "jo", "--for", "1m").exit_code == 0
    assert path.read_bytes() == b"---\nname: Jo\nnext:   2026-12-30   # asked\ntags: [a]\n---\n"


def test_edits_keep_the_values_quotes_and_the_spacing_after_the_colon(write: WriteFile, run: RunCli) -> None:
    path = write("jo.md", b'---\nname: Jo\nstatus:\t"active"\nnext: "2026-12-03"\nx-why:  \'hm\'\n---\n')
    assert run("mark", "jo", "won").exit_code == 0
    assert run("snooze", "jo", "--until", "2026-12-09 14:30").exit_code == 0
    assert path.read_bytes() == (
        b'---\nname: Jo\nstatus:\t"won"\nnext: "2026-12-09 14:30"\nx-why:  \'hm\'\nclosed: 2026-11-30\n---\n'
    )


def test_next_may_have_a_time(folder: Path, write: WriteFile, run: RunCli) -> None:
    path = write("jane.md", ODD.encode())
    snoozed = run("snooze", "jane", "--until", "2026-12-05 14:30")
    assert snoozed.exit_code == 0, snoozed
    assert snoozed.stdout.startswith(f"{path}: snoozed until 2026-12-05 14:30\n")
    assert "\nnext: 2026-12-05 14:30\n" in path.read_text()
    assert run("log", "jane", "call", "--next", "2026-12-09 10:00").exit_code == 0
    assert "\nnext: 2026-12-09 10:00\n" in path.read_text()
    added = run("add", "Ann", "--next", "2026-12-07 09:15")
    assert added.exit_code == 0 and added.stderr == ""
    assert "\nnext: 2026-12-07 09:15\n" in (folder / "ann.md").read_text()
    found = {p.id: (p.next, p.next_time) for p in load_folder(folder).prospects}
    assert found == {
        "jane": (dt.date(2026, 12, 9), dt.time(10, 0)),
        "ann": (dt.date(2026, 12, 7), dt.time(9, 15)),
    }


@pytest.mark.parametrize(
    ("content", "args", "warning"),
    [
        (
            ODD,
            ("log", "jane", "call", "--date", "2026-12-01"),
            "jane.md:17: warning: touch dated in the future",
        ),
        (
            ODD,
            ("snooze", "jane", "--until", "2026-11-29"),
            "jane.md:8: warning: next 2026-11-29 is already past",
        ),
        (
            ODD,
            ("snooze", "jane", "--until", "2026-11-30 17:00"),
            "jane.md:8: warning: next 2026-11-30 17:00 is today",
        ),
        (
            ODD,
            ("log", "jane", "call", "--next", "2026-11-02"),
            "jane.md:8: warning: next 2026-11-02 is not after the latest touch (2026-11-30): it has no effect",
        ),
        (
            ODD.replace("active", "dnc"),
            ("log", "jane", "call"),
            "jane.md:5: warning: status is dnc: do not contact",
        ),
        (
            ODD.replace("active", "dnc"),
            ("snooze", "jane", "--for", "1w"),
            "jane.md:5: warning: status is dnc",
        ),
    ],
)
def test_a_likely_mistake_is_warned_about_and_still_written(
    folder: Path, write: WriteFile, run: RunCli, content: str, args: tuple[str, ...], warning: str
) -> None:
    path = write("jane.md", content.encode())
    result = run(*args)
    assert result.exit_code == 0, result
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{folder}/{warning}")
    assert path.read_bytes() != content.encode()


def test_add_warns_about_a_next_already_past(folder: Path, run: RunCli) -> None:
    result = run("add", "Ann", "--next", "2026-11-02")
    assert result.exit_code == 0
    assert result.stderr == f"{folder}/ann.md:5: warning: next 2026-11-02 is already past: due now\n"
    assert "next: 2026-11-02\n" in (folder / "ann.md").read_text()


@pytest.mark.parametrize("status", ["WON", "Won", " won "])
def test_mark_takes_the_status_in_any_case(write: WriteFile, run: RunCli, status: str) -> None:
    path = write("jane.md", ODD.encode())
    result = run("mark", "jane", status)
    assert result.exit_code == 0, result
    assert "status: won # still hopeful\n" in path.read_text()
    assert result.stdout.startswith(f"{path}: marked won\n")


def test_add_creates_a_card_named_after_the_person(folder: Path, write: WriteFile, run: RunCli) -> None:
    write("archive/jose-muller-zurich-ag.md", "---\nname: José Müller\nemail: jose@zurich.example\n---\n")
    result = run(
        "add",
        "José Müller",
        "--company",
        "Zürich AG",
        "--email",
        "jose@zurich.example",
        "--phone",
        "+41 44 000 00 00",
        "--tag",
        "warm",
        "--tag",
        "#1 lead",
        "--next",
        "2026-12-07",
    )
    assert result.exit_code == 0, result
    path = folder / "jose-muller-zurich-ag-2.md"
    assert result.stdout == f"{path}\n"
    assert result.stderr == (
        f"{folder}/archive/jose-muller-zurich-ag.md:3: warning: jose@zurich.example already belongs to José Müller\n"
    )
    assert path.read_text() == (
        "---\n"
        "name: José Müller\n"
        "company: Zürich AG\n"
        "email: jose@zurich.example\n"
        "phone: +41 44 000 00 00\n"
        "status: active\n"
        "tags: [warm, 1 lead]\n"
        f"created: {TODAY}\n"
        "next: 2026-12-07\n"
        "---\n"
        "# José Müller — Zürich AG\n"
        "\n"
        "## Touches\n"
    )
    assert run("add", "Ann", "--created", "2026-01-02").stdout == f"{folder / 'ann.md'}\n"
    assert "created: 2026-01-02\n" in (folder / "ann.md").read_text()


@pytest.mark.parametrize(
    ("name", "company", "file"),
    [
        ("Ольга Иванова", None, "olga-ivanova.md"),
        ("王小明", "北京公司", "wang-xiao-ming-bei-jing-gong-si.md"),
        ("Σωκράτης", "Ἀθηνᾶ", "sokratis-athina.md"),
    ],
)
def test_add_names_the_file_in_ascii_from_any_script(
    folder: Path, run: RunCli, name: str, company: str | None, file: str
) -> None:
    result = run("add", name, *(("--company", company) if company else ()))
    assert result.exit_code == 0, result
    assert result.stdout == f"{folder / file}\n"
    assert f"name: {name}\n" in (folder / file).read_text(encoding="utf-8")


def test_anyascii_is_not_imported_at_startup() -> None:
    code = "import sys, mdfollow.cli; print('anyascii' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_init_writes_the_config_and_an_example_once(tmp_path: Path, run: RunCli) -> None:
    root = tmp_path / "new"
    result = run("init", str(root))
    assert result.exit_code == 0, result
    assert (root / "mdfollow.toml").read_text() == DEFAULT_TOML
    folder = load_folder(root)
    assert not folder.problems
    [example] = folder.prospects
    assert example.name == "Jane Doe" and len(example.touches) == 1
    assert sorted(os.listdir(root / "_templates")) == ["email-2.txt", "quote-check.txt"]

    def contents() -> dict[str, bytes]:
        return {str(path): path.read_bytes() for path in root.rglob("*") if path.is_file()}

    before = contents()
    again = run("init", str(root))
    assert again.exit_code == 1
    assert again.stderr == f"mdfollow: {root / 'mdfollow.toml'} already exists: nothing changed\n"
    assert contents() == before


def test_init_inside_a_folder_with_prospects_adds_no_example_and_warns(
    folder: Path, write: WriteFile
) -> None:
    """`cd root/sub && mdfollow init`: no example whose id would duplicate a real prospect."""
    folder = folder.resolve()
    write("jane-doe-acme-corp.md", "---\nname: Jane Doe\ncompany: Acme Corp\n---\n")
    sub = folder / "sub"
    sub.mkdir()
    command = [sys.executable, "-m", "mdfollow", "--today", TODAY, "init"]
    result = subprocess.run(command, cwd=sub, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result
    assert result.stdout == (
        f"created mdfollow.toml (no example prospect: the enclosing mdfollow folder {folder} "
        "already holds prospects)\n"
        "created _templates/email-2.txt and _templates/quote-check.txt (draft templates: mdfollow draft)\n"
    )
    assert result.stderr == (
        f"mdfollow: warning: {sub} is inside the mdfollow folder {folder}: commands run there "
        f"or below will use its own mdfollow.toml, not {folder / 'mdfollow.toml'}\n"
    )
    assert sorted(os.listdir(sub)) == ["_templates", "mdfollow.toml"]
    loaded = load_folder(folder)
    assert not loaded.problems and [p.id for p in loaded.prospects] == ["jane-doe-acme-corp"]


def test_init_in_a_folder_that_holds_prospects_adds_no_example(tmp_path: Path, run: RunCli) -> None:
    root = tmp_path / "mine"
    (root / "clients").mkdir(parents=True)
    (root / "README.md").write_text("# not a prospect\n")
    (root / "clients" / "ann.md").write_text("---\nname: Ann\n---\n")
    result = run("init", str(root))
    assert result.exit_code == 0, result
    assert result.stdout.startswith(
        f"created {root / 'mdfollow.toml'} (no example prospect: the folder already holds prospects)\n"
    )
    assert result.stderr == ""
    assert sorted(os.listdir(root)) == ["README.md", "_templates", "clients", "mdfollow.toml"]


def test_init_in_an_empty_subfolder_of_an_empty_root_warns_and_adds_the_example(
    folder: Path, run: RunCli
) -> None:
    result = run("init", str(folder / "team"))
    assert result.exit_code == 0, result
    assert result.stderr.startswith(
        f"mdfollow: warning: {folder / 'team'} is inside the mdfollow folder {folder}"
    )
    assert sorted(os.listdir(folder / "team")) == ["_templates", "jane-doe-acme-corp.md", "mdfollow.toml"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("log", "jane", "call", "--date", "2026-13-01"), "--date: '2026-13-01' is not a date"),
        (("log", "jane", "call", "--time", "9.30"), "--time: '9.30' is not a time"),
        (("log", "jane", "phone call"), "channel 'phone call' must be one word"),
        (("log", "jane", "call", "--next", "soon"), "--next: 'soon' is not a date"),
        (("mark", "jane", "maybe"), "status 'maybe' is not one of active, won, lost, dnc"),
        (("snooze", "jane"), "give exactly one of --until DATE and --for Nd|Nw|Nm"),
        (("snooze", "jane", "--until", "2027-01-01", "--for", "1w"), "give exactly one of"),
        (("snooze", "jane", "--for", "2 weeks"), "--for: '2 weeks' is not a gap"),
        (("snooze", "jane", "--for", "2w call"), "--for: '2w call' is not a gap"),
        (("add", "Ann", "--next", "2026-02-30"), "--next: '2026-02-30' is not a date"),
        (("add", "Ann", "--next", "2026-12-01 24:00"), "--next: '2026-12-01 24:00' is not a date"),
        (("log", "jane", "call", "--next", "2026-12-01 9.30"), "--next: '2026-12-01 9.30' is not a date"),
        (("snooze", "jane", "--until", "2026-12-01 14:30:00"), "--until: '2026-12-01 14:30:00' is not"),
        (("snooze", "jane", "--until", "2026-12-01 "), "--until: '2026-12-01 ' is not a date"),
        (("mark", "jane", "WONDERFUL"), "status 'WONDERFUL' is not one of"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    folder: Path, write: WriteFile, run: RunCli, args: tuple[str, ...], message: str
) -> None:
    path = write("jane.md", ODD.encode())
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"mdfollow: {message}") and result.stderr.count("\n") == 1
    assert path.read_bytes() == ODD.encode()
    assert sorted(os.listdir(folder)) == ["jane.md", "mdfollow.toml"]


def test_an_unknown_or_ambiguous_prospect_exits_1(write: WriteFile, run: RunCli) -> None:
    write("jane.md", ODD.encode())
    write("jan.md", "---\nname: Jan Jansen\n---\n")
    assert run("log", "nobody", "call").stderr == "mdfollow: no prospect matches 'nobody'\n"
    ambiguous = run("mark", "ja", "won")
    assert ambiguous.exit_code == 1 and "matches 2 prospects" in ambiguous.stderr


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"---\nname: Jo\ntags: [unclosed\n---\n", "jo.md has errors: line 3: broken YAML"),
        (
            b"---\nname: Jo\r\ncreated: 2026-02-30\r\n---\r\n",
            'jo.md has errors: line 3: created "2026-02-30" is not a date',
        ),
        (b"---\nname: Jo \xe9\n---\n", "jo.md has errors: line 2: not UTF-8"),
    ],
)
def test_a_file_that_does_not_parse_is_never_written(
    folder: Path, write: WriteFile, run: RunCli, content: bytes, reason: str
) -> None:
    path = write("jo.md", content)
    for args in (("log", "jo", "call"), ("mark", "jo", "won"), ("snooze", "jo", "--for", "1w")):
        result = run(*args)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"mdfollow: {folder}/{reason}")
        assert result.stderr.endswith(" (fix the file first)\n")
    assert path.read_bytes() == content


def test_an_edit_that_would_not_read_back_is_refused(write: WriteFile, run: RunCli) -> None:
    content = b"---\nname: Jo\nstatus: active\nstatus: active\n---\n"
    path = write("jo.md", content)
    result = run("mark", "jo", "won")
    assert result.exit_code == 1 and "jo.md:4: key appears twice: not changed (remove one)" in result.stderr
    assert path.read_bytes() == content


def test_twenty_concurrent_logs_lose_nothing(folder: Path, write: WriteFile) -> None:
    path = write("jane.md", ODD.encode())
    command = [
        sys.executable,
        "-m",
        "mdfollow",
        "--dir",
        str(folder),
        "--today",
        TODAY,
        "log",
        "jane",
        "call",
    ]
    writers = [subprocess.Popen([*command, f"attempt {n}"], stdout=subprocess.DEVNULL) for n in range(20)]
    assert [writer.wait(60) for writer in writers] == [0] * 20
    [prospect] = load_folder(folder).prospects
    notes = sorted(t.note for t in prospect.touches if t.note.startswith("attempt"))
    assert notes == sorted(f"attempt {n}" for n in range(20))
    assert path.read_text().startswith(ODD.split("## Touches")[0])
    assert sorted(os.listdir(folder)) == ["jane.md", "mdfollow.toml"]


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(folder), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_autocommit_commits_exactly_the_changed_file(folder: Path, write: WriteFile, run: RunCli) -> None:
    (folder / "mdfollow.toml").write_text("[git]\nautocommit = true\n")
    write("jane.md", ODD.encode())
    write("other.md", "---\nname: Other\n---\n")
    git(folder, "init", "-q")
    git(folder, "config", "user.name", "Test")
    git(folder, "config", "user.email", "test@example.com")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "start")
    write("other.md", "---\nname: Other, edited\n---\n")
    git(folder, "add", "other.md")

    assert run("log", "jane", "call", "no answer").exit_code == 0
    assert git(folder, "log", "-1", "--format=%s", "--name-only").splitlines() == [
        "log: call with Jane Doe",
        "",
        "jane.md",
    ]
    result = run("add", "Ann Lee")
    assert result.exit_code == 0 and result.stderr == ""
    assert git(folder, "log", "-1", "--format=%s", "--name-only").splitlines() == [
        "add: Ann Lee",
        "",
        "ann-lee.md",
    ]
    assert git(folder, "status", "--porcelain") == "M  other.md"


def test_autocommit_outside_a_repository_warns_and_keeps_the_edit(
    folder: Path, write: WriteFile, run: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(folder.parent))
    (folder / "mdfollow.toml").write_text("[git]\nautocommit = true\n")
    path = write("jane.md", ODD.encode())
    result = run("snooze", "jane", "--until", "2027-01-04")
    assert result.exit_code == 0
    assert result.stderr.startswith(f"{path}:1: warning: not committed: fatal: not a git repository")
    assert "next: 2027-01-04" in path.read_text()


@pytest.mark.parametrize("args", [("log", "jane", "call", "bad \udcff byte"), ("add", "Bad \udcff")])
def test_undecodable_arguments_are_refused_without_a_traceback(
    folder: Path, write: WriteFile, run: RunCli, args: tuple[str, ...]
) -> None:
    path = write("jane.md", ODD.encode())
    result = run(*args)
    assert result.exit_code == 1 and "is not text" in result.stderr
    assert path.read_bytes() == ODD.encode()
    assert sorted(os.listdir(folder)) == ["jane.md", "mdfollow.toml"]


def test_init_on_a_file_is_an_error_not_a_traceback(folder: Path, run: RunCli) -> None:
    result = run("init", str(folder / "mdfollow.toml" / "sub"))
    assert result.exit_code == 1 and "cannot create the folder" in result.stderr

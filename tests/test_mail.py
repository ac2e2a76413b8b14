"""`mdfollow mail` on real Maildir folders and mbox files built in tmp_path, through the real CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import RunCli, WriteFile
from tests.mail_messages import CONFIG, ME, PROSPECTS, maildir, mbox, message, snapshot

JANE, BOB, CAROL, DAVE = "jane@client.example", "bob@roe.example", "carol@poe.example", "dave@moe.example"


@pytest.fixture
def prospects(write: WriteFile, folder: Path) -> Path:
    """The prospect folder with `[mail]` set, Jane (two addresses), Bob, Carol and Dave (dnc)."""
    write("mdfollow.toml", CONFIG)
    for name, text in PROSPECTS.items():
        write(name, text)
    return folder


def log_of(folder: Path, name: str) -> list[str]:
    return [line for line in (folder / name).read_text().splitlines() if line.startswith("- ")]


def mail_json(run: RunCli, *args: str, today: str = "2026-12-01") -> list[dict[str, object]]:
    result = run("mail", *args, "--json", today=today)
    assert result.exit_code == 0, result
    items = json.loads(result.stdout)
    assert isinstance(items, list)
    return items


def test_outbound_inbound_aliases_cc_and_bcc(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    box = maildir(
        tmp_path / "Sent",
        [
            message(f"Sam <{ME.upper()}>", f"Bob <{BOB}>", cc=f"{CAROL}, someone@else.example", bcc=JANE),
            message("Jane D <J.DOE@home.EXAMPLE>", "sales@acme.example", subject="Re: Quote"),
        ],
    )
    result = run("mail", str(box), today="2026-12-01")
    assert result.exit_code == 0, result
    assert log_of(prospects, "bob.md") == [
        "- 2026-11-02 call: left a voicemail",
        "- 2026-11-30 10:15 email: Quote",
    ]
    assert log_of(prospects, "carol.md") == ["- 2026-11-30 10:15 email: Quote"]
    assert log_of(prospects, "jane.md") == ["- 2026-11-30 10:15 email in: Re: Quote"]  # Bcc not read
    assert (
        (prospects / "carol.md")
        .read_text()
        .endswith("# Carol\n\n## Touches\n- 2026-11-30 10:15 email: Quote\n")
    )
    assert result.stdout.splitlines()[-1] == (
        "3 touches logged for 3 prospects; 0 automatic messages skipped; 0 messages matched no prospect"
    )


def test_one_message_to_three_prospects_is_one_touch_each(
    prospects: Path, run: RunCli, tmp_path: Path
) -> None:
    box = maildir(tmp_path / "Sent", [message(ME, f"{JANE}, {BOB}", cc=f"{CAROL}, {JANE}")])
    items = mail_json(run, str(box))
    assert sorted(str(item["id"]) for item in items) == ["bob", "carol", "jane"]
    for name in ("jane.md", "carol.md"):
        assert log_of(prospects, name) == ["- 2026-11-30 10:15 email: Quote"]


def test_summary_wording_and_counts(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    box = maildir(
        tmp_path / "INBOX",
        [
            message(JANE, ME, subject="one", message_id="<1@x>"),
            message(JANE, ME, subject="two", message_id="<2@x>"),
            message(BOB, ME, subject="three"),
            message(JANE, ME, subject="out of office", headers=["Auto-Submitted: auto-replied"]),
            message("news@shop.example", ME, headers=["List-Id: <news.shop.example>"]),
            message("friend@else.example", ME),
            message(ME, "friend@else.example"),
        ],
    )
    result = run("mail", str(box), today="2026-12-01")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines()[-1] == (
        "3 touches logged for 2 prospects; 1 automatic message skipped; 3 messages matched no prospect"
    )
    again = run("mail", str(box), today="2026-12-01")
    assert again.stdout.splitlines() == [
        "0 touches logged for 0 prospects; 1 automatic message skipped; "
        "3 messages matched no prospect; 3 already in the log"
    ]


def test_calendar_zone_time_and_seconds(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    box = maildir(
        tmp_path / "INBOX",
        [
            message(JANE, ME, subject="summer", date="Mon, 1 Jun 2026 10:15:59 +0000"),  # BST: 11:15
            message(JANE, ME, subject="pacific", date="Tue, 1 Dec 2026 23:59:59 -0800"),  # next day in London
            message(JANE, ME, subject="no zone", date="Wed, 18 Nov 2026 08:07:30"),
            message(JANE, ME, subject="minus zero", date="Thu, 19 Nov 2026 08:07:30 -0000"),
        ],
    )
    assert run("mail", str(box), today="2026-12-05").exit_code == 0
    assert log_of(prospects, "jane.md") == [
        "- 2026-06-01 11:15 email in: summer",
        "- 2026-11-18 08:07 email in: no zone",
        "- 2026-11-19 08:07 email in: minus zero",
        "- 2026-12-02 07:59 email in: pacific",
    ]


def test_zone_less_date_is_read_in_the_calendar_zone(
    write: WriteFile, prospects: Path, run: RunCli, tmp_path: Path
) -> None:
    write("mdfollow.toml", CONFIG.replace("Europe/London", "America/New_York"))
    box = maildir(tmp_path / "INBOX", [message(JANE, ME, date="Wed, 18 Nov 2026 08:07:30"), message(BOB, ME)])
    assert run("mail", str(box), today="2026-12-05").exit_code == 0
    assert log_of(prospects, "jane.md") == ["- 2026-11-18 08:07 email in: Quote"]
    assert log_of(prospects, "bob.md")[-1] == "- 2026-11-30 05:15 email in: Quote"


def test_future_date_is_logged_with_a_warning(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    box = maildir(tmp_path / "INBOX", [message(JANE, ME, date="Fri, 25 Dec 2026 09:00:00 +0000")])
    result = run("mail", str(box), today="2026-11-30")
    assert result.exit_code == 0, result
    assert log_of(prospects, "jane.md") == ["- 2026-12-25 09:00 email in: Quote"]
    assert result.stderr.splitlines() == [
        f"{box}:1: warning: Date 'Fri, 25 Dec 2026 09:00:00 +0000' is in the future: logged anyway"
    ]


LONG = "Re: " + "word " * 60


@pytest.mark.parametrize(
    ("subject", "note"),
    [
        ("=?utf-8?q?Re=3A_caf=C3=A9_=E2=9C=93?=", "Re: café ✓"),
        ("=?iso-8859-1?b?RndkOiBwcmVpc2xpc3RlIGb8cg==?= 2027", "Fwd: preisliste für 2027"),
        ("Re: Fwd: RE: the\r\n  folded\r\n\tsubject", "Re: Fwd: RE: the folded subject"),
        ("=?utf-8?q?one=0A-_2026-01-01_call=3A_injected?=", "one - 2026-01-01 call: injected"),
        ("=?utf-8?q?x=0D=0A##_Touches=0D=0A-_2020-01-01_email=3A?=", "x ## Touches - 2020-01-01 email:"),
        ("=?utf-8?q?bell=07_esc=1B[31m_nul=00_bidi=E2=80=AEevil?=", "bell esc [31m nul bidievil"),
        ("=?utf-8?q?sep=E2=80=A8line=C2=85next?=", "sep line next"),
        (LONG, LONG[:119].rstrip() + "…"),
        ("", "(no subject)"),
        ("  \t ", "(no subject)"),
        (None, "(no subject)"),
    ],
)
def test_note_is_the_subject_on_one_safe_line(
    prospects: Path, run: RunCli, tmp_path: Path, subject: str | None, note: str
) -> None:
    box = maildir(tmp_path / "INBOX", [message(JANE, ME, subject=subject)])
    result = run("mail", str(box), today="2026-12-01")
    assert result.exit_code == 0, result
    assert log_of(prospects, "jane.md") == [f"- 2026-11-30 10:15 email in: {note}"]
    assert len(note) <= 120
    shown = json.loads(run("show", "jane", "--json").stdout)
    assert [t["note"] for t in shown["touches"]] == [note]
    assert run("check").exit_code == 0


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated; owner-email=x@y",
        "X-Autoreply: yes",
        "X-Autorespond: Out of office",
        "Precedence: bulk",
        "Precedence: LIST",
        "Precedence: junk",
        "List-Id: Clients <clients.acme.example>",
    ],
)
def test_automatic_mail_is_skipped_and_counted(
    prospects: Path, run: RunCli, tmp_path: Path, header: str
) -> None:
    box = maildir(tmp_path / "INBOX", [message(JANE, ME, headers=[header])])
    result = run("mail", str(box), today="2026-12-01")
    assert result.exit_code == 0, result
    assert log_of(prospects, "jane.md") == []
    assert "1 automatic message skipped" in result.stdout


@pytest.mark.parametrize("header", ["Auto-Submitted: no", "Precedence: first-class"])
def test_not_automatic(prospects: Path, run: RunCli, tmp_path: Path, header: str) -> None:
    box = maildir(tmp_path / "INBOX", [message(JANE, ME, headers=[header])])
    assert run("mail", str(box), today="2026-12-01").exit_code == 0
    assert log_of(prospects, "jane.md") == ["- 2026-11-30 10:15 email in: Quote"]


def test_each_message_once_across_sources_and_runs(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    reply = message(JANE, f"{ME}, {BOB}", subject="Re: Quote", message_id="<r1@client.example>")
    copy = reply.replace(b"Re: Quote", b"Re: Quote (copy)")  # same Message-ID: the same message
    inbox = maildir(tmp_path / "INBOX", [reply])
    archive = mbox(tmp_path / "archive.mbox", [copy])
    first = mail_json(run, str(inbox), str(archive))
    assert [(i["id"], i["note"], i["message_id"], i["logged"]) for i in first] == [
        ("jane", "Re: Quote", "<r1@client.example>", True)
    ]
    before = (prospects / "jane.md").read_bytes()
    second = mail_json(run, str(inbox), str(archive))
    assert [i["logged"] for i in second] == [False]
    assert (prospects / "jane.md").read_bytes() == before


def test_identical_touch_already_in_the_log_is_not_logged_again(
    write: WriteFile, prospects: Path, run: RunCli, tmp_path: Path
) -> None:
    write("jane.md", PROSPECTS["jane.md"] + "- 2026-11-30 10:15 email in: Quote\n")
    box = maildir(tmp_path / "INBOX", [message(JANE, ME, message_id="<other-machine@x>"), message(BOB, ME)])
    items = mail_json(run, str(box))
    assert [(i["id"], i["logged"]) for i in items] == [("bob", True), ("jane", False)]
    assert log_of(prospects, "jane.md") == ["- 2026-11-30 10:15 email in: Quote"]


def test_one_write_per_prospect_in_date_order(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    box = maildir(
        tmp_path / "INBOX",
        [
            message(BOB, ME, subject="late", date="Sat, 28 Nov 2026 18:00:00 +0000"),
            message(ME, BOB, subject="early", date="Sun, 1 Nov 2026 08:00:00 +0000"),
            message(BOB, ME, subject="middle", date="Sat, 28 Nov 2026 09:00:00 +0000"),
        ],
    )
    assert run("mail", str(box), today="2026-12-01").exit_code == 0
    assert log_of(prospects, "bob.md") == [
        "- 2026-11-01 08:00 email: early",
        "- 2026-11-02 call: left a voicemail",
        "- 2026-11-28 09:00 email in: middle",
        "- 2026-11-28 18:00 email in: late",
    ]


def test_dnc_prospect_is_logged_with_a_warning(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    box = maildir(tmp_path / "INBOX", [message(DAVE, ME)])
    result = run("mail", str(box), today="2026-12-01")
    assert result.exit_code == 0, result
    assert log_of(prospects, "dave.md") == ["- 2026-11-30 10:15 email in: Quote"]
    assert f"{prospects / 'dave.md'}:3: warning: status is dnc: do not contact" in result.stderr


def test_since_dry_run_and_json(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    box = maildir(
        tmp_path / "INBOX",
        [
            message(JANE, ME, subject="old", date="Mon, 2 Nov 2026 10:00:00 +0000", message_id="<old@x>"),
            message(JANE, ME, subject="new", date="Mon, 30 Nov 2026 00:30:00 +0000", message_id="<new@x>"),
        ],
    )
    before = snapshot(prospects)
    dry = run("mail", str(box), "--since", "2026-11-30", "--dry-run", today="2026-12-01")
    assert dry.exit_code == 0, dry
    assert dry.stdout.splitlines() == [
        f"{prospects / 'jane.md'}: - 2026-11-30 00:30 email in: new",
        "1 touch would be logged for 1 prospect; 0 automatic messages skipped; 0 messages matched no prospect",
    ]
    assert snapshot(prospects) == before
    items = mail_json(run, str(box), "--since", "2026-11-30", "--dry-run")
    assert items == [
        {
            "id": "jane",
            "path": str(prospects / "jane.md"),
            "date": "2026-11-30",
            "time": "00:30",
            "channel": "email",
            "direction": "in",
            "note": "new",
            "message_id": "<new@x>",
            "logged": True,
        }
    ]
    assert snapshot(prospects) == before
    result = run("mail", str(box), "--since", "2026-11-30", "--json", today="2026-12-01")
    assert result.stderr.splitlines()[-1].startswith("1 touch logged for 1 prospect;")
    assert log_of(prospects, "jane.md") == ["- 2026-11-30 00:30 email in: new"]
    assert run("mail", str(box), "--since", "2026-13-01").exit_code == 2


def test_mailbox_is_byte_identical_after_every_run(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    box = maildir(tmp_path / "INBOX", [message(JANE, ME, message_id="<a@x>"), message(BOB, ME)])
    maildir(box, [message(CAROL, ME)], where="cur")
    archive = mbox(tmp_path / "archive.mbox", [message(JANE, ME, subject="archived")])
    names = sorted(p.name for p in (box / "new").iterdir())
    before = (snapshot(box), snapshot(archive))
    time.sleep(0.01)
    for args in (["--dry-run"], [], ["--json"]):
        assert run("mail", str(box), str(archive), *args, today="2026-12-01").exit_code == 0
        assert (snapshot(box), snapshot(archive)) == before
        assert sorted(p.name for p in (box / "new").iterdir()) == names
    assert log_of(prospects, "carol.md") == ["- 2026-11-30 10:15 email in: Quote"]


def test_sources_from_config_relative_to_root_and_home(
    write: WriteFile, prospects: Path, run: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    maildir(prospects / "mail" / "INBOX", [message(JANE, ME)])
    mbox(home / "Mail" / "sent.mbox", [message(ME, BOB, subject="Offer")])
    write("mdfollow.toml", CONFIG + 'sources = ["mail/INBOX", "~/Mail/sent.mbox"]\n')
    result = run("mail", today="2026-12-01")
    assert result.exit_code == 0, result
    assert log_of(prospects, "jane.md") == ["- 2026-11-30 10:15 email in: Quote"]
    assert log_of(prospects, "bob.md")[-1] == "- 2026-11-30 10:15 email: Offer"


def test_me_is_required(write: WriteFile, prospects: Path, run: RunCli, tmp_path: Path) -> None:
    write("mdfollow.toml", "[mail]\nsources = []\n")
    result = run("mail", str(maildir(tmp_path / "INBOX", [message(JANE, ME)])))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f'mdfollow: {prospects / "mdfollow.toml"}: [mail] me is not set: add your own addresses, e.g. me = ["you@example.com"]'
    ]
    write("mdfollow.toml", '[mail]\nme = "sam@acme.example"\nsources = "INBOX"\n')
    bad = run("mail")
    assert bad.exit_code == 1
    assert "mail.sources: expected list" in bad.stderr


def test_no_source_is_a_usage_error(prospects: Path, run: RunCli) -> None:
    result = run("mail")
    assert result.exit_code == 2
    assert "no mail source" in result.stderr


def test_autocommit_is_one_commit_for_the_run(
    write: WriteFile, prospects: Path, run: RunCli, tmp_path: Path
) -> None:
    write("mdfollow.toml", CONFIG + "\n[git]\nautocommit = true\n")
    git = ["git", "-C", str(prospects)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run(
        [*git, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "start"],
        check=True,
    )
    subprocess.run([*git, "config", "user.name", "t"], check=True)
    subprocess.run([*git, "config", "user.email", "t@t"], check=True)
    box = maildir(tmp_path / "INBOX", [message(JANE, ME), message(ME, f"{BOB}, {CAROL}", subject="Offer")])
    assert run("mail", str(box), today="2026-12-01").exit_code == 0
    log = subprocess.run(
        [*git, "log", "--format=%s", "--name-only", "-1"], capture_output=True, text=True, check=True
    )
    assert log.stdout.split("\n")[0] == "mail: 3 touches for 3 prospects"
    assert sorted(log.stdout.split()[-3:]) == ["bob.md", "carol.md", "jane.md"]
    count = subprocess.run([*git, "rev-list", "--count", "HEAD"], capture_output=True, text=True, check=True)
    assert count.stdout.strip() == "2"


# --- bad input ----------------------------------------------------------------------


def test_bad_messages_are_skipped_by_position(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    big = message(BOB, ME, subject="big attachment", body=b"A" * (10 * 1024 * 1024))
    box = maildir(
        tmp_path / "INBOX",
        [
            message(JANE, ME, subject="fine"),
            b"\x00\x01 not a message at all\nreally not\n",
            message(JANE, ME, subject="no date", date=None),
            message(JANE, ME, subject="bad date", date="next Tuesday"),
            message(JANE, ME, subject="absurd", date="Mon, 1 Jan 1900 00:00:00 +0000"),
            message(JANE, ME, subject="=?x-no-such-charset?q?caf=E9?= menu"),
            big,
        ],
    )
    started = time.monotonic()
    result = run("mail", str(box), today="2026-12-01")
    assert time.monotonic() - started < 10
    assert result.exit_code == 0, result
    assert result.stderr.splitlines() == [
        f"{box}:2: not a mail message (no headers): skipped",
        f"{box}:3: no Date header: skipped",
        f"{box}:4: Date 'next Tuesday' is not a date: skipped",
        f"{box}:5: Date 'Mon, 1 Jan 1900 00:00:00 +0000' is not a plausible date: skipped",
        f"{box}:6: warning: the subject has text in an unknown charset: shown as \ufffd",
    ]
    assert log_of(prospects, "jane.md") == [
        "- 2026-11-30 10:15 email in: fine",
        "- 2026-11-30 10:15 email in: caf\ufffd menu",
    ]
    assert log_of(prospects, "bob.md")[-1] == "- 2026-11-30 10:15 email in: big attachment"
    assert "Traceback" not in result.stderr


def test_maildir_with_stray_files(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    box = maildir(tmp_path / "INBOX", [message(JANE, ME)])
    (box / "cur" / "a-folder").mkdir()
    (box / "cur" / ".hidden").write_text("x")
    (box / "dovecot-uidlist").write_text("3 V1 N2\n")
    (box / "new" / "notes.txt").write_text("remember the milk\n")
    (box / "new" / "empty").write_bytes(b"")
    result = run("mail", str(box), today="2026-12-01")
    assert result.exit_code == 0, result
    assert log_of(prospects, "jane.md") == ["- 2026-11-30 10:15 email in: Quote"]
    assert sorted(result.stderr.splitlines()) == [
        f"{box}:2: not a mail message (no headers): skipped",
        f"{box}:3: not a mail message (no headers): skipped",
    ]


def test_mbox_with_broken_from_lines(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    good = mbox(tmp_path / "good.mbox", [message(JANE, ME, subject="first"), message(BOB, ME)])
    data = good.read_bytes()
    # text before the first "From " line, and an unescaped "From " line in a body
    broken = tmp_path / "broken.mbox"
    broken.write_bytes(
        b"junk before\n\n" + data.replace(b"see attached.", b"see attached.\n\nFrom here on, we agree", 1)
    )
    result = run("mail", str(broken), today="2026-12-01")
    assert result.exit_code == 0, result
    assert result.stderr.splitlines() == [
        f'{broken}:1: warning: the text before the first "From " line is not a message: skipped',
        f"{broken}:2: not a mail message (no headers): skipped",
    ]
    assert log_of(prospects, "jane.md") == ["- 2026-11-30 10:15 email in: first"]
    assert log_of(prospects, "bob.md")[-1] == "- 2026-11-30 10:15 email in: Quote"


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda p: p / "missing", "no such file or folder"),
        (lambda p: (p / "plain").mkdir() or p / "plain", "not a Maildir folder (it has no cur/ and new/)"),
        (
            lambda p: (p / "text.txt").write_text("hello\n") and p / "text.txt",
            'not an mbox file (it does not start with a "From " line)',
        ),
    ],
)
def test_a_failed_source_writes_nothing_and_others_still_count(
    prospects: Path, run: RunCli, tmp_path: Path, make: object, error: str
) -> None:
    assert callable(make)
    bad = make(tmp_path)
    first = maildir(tmp_path / "A", [message(JANE, ME)])
    last = maildir(tmp_path / "B", [message(BOB, ME)])
    result = run("mail", str(first), str(bad), str(last), today="2026-12-01")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"mdfollow: {bad}: {error} (nothing logged from it)"]
    assert log_of(prospects, "jane.md") == ["- 2026-11-30 10:15 email in: Quote"]
    assert log_of(prospects, "bob.md")[-1] == "- 2026-11-30 10:15 email in: Quote"


def test_unreadable_message_is_skipped(prospects: Path, run: RunCli, tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        box = maildir(tmp_path / "INBOX", [message(JANE, ME)])
        (box / "new" / "dangling").symlink_to(tmp_path / "nowhere")
    else:
        box = maildir(tmp_path / "INBOX", [message(JANE, ME), message(BOB, ME)])
        (sorted((box / "new").iterdir())[1]).chmod(0)
    result = run("mail", str(box), today="2026-12-01")
    assert result.exit_code == 0, result
    assert len(result.stderr.splitlines()) == 1
    assert f"{box}:2: message " in result.stderr
    assert "cannot read" in result.stderr
    assert log_of(prospects, "jane.md") == ["- 2026-11-30 10:15 email in: Quote"]


def test_refused_write_names_the_file_and_keeps_the_others(prospects: Path, tmp_path: Path) -> None:
    """Jane's file stops being a prospect between reading the folder and writing: her write is
    refused with a message naming the file, Bob's still goes in."""
    from mdfollow.connect.mail import log_touches, read_sources
    from mdfollow.store.folder import load_folder

    loaded = load_folder(prospects)
    box = maildir(tmp_path / "INBOX", [message(JANE, ME), message(BOB, ME)])
    zone = dt.UTC
    run = read_sources(
        [(str(box), str(box))], loaded.prospects, [ME], zone, dt.datetime(2026, 12, 1, tzinfo=zone)
    )
    (prospects / "jane.md").write_text("# Jane, now a plain note\n")
    assert log_touches(run, dry_run=False, autocommit=False) == []
    assert run.failed
    assert run.write_errors == [
        f"{prospects / 'jane.md'}: not a prospect file (no front matter): not changed"
    ]
    assert run.written == [prospects / "bob.md"]
    assert (prospects / "jane.md").read_text() == "# Jane, now a plain note\n"
    assert log_of(prospects, "bob.md")[-1] == "- 2026-11-30 10:15 email in: Quote"


def test_a_touch_another_run_logged_meanwhile_is_dropped_not_an_error(
    prospects: Path, tmp_path: Path
) -> None:
    """Two overlapping runs (cron): the second finds its touch already in the file when it writes."""
    from mdfollow.connect.mail import log_touches, read_sources
    from mdfollow.store.folder import load_folder

    loaded = load_folder(prospects)
    box = maildir(
        tmp_path / "INBOX", [message(JANE, ME), message(JANE, ME, subject="second"), message(BOB, ME)]
    )
    zone = dt.UTC
    run = read_sources(
        [(str(box), str(box))], loaded.prospects, [ME], zone, dt.datetime(2026, 12, 1, tzinfo=zone)
    )
    jane = prospects / "jane.md"
    jane.write_text(jane.read_text() + "- 2026-11-30 10:15 email in: Quote\n")
    assert log_touches(run, dry_run=False, autocommit=False) == []
    assert not run.failed
    assert log_of(prospects, "jane.md") == [
        "- 2026-11-30 10:15 email in: Quote",
        "- 2026-11-30 10:15 email in: second",
    ]
    assert log_of(prospects, "bob.md")[-1] == "- 2026-11-30 10:15 email in: Quote"

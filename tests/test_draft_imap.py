"""`mdfollow draft` into an IMAP Drafts folder on a real server (pymap on 127.0.0.1, see
tests/imap_server.py): APPEND with \\Draft, read back, a second run adds nothing, failures."""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import RunCli, WriteFile
from tests.imap_server import ImapServer, ScriptedServer, TlsProxy, imap_server, running, trust
from tests.test_draft import CONFIG, FIRST, QUOTE, prospect

__all__ = ["imap_server"]


@pytest.fixture
def imap_drafts(
    imap_server: ImapServer, folder: Path, write: WriteFile, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[ImapServer]:
    """The prospect folder of tests/test_draft.py, with `[drafts] to` an empty IMAP Drafts folder."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.netrc
    monkeypatch.setenv("MDFOLLOW_IMAP_PASSWORD", imap_server.password)
    with contextlib.suppress(AssertionError):
        imap_server.create("Drafts")
    imap_server.clear("Drafts")
    write("mdfollow.toml", CONFIG.replace('to = "Drafts"', f'to = "{imap_server.url("Drafts")}"'))
    write("_templates/email-2.txt", FIRST)
    write("_templates/quote-check.txt", QUOTE)
    write("jane.md", prospect("Jane Doe", "2026-11-20 meeting: took her card", email="jane@acme.example"))
    write(
        "bob.md",
        prospect("Bob", "2026-11-20 meeting: met", "2026-11-23 email: sent quote #7", email="bob@b.example"),
    )
    write("nomail.md", prospect("No Mail", "2026-11-25 meeting: met"))
    yield imap_server


def messages(server: ImapServer, folder: str = "Drafts") -> dict[int, EmailMessage]:
    """Every message of the folder by UID, fetched with BODY.PEEK (nothing marked seen)."""
    found: dict[int, EmailMessage] = {}
    with server.client() as connection:
        status, answer = connection.select(folder, readonly=True)
        assert status == "OK", answer
        status, lines = connection.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
        assert status == "OK", lines
    for line in lines:
        if isinstance(line, tuple):
            uid = re.search(rb"UID (\d+)", line[0])
            assert uid is not None
            parsed = email.message_from_bytes(line[1], policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            found[int(uid[1])] = parsed
    return found


def test_drafts_are_appended_with_the_draft_flag_and_a_second_run_adds_nothing(
    imap_drafts: ImapServer, run: RunCli
) -> None:
    first = run("draft", "--due")
    assert first.exit_code == 0, first
    assert first.stdout.splitlines()[-1] == f"2 drafts written to {imap_drafts.url('Drafts')}; 1 skipped"
    stored = messages(imap_drafts)
    by_marker = {m["X-Mdfollow-Draft"]: m for m in stored.values()}
    assert set(by_marker) == {"jane-2", "bob-3"}
    jane = by_marker["jane-2"]
    assert (jane["From"], jane["To"], jane["Subject"]) == (
        "sam@seller.example",
        "Jane Doe <jane@acme.example>",
        "Good to meet you, Jane",
    )
    assert jane.get_content().replace("\r\n", "\n") == (
        "Hi Jane,\n\nThanks for the meeting on 2026-11-20 (took her card).\nThis is touch #2.\n\nSam Seller, Acme\n"
    )
    flags = imap_drafts.flags("Drafts")
    assert set(flags) == set(stored)
    assert all("\\Draft" in f and "\\Seen" not in f for f in flags.values()), flags

    second = run("draft", "--due")
    assert second.exit_code == 0, second
    assert second.stdout.splitlines() == [
        "jane: already drafted",
        "bob: already drafted",
        f"0 drafts written to {imap_drafts.url('Drafts')}; 2 already drafted; 1 skipped",
    ]
    assert set(messages(imap_drafts)) == set(stored)
    assert imap_drafts.flags("Drafts") == flags  # looked at read-only: no flag changed


def test_a_marker_that_only_contains_ours_is_not_ours(imap_drafts: ImapServer, run: RunCli) -> None:
    """IMAP SEARCH HEADER matches substrings: jane-22 must not count as jane-2."""
    other = b"From: a@b.example\r\nSubject: older\r\nX-Mdfollow-Draft: jane-22\r\n\r\nx\r\n"
    imap_drafts.append("Drafts", other, "\\Draft")
    result = run("draft", "jane")
    assert result.exit_code == 0, result
    assert result.stdout.startswith("drafted jane (touch #2)")
    assert sorted(m["X-Mdfollow-Draft"] for m in messages(imap_drafts).values()) == ["jane-2", "jane-22"]


def test_a_missing_folder_or_a_refused_login_is_one_line_and_writes_nothing(
    imap_drafts: ImapServer, write: WriteFile, run: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("mdfollow.toml", CONFIG.replace('to = "Drafts"', f'to = "{imap_drafts.url("NoSuchDrafts")}"'))
    missing = run("draft", "--due")
    assert missing.exit_code == 1
    [line] = missing.stderr.splitlines()
    assert line.startswith(f"mdfollow: {imap_drafts.url('NoSuchDrafts')}: cannot open folder 'NoSuchDrafts'")

    write("mdfollow.toml", CONFIG.replace('to = "Drafts"', f'to = "{imap_drafts.url("Drafts")}"'))
    monkeypatch.setenv("MDFOLLOW_IMAP_PASSWORD", "wrong")
    refused = run("draft", "--due")
    assert refused.exit_code == 1
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"mdfollow: {imap_drafts.url('Drafts')}: login refused")
    assert "wrong" not in line
    assert messages(imap_drafts) == {}


def test_imaps_with_a_trusted_certificate(
    imap_drafts: ImapServer, write: WriteFile, run: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    proxy = TlsProxy(imap_drafts.port, tmp_path)
    with running(proxy):
        url = imap_drafts.url("Drafts", scheme="imaps", port=proxy.port)
        write("mdfollow.toml", CONFIG.replace('to = "Drafts"', f'to = "{url}"'))
        untrusted = run("draft", "jane")
        assert untrusted.exit_code == 1 and "certificate not trusted" in untrusted.stderr
        for name, value in trust(proxy.ca_file).items():
            monkeypatch.setenv(name, value)
        result = run("draft", "jane")
        assert result.exit_code == 0, result
    assert [m["X-Mdfollow-Draft"] for m in messages(imap_drafts).values()] == ["jane-2"]


@pytest.mark.parametrize(
    "answer",
    [b"{tag} NO [SERVERBUG] fetch refused\r\n", b"* 1 FETCH (UID 1 BODY[HEADER] {999}\r\nFrom: a\r\n"],
)
def test_a_misbehaving_drafts_server_is_one_line_never_a_traceback(
    imap_drafts: ImapServer, write: WriteFile, run: RunCli, answer: bytes
) -> None:
    with ScriptedServer(answer) as scripted:
        url = f"imap://sam%40acme.example@127.0.0.1:{scripted.port}/Drafts"
        write("mdfollow.toml", CONFIG.replace('to = "Drafts"', f'to = "{url}"'))
        result = run("draft", "jane")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"mdfollow: {url}: "), line
    assert "Traceback" not in result.stderr and result.stdout == ""

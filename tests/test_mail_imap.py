"""`mdfollow mail` against a real IMAP server (pymap on 127.0.0.1): touches, flags untouched, failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunCli, WriteFile
from tests.imap_server import (
    CuttingProxy,
    ImapServer,
    Proxy,
    ScriptedServer,
    TlsProxy,
    free_port,
    imap_server,
    running,
    trust,
)
from tests.mail_messages import CONFIG, ME, PROSPECTS, maildir, message

__all__ = ["imap_server"]

JANE, BOB = "jane@client.example", "bob@roe.example"


@pytest.fixture
def prospects(write: WriteFile, folder: Path) -> Path:
    write("mdfollow.toml", CONFIG)
    for name, text in PROSPECTS.items():
        write(name, text)
    return folder


@pytest.fixture
def server(imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ImapServer:
    """The module's server with INBOX and Sent emptied, its password in the environment, no ~/.netrc."""
    for name in ("INBOX", "Sent"):
        if name != "INBOX" and name not in _folders(imap_server):
            imap_server.create(name)
        imap_server.clear(name)
    monkeypatch.setenv("MDFOLLOW_IMAP_PASSWORD", imap_server.password)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return imap_server


def _folders(server: ImapServer) -> set[str]:
    with server.client() as connection:
        _, lines = connection.list()
    return {line.decode().rsplit(" ", 1)[-1].strip('"') for line in lines if isinstance(line, bytes)}


def log_of(folder: Path, name: str) -> list[str]:
    return [line for line in (folder / name).read_text().splitlines() if line.startswith("- ")]


def test_inbox_and_sent_over_imap_leave_every_flag(prospects: Path, run: RunCli, server: ImapServer) -> None:
    server.append(
        "INBOX", message(f"Jane <{JANE}>", ME, subject="=?utf-8?q?Re=3A_caf=C3=A9?=", message_id="<r@c>")
    )
    server.append("INBOX", message("Bob <BOB@roe.example>", ME, subject="seen already"), flags="\\Seen")
    server.append("INBOX", message(JANE, ME, headers=["Auto-Submitted: auto-replied"]))
    server.append("INBOX", message("friend@else.example", ME))
    server.append("Sent", message(ME, JANE, cc=BOB, subject="Offer", date="Tue, 1 Dec 2026 09:30:10 +0000"))
    flags = {name: server.flags(name) for name in ("INBOX", "Sent")}
    assert [sorted(f) for f in flags["INBOX"].values()].count(["\\Seen"]) == 1
    with running(Proxy(server.port)) as proxy:
        urls = [server.url(name, port=proxy.port) for name in ("INBOX", "Sent")]
        result = run("mail", *urls, today="2026-12-01")
    assert result.exit_code == 0, result
    commands = [line.split(b" ", 2)[1].upper() for line in bytes(proxy.sent).splitlines() if b" " in line]
    assert commands.count(b"EXAMINE") == 2
    assert not {b"SELECT", b"STORE", b"COPY", b"MOVE", b"EXPUNGE", b"APPEND"} & set(commands)
    fetches = [line for line in bytes(proxy.sent).splitlines() if b"FETCH" in line.upper()]
    assert fetches and all(b"BODY.PEEK[HEADER]" in line for line in fetches)
    assert log_of(prospects, "jane.md") == [
        "- 2026-11-30 10:15 email in: Re: café",
        "- 2026-12-01 09:30 email: Offer",
    ]
    assert log_of(prospects, "bob.md")[1:] == [
        "- 2026-11-30 10:15 email in: seen already",
        "- 2026-12-01 09:30 email: Offer",
    ]
    assert result.stdout.splitlines()[-1] == (
        "4 touches logged for 2 prospects; 1 automatic message skipped; 1 message matched no prospect"
    )
    assert {name: server.flags(name) for name in ("INBOX", "Sent")} == flags
    again = run("mail", server.url("INBOX"), server.url("Sent"), "--json", today="2026-12-01")
    assert [item["logged"] for item in json.loads(again.stdout)] == [False] * 4
    assert {name: server.flags(name) for name in ("INBOX", "Sent")} == flags


def test_since_narrows_the_imap_fetch(prospects: Path, run: RunCli, server: ImapServer) -> None:
    server.append("INBOX", message(JANE, ME, subject="old", date="Mon, 2 Nov 2026 10:00:00 +0000"))
    server.append("INBOX", message(JANE, ME, subject="new"))
    result = run("mail", server.url(), "--since", "2026-11-30", today="2026-12-01")
    assert result.exit_code == 0, result
    assert log_of(prospects, "jane.md") == ["- 2026-11-30 10:15 email in: new"]


def test_login_refused_is_one_line_and_other_sources_still_count(
    prospects: Path, run: RunCli, server: ImapServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.append("INBOX", message(JANE, ME))
    local = maildir(tmp_path / "Local", [message(BOB, ME)])
    monkeypatch.setenv("MDFOLLOW_IMAP_PASSWORD", "wrong")
    result = run("mail", server.url(), str(local), today="2026-12-01")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"mdfollow: {server.url()}: login refused: ")
    assert line.endswith("(nothing logged from it)")
    assert log_of(prospects, "jane.md") == []
    assert log_of(prospects, "bob.md")[-1] == "- 2026-11-30 10:15 email in: Quote"


def test_missing_password_is_an_error_not_a_prompt(
    prospects: Path, run: RunCli, server: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MDFOLLOW_IMAP_PASSWORD")
    result = run("mail", server.url(), today="2026-12-01", input="")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"mdfollow: {server.url()}: no password: set MDFOLLOW_IMAP_PASSWORD or add "
        f"'machine 127.0.0.1' to ~/.netrc (nothing logged from it)"
    ]


def test_password_from_netrc(
    prospects: Path, run: RunCli, server: ImapServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MDFOLLOW_IMAP_PASSWORD")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text(f'machine 127.0.0.1 login {server.user} password "{server.password}"\n')
    (home / ".netrc").chmod(0o600)
    server.append("INBOX", message(JANE, ME))
    result = run("mail", f"imap://127.0.0.1:{server.port}/INBOX", today="2026-12-01")
    assert result.exit_code == 0, result
    assert log_of(prospects, "jane.md") == ["- 2026-11-30 10:15 email in: Quote"]


def test_connection_dropped_mid_fetch_writes_nothing_from_it(
    prospects: Path, run: RunCli, server: ImapServer, tmp_path: Path
) -> None:
    server.append("INBOX", message(JANE, ME))
    local = maildir(tmp_path / "Local", [message(BOB, ME)])
    with running(CuttingProxy(server.port, b"FETCH")) as proxy:
        url = server.url(port=proxy.port)
        result = run("mail", url, str(local), today="2026-12-01")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"mdfollow: {url}: the server closed the connection (")
    assert line.endswith(") (nothing logged from it)")
    assert log_of(prospects, "jane.md") == []
    assert log_of(prospects, "bob.md")[-1] == "- 2026-11-30 10:15 email in: Quote"


def test_server_not_there(prospects: Path, run: RunCli, server: ImapServer) -> None:
    url = server.url(port=free_port())
    result = run("mail", url, today="2026-12-01")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"mdfollow: {url}: cannot connect: connection refused (is the server running? right port?)"
        " (nothing logged from it)"
    ]


def test_unknown_folder(prospects: Path, run: RunCli, server: ImapServer) -> None:
    result = run("mail", server.url("Nope"), today="2026-12-01")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"mdfollow: {server.url('Nope')}: cannot open folder 'Nope': ")


def test_imaps_with_a_trusted_and_an_untrusted_certificate(
    prospects: Path, run: RunCli, server: ImapServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.append("INBOX", message(JANE, ME))
    proxy = TlsProxy(server.port, tmp_path)
    with running(proxy):
        url = server.url(scheme="imaps", port=proxy.port)
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
        monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
        refused = run("mail", url, today="2026-12-01")
        assert refused.exit_code == 1
        assert "certificate not trusted" in refused.stderr
        assert log_of(prospects, "jane.md") == []
        for key, value in trust(proxy.ca_file).items():
            monkeypatch.setenv(key, value)
        result = run("mail", url, today="2026-12-01")
    assert result.exit_code == 0, result
    assert log_of(prospects, "jane.md") == ["- 2026-11-30 10:15 email in: Quote"]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"{tag} NO [SERVERBUG] fetch failed\r\n", "fetch failed"),
        (b"* 1 FETCH (UID 1 BODY[HEADER] {99}\r\nFrom: jane@client.example\r\n", "closed the connection"),
        (b"* 1 FETCH )))(((\r\n{tag} OK done\r\n", None),
        (b"* 1 FETCH (UID 1 FLAGS ())\r\n{tag} OK done\r\n", None),
        (b"\xff\xfe garbage \x00\r\n", None),
    ],
)
def test_misbehaving_server_is_one_line_never_a_traceback(
    prospects: Path, run: RunCli, monkeypatch: pytest.MonkeyPatch, answer: bytes, error: str | None
) -> None:
    monkeypatch.setenv("MDFOLLOW_IMAP_PASSWORD", "x")
    with ScriptedServer(answer) as server:
        url = f"imap://u@127.0.0.1:{server.port}/INBOX"
        result = run("mail", url, today="2026-12-01")
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    if result.exit_code:
        assert result.exit_code == 1
        [line] = lines
        assert line.startswith(f"mdfollow: {url}: ") and line.endswith("(nothing logged from it)")
        if error:
            assert error in line
    else:
        assert error is None
        assert all(line.startswith(f"{url}:1: ") for line in lines)
    assert log_of(prospects, "jane.md") == []

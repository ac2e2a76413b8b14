"""mdfollow.connect.imap against a real IMAP server (pymap on 127.0.0.1): URLs, passwords, TLS, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdfollow.connect.imap import ImapError, connect, credentials, open_folder, parse_imap_url
from tests.imap_server import CuttingProxy, ImapServer, TlsProxy, free_port, imap_server, running, trust

__all__ = ["imap_server"]

MESSAGE = (
    b"From: jane@acme.example\r\nTo: sam@acme.example\r\nSubject: hi\r\nMessage-ID: <1@acme>\r\n\r\nbody\r\n"
)


@pytest.fixture(autouse=True)
def _no_netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MDFOLLOW_IMAP_PASSWORD", raising=False)


def test_url_parts() -> None:
    url = parse_imap_url("imaps://me%40acme.example@mail.acme.example/Sent%20Items")
    assert (url.scheme, url.user, url.host, url.port, url.folder) == (
        "imaps",
        "me@acme.example",
        "mail.acme.example",
        993,
        "Sent Items",
    )
    assert parse_imap_url("imap://u@h:1143").folder == "INBOX"
    assert parse_imap_url("imap://u@h:1143").port == 1143
    assert str(parse_imap_url("imap://u@h:1143/INBOX")) == "imap://u@h:1143/INBOX"


@pytest.mark.parametrize("text", ["http://h/INBOX", "imap:///INBOX", "imap://u@h:notaport/X"])
def test_bad_url_is_one_line(text: str) -> None:
    with pytest.raises(ImapError, match="not an IMAP URL"):
        parse_imap_url(text)


def test_password_in_url_is_refused_and_not_echoed() -> None:
    with pytest.raises(ImapError) as caught:
        parse_imap_url("imap://u:hunter2@h/INBOX")
    assert "hunter2" not in caught.value.message
    assert "MDFOLLOW_IMAP_PASSWORD" in caught.value.message


def test_password_from_env_then_netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = parse_imap_url("imap://u@mail.example/INBOX")
    with pytest.raises(ImapError, match="no password"):
        credentials(url)
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text("machine mail.example login other password from-netrc\n")
    netrc.chmod(0o600)
    assert credentials(url) == ("u", "from-netrc")
    assert credentials(parse_imap_url("imap://mail.example/INBOX")) == ("other", "from-netrc")
    monkeypatch.setenv("MDFOLLOW_IMAP_PASSWORD", "from-env")
    assert credentials(url) == ("u", "from-env")


def test_examine_and_peek_leave_flags(imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch) -> None:
    imap_server.clear("INBOX")
    imap_server.append("INBOX", MESSAGE)
    before = imap_server.flags("INBOX")
    monkeypatch.setenv("MDFOLLOW_IMAP_PASSWORD", imap_server.password)
    with open_folder(parse_imap_url(imap_server.url())) as box:
        fetched = list(box.fetch(headers_only=True, mark_seen=False))
    assert [m.subject for m in fetched] == ["hi"]
    assert imap_server.flags("INBOX") == before
    assert all("\\Seen" not in flags for flags in before.values())


def test_login_refused(imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDFOLLOW_IMAP_PASSWORD", "wrong")
    with (
        pytest.raises(
            ImapError, match=r"^imap://sam%40acme\.example@127\.0\.0\.1:\d+/INBOX: login refused: "
        ),
        connect(parse_imap_url(imap_server.url())),
    ):
        pass


def test_server_not_there(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDFOLLOW_IMAP_PASSWORD", "x")
    url = parse_imap_url(f"imap://u@127.0.0.1:{free_port()}/INBOX")
    with pytest.raises(ImapError, match="cannot connect: connection refused"), connect(url):
        pass


def test_unknown_folder(imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDFOLLOW_IMAP_PASSWORD", imap_server.password)
    with (
        pytest.raises(ImapError, match="cannot open folder 'Nope'"),
        open_folder(parse_imap_url(imap_server.url("Nope"))),
    ):
        pass


def test_dropped_mid_fetch(imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch) -> None:
    imap_server.clear("INBOX")
    imap_server.append("INBOX", MESSAGE)
    monkeypatch.setenv("MDFOLLOW_IMAP_PASSWORD", imap_server.password)
    with running(CuttingProxy(imap_server.port, b"FETCH")) as proxy:
        url = parse_imap_url(imap_server.url(port=proxy.port))
        with pytest.raises(ImapError, match="closed the connection"), open_folder(url) as box:
            list(box.fetch(headers_only=True, mark_seen=False))


def test_imaps_checks_the_certificate(
    imap_server: ImapServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imap_server.clear("INBOX")
    imap_server.append("INBOX", MESSAGE)
    monkeypatch.setenv("MDFOLLOW_IMAP_PASSWORD", imap_server.password)
    proxy = TlsProxy(imap_server.port, tmp_path)
    with running(proxy):
        url = parse_imap_url(imap_server.url(scheme="imaps", port=proxy.port))
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
        monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
        with pytest.raises(ImapError, match="certificate not trusted"), open_folder(url):
            pass
        for key, value in trust(proxy.ca_file).items():
            monkeypatch.setenv(key, value)
        with open_folder(url) as box:
            assert [m.subject for m in box.fetch(headers_only=True, mark_seen=False)] == ["hi"]

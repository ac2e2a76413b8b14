"""`mdfollow caldav` when the server is down, silent, odd, or full of other people's items."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mdfollow.cli import app
from tests.conftest import TODAY, Result, WriteFile
from tests.radicale_server import PASSWORDS, Radicale, free_port, running_radicale

JANE = "---\nname: Jane Doe\nowner: alice\ncreated: 2026-11-20\n---\n"


def caldav(folder: Path, url: str, *args: str, env: dict[str, str | None] | None = None) -> Result:
    environment: dict[str, str | None] = {"MDFOLLOW_CALDAV_PASSWORD": "alice-secret", "MDFOLLOW_OWNER": None}
    result = CliRunner().invoke(
        app,
        ["--dir", str(folder), "--today", TODAY, "caldav", url, "--user", "alice", *args],
        env=environment | (env or {}),
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)


def one_line_failure(result: Result) -> str:
    assert result.exit_code == 1, result
    assert "Traceback" not in result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    return line


def test_a_server_that_is_down(folder: Path, write: WriteFile) -> None:
    write("jane.md", JANE)
    before = (folder / "jane.md").read_bytes()
    line = one_line_failure(caldav(folder, f"http://127.0.0.1:{free_port()}/alice/tasks/"))
    assert "cannot connect" in line and "is the server running?" in line
    assert (folder / "jane.md").read_bytes() == before


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def test_a_silent_server_times_out_and_says_so(folder: Path, write: WriteFile, silent_server: int) -> None:
    write("jane.md", JANE)
    started = time.monotonic()
    line = one_line_failure(
        caldav(folder, f"http://127.0.0.1:{silent_server}/alice/tasks/", "--timeout", "0.5")
    )
    assert time.monotonic() - started < 10
    assert "no answer within 0.5 s (timed out)" in line


class CannedServer(ThreadingHTTPServer):
    """Answers REPORT with a canned multistatus and every write with 201, recording the writes."""

    def __init__(
        self, listing: bytes, content_type: str = "application/xml; charset=utf-8", digest: bool = False
    ) -> None:
        self.listing, self.content_type, self.digest = listing, content_type, digest
        self.writes: list[tuple[str, str]] = []
        self.logins: list[str] = []
        self.always_412 = False
        super().__init__(("127.0.0.1", 0), CannedHandler)


class CannedHandler(BaseHTTPRequestHandler):
    server: CannedServer

    def do_REPORT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        login = self.headers.get("Authorization", "").split(" ")[0]
        self.server.logins.append(login)
        if self.server.digest and login != "Digest":
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Digest realm="cal", nonce="abc123", qop="auth"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(207)
        self.send_header("Content-Type", self.server.content_type)
        self.send_header("Content-Length", str(len(self.server.listing)))
        self.end_headers()
        self.wfile.write(self.server.listing)

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.writes.append((self.command, self.path))
        self.send_response(412 if self.server.always_412 else 201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_DELETE = do_PUT

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def canned() -> Iterator[Any]:
    servers: list[CannedServer] = []

    def start(
        listing: bytes, content_type: str = "application/xml; charset=utf-8", digest: bool = False
    ) -> CannedServer:
        server = CannedServer(listing, content_type, digest)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def multistatus(*items: tuple[str, str]) -> bytes:
    responses = "".join(
        f'<D:response><D:href>{href}</D:href><D:propstat><D:prop><D:getetag>"1"</D:getetag>'
        f"<C:calendar-data>{data}</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status>"
        f"</D:propstat></D:response>"
        for href, data in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">{responses}</D:multistatus>'
    ).encode()


def test_a_malformed_item_of_ours_is_named_and_left_alone(
    folder: Path, write: WriteFile, canned: Any
) -> None:
    write("jane.md", JANE)
    write("bob.md", "---\nname: Bob Brown\nowner: alice\ncreated: 2026-11-20\n---\n")
    broken = "BEGIN:VCALENDAR\nBEGIN:VTODO\nUID:jane-1@mdfollow\nSTATUS:COMPLETED\nCOMPLETED:yesterday\nEND:VTODO\nEND:VCALENDAR\n"
    server = canned(multistatus(("/alice/tasks/odd.ics", broken)))
    before = (folder / "jane.md").read_bytes()
    result = caldav(folder, f"http://127.0.0.1:{server.server_address[1]}/alice/tasks/")
    line = one_line_failure(result)
    assert "/alice/tasks/odd.ics: not a readable calendar object" in line and "left as it is" in line
    assert (folder / "jane.md").read_bytes() == before
    # Bob's task is pushed; Jane's is not (her task on the server cannot be read, so it is not replaced).
    assert server.writes == [("PUT", "/alice/tasks/bob-1@mdfollow.ics")]


def test_a_server_that_wants_digest_gets_it_after_the_first_basic_try(
    folder: Path, write: WriteFile, canned: Any
) -> None:
    write("jane.md", JANE)
    server = canned(multistatus(), digest=True)
    result = caldav(folder, f"http://127.0.0.1:{server.server_address[1]}/alice/tasks/")
    assert result.exit_code == 0, result
    assert server.logins[:2] == ["Basic", ""] and server.logins[-1] == "Digest"


def test_an_answer_that_is_not_xml_is_one_line(folder: Path, write: WriteFile, canned: Any) -> None:
    write("jane.md", JANE)
    server = canned(b"<html><body>Welcome to our portal", "text/xml")
    line = one_line_failure(caldav(folder, f"http://127.0.0.1:{server.server_address[1]}/alice/tasks/"))
    assert line.startswith(f"mdfollow: http://127.0.0.1:{server.server_address[1]}/alice/tasks/:")
    assert server.writes == []


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[Radicale]:
    yield from running_radicale(tmp_path / "radicale")


def test_netrc_is_read_when_the_variable_is_not_set(
    folder: Path, write: WriteFile, radicale: Radicale, tmp_path: Path
) -> None:
    write("jane.md", JANE)
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login alice password {PASSWORDS['alice']}\n")
    netrc.chmod(0o600)
    result = caldav(folder, radicale.url(), env={"MDFOLLOW_CALDAV_PASSWORD": None, "NETRC": str(netrc)})
    assert result.exit_code == 0, result
    assert "1 created" in result.stdout


def test_a_wrong_password_in_the_variable_does_not_fall_back_to_netrc(
    folder: Path, write: WriteFile, radicale: Radicale, tmp_path: Path
) -> None:
    write("jane.md", JANE)
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login alice password {PASSWORDS['alice']}\n")
    netrc.chmod(0o600)
    result = caldav(folder, radicale.url(), env={"MDFOLLOW_CALDAV_PASSWORD": "wrong", "NETRC": str(netrc)})
    assert "refused the login" in one_line_failure(result)
    assert radicale.items() == {}


def test_a_broken_netrc_names_its_line(folder: Path, write: WriteFile, tmp_path: Path) -> None:
    write("jane.md", JANE)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login alice password s3cret\nthis is not netrc\n")
    netrc.chmod(0o600)
    result = caldav(
        folder, "http://127.0.0.1:9/alice/tasks/", env={"MDFOLLOW_CALDAV_PASSWORD": None, "NETRC": str(netrc)}
    )
    assert f"{netrc}:" in one_line_failure(result)


def test_thousands_of_foreign_items_are_read_past_and_left_alone(
    folder: Path, write: WriteFile, radicale: Radicale
) -> None:
    write("jane.md", JANE)
    assert caldav(folder, radicale.url()).exit_code == 0
    storage = radicale.home / "collections" / "collection-root" / "alice" / "tasks"
    for number in range(1000):  # Radicale parses each once (~10 ms), then serves them from its cache
        (storage / f"chore-{number}.ics").write_text(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//phone//EN\r\nBEGIN:VTODO\r\n"
            f"UID:chore-{number}@phone\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Chore {number}\r\n"
            "END:VTODO\r\nEND:VCALENDAR\r\n"
        )
    before = radicale.items(timeout=120)
    assert len(before) == 1001
    result = caldav(folder, radicale.url())
    assert result.exit_code == 0, result
    assert "0 created, 0 updated, 0 deleted, 1 unchanged" in result.stdout
    assert radicale.items() == before


def test_a_url_that_is_not_http_is_a_usage_error(folder: Path, write: WriteFile) -> None:
    write("jane.md", JANE)
    result = caldav(folder, "cal.example.com/alice/tasks/")
    assert result.exit_code == 2
    assert "not an http:// or https:// URL" in result.stderr


def test_a_password_in_the_url_is_never_shown_nor_used(
    folder: Path, write: WriteFile, radicale: Radicale
) -> None:
    write("jane.md", JANE)
    port = radicale.port
    down = caldav(folder, f"http://alice:hunter2@127.0.0.1:{free_port()}/alice/tasks/")
    assert "hunter2" not in down.stdout + down.stderr and "cannot connect" in one_line_failure(down)
    with_user = caldav(
        folder,
        f"http://alice:{PASSWORDS['alice']}@127.0.0.1:{port}/alice/tasks/",
        env={"MDFOLLOW_CALDAV_PASSWORD": None, "NETRC": "/nonexistent"},
    )
    assert "there is no password: set MDFOLLOW_CALDAV_PASSWORD" in one_line_failure(with_user)
    assert PASSWORDS["alice"] not in with_user.stderr


def test_a_calendar_that_keeps_changing_gives_up_after_three_tries(
    folder: Path, write: WriteFile, canned: Any
) -> None:
    write("jane.md", JANE)
    server = canned(multistatus())
    server.always_412 = True
    line = one_line_failure(caldav(folder, f"http://127.0.0.1:{server.server_address[1]}/alice/tasks/"))
    assert "the calendar kept changing during the sync (3 tries)" in line and "run it again" in line
    assert len(server.writes) == 3

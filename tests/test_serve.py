"""The feed over HTTP: a real server on 127.0.0.1 and a free port, real requests, and the real CLI."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from mdfollow.core.errors import MdfollowError
from mdfollow.live.serve import FeedServer, FeedState, accepts_gzip, check_binding, feed_url
from tests import test_watch
from tests.conftest import RunCli
from tests.test_watch import TIMEOUT, StartWatching, prospect, wait_for

start_watching = test_watch.start_watching
FEED = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
Response = tuple[int, dict[str, str], bytes]


def request(port: int, method: str, path: str, headers: dict[str, str] | None = None) -> Response:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


Serve = Callable[..., FeedServer]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """serve(state, token=None) runs a FeedServer on 127.0.0.1, a free port; stopped at teardown."""
    servers: list[FeedServer] = []

    def start(
        state: FeedState, token: str | None = None, log: Callable[[str], None] = print, **limits: Any
    ) -> FeedServer:
        server = FeedServer("127.0.0.1", 0, state, token, log, **limits)
        server.__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def published() -> FeedState:
    state = FeedState(clock=lambda: 1_800_000_000.5)
    state.publish(FEED)
    return state


def test_get_serves_the_feed_with_validators(serve: Serve, published: FeedState) -> None:
    status, headers, body = request(serve(published).port, "GET", "/feed.ics")
    assert (status, body) == (200, FEED)
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["Content-Length"] == str(len(FEED))
    assert headers["ETag"].startswith('"') and len(headers["ETag"]) > 10
    assert headers["Last-Modified"] == "Fri, 15 Jan 2027 08:00:00 GMT"
    assert headers["Cache-Control"] == "no-cache"


def test_query_strings_are_ignored(serve: Serve, published: FeedState) -> None:
    assert request(serve(published).port, "GET", "/feed.ics?client=phone")[0] == 200


def test_head_has_the_headers_of_get_and_no_body(serve: Serve, published: FeedState) -> None:
    port = serve(published).port
    status, headers, body = request(port, "HEAD", "/feed.ics")
    _, get_headers, _ = request(port, "GET", "/feed.ics")
    assert (status, body) == (200, b"")
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified"):
        assert headers[name] == get_headers[name]


def test_304_on_a_matching_etag_and_200_on_another(serve: Serve, published: FeedState) -> None:
    port = serve(published).port
    etag = request(port, "GET", "/feed.ics")[1]["ETag"]
    status, headers, body = request(port, "GET", "/feed.ics", {"If-None-Match": f'"other", {etag}'})
    assert (status, body, headers["ETag"]) == (304, b"", etag)
    assert request(port, "GET", "/feed.ics", {"If-None-Match": '"other"'})[0] == 200
    assert request(port, "HEAD", "/feed.ics", {"If-None-Match": f"W/{etag}"})[0] == 304


def test_304_when_not_modified_since(serve: Serve, published: FeedState) -> None:
    port = serve(published).port
    modified = request(port, "GET", "/feed.ics")[1]["Last-Modified"]
    assert request(port, "GET", "/feed.ics", {"If-Modified-Since": modified})[0] == 304
    earlier = formatdate(1_800_000_000 - 60, usegmt=True)
    assert request(port, "GET", "/feed.ics", {"If-Modified-Since": earlier})[0] == 200
    assert request(port, "GET", "/feed.ics", {"If-Modified-Since": "yesterday"})[0] == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)
    both = {"If-Modified-Since": modified, "If-None-Match": '"other"'}
    assert request(port, "GET", "/feed.ics", both)[0] == 200


def test_a_new_version_gets_a_new_etag_and_a_later_last_modified(serve: Serve, published: FeedState) -> None:
    port = serve(published).port
    _, before, _ = request(port, "GET", "/feed.ics")
    published.publish(FEED + b"\r\n")
    status, after, body = request(port, "GET", "/feed.ics", {"If-None-Match": before["ETag"]})
    assert (status, body) == (200, FEED + b"\r\n")
    assert after["ETag"] != before["ETag"]
    assert after["Last-Modified"] == "Fri, 15 Jan 2027 08:00:01 GMT"  # same clock second, still later
    assert request(port, "GET", "/feed.ics", {"If-Modified-Since": before["Last-Modified"]})[0] == 200


@pytest.mark.parametrize(
    "path", ["/", "/feed", "/feed.ics/", "/x/feed.ics", "/../mdfollow.toml", "/mdfollow.toml"]
)
def test_404_for_any_other_path(serve: Serve, published: FeedState, path: str) -> None:
    status, _, body = request(serve(published).port, "GET", path)
    assert status == 404
    assert b"BEGIN:VCALENDAR" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_404_for_other_methods_as_the_spec_says(serve: Serve, published: FeedState, method: str) -> None:
    status, _, body = request(serve(published).port, method, "/feed.ics")
    assert status == 404
    assert b"BEGIN:VCALENDAR" not in body


def test_503_until_the_first_feed_is_built(serve: Serve) -> None:
    status, headers, _ = request(serve(FeedState()).port, "GET", "/feed.ics")
    assert (status, headers["Retry-After"]) == (503, "5")


def test_with_a_token_only_the_token_path_serves(serve: Serve, published: FeedState) -> None:
    logged: list[str] = []
    port = serve(published, token="s3cret-Token_1", log=logged.append).port
    assert request(port, "GET", "/s3cret-Token_1/feed.ics")[0] == 200
    for path in ("/feed.ics", "/s3cret-Token_2/feed.ics", "/s3cret-Token_1/", "/s3cret-Token_1x/feed.ics"):
        assert request(port, "GET", path)[0] == 404, path
    assert logged and not any("s3cret-Token_1" in line for line in logged), logged


def test_a_malformed_request_is_answered_and_the_server_goes_on(serve: Serve, published: FeedState) -> None:
    port = serve(published).port
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw:
        raw.sendall(b"\x00\xffGARBAGE / HTTP/1.1 more\r\n\r\n")
        assert b"400" in raw.recv(4096)
    assert request(port, "GET", "/feed.ics")[0] == 200


def test_a_silent_client_does_not_block_others(serve: Serve, published: FeedState) -> None:
    port = serve(published).port
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT):
        started = time.monotonic()
        assert request(port, "GET", "/feed.ics")[0] == 200
        assert time.monotonic() - started < 2


def test_200_concurrent_clients_all_get_the_feed(serve: Serve, published: FeedState) -> None:
    port = serve(published, log=lambda line: None).port
    ready = threading.Barrier(200, timeout=TIMEOUT)

    def fetch(_: int) -> Response:
        ready.wait()
        return request(port, "GET", "/feed.ics")

    with ThreadPoolExecutor(max_workers=200) as pool:
        responses = list(pool.map(fetch, range(200)))
    assert [(status, body) for status, _, body in responses] == [(200, FEED)] * 200


def test_other_hosts_need_a_token() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_binding(host, None)
    check_binding("0.0.0.0", "a-long-random-token")
    with pytest.raises(MdfollowError) as refused:
        check_binding("192.168.1.10", None)
    assert refused.value.exit_code == 2
    with pytest.raises(MdfollowError, match="letters, digits"):
        check_binding("0.0.0.0", "has/slash")


def test_feed_urls() -> None:
    assert feed_url("127.0.0.1", 8765, None) == "http://127.0.0.1:8765/feed.ics"
    assert feed_url("::1", 80, "t0k", "webcal") == "webcal://[::1]:80/t0k/feed.ics"
    assert feed_url("0.0.0.0", 1, "t") == f"http://{socket.gethostname()}:1/t/feed.ics"


def test_watch_and_serve_modules_load_only_when_their_command_runs() -> None:
    code = (
        "import sys, mdfollow.cli; print(sorted({'watchdog', 'http.server', 'icalendar'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_serve_refuses_a_public_host_without_a_token(run: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MDFOLLOW_TOKEN", raising=False)
    result = run("serve", "--host", "0.0.0.0")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--token" in result.stderr
    assert result.stdout == ""


def test_the_served_feed_follows_the_folder_and_survives_a_broken_config(
    folder: Path, serve: Serve, start_watching: StartWatching
) -> None:
    (folder / "ann.md").write_text(prospect("Ann", "2026-11-20"))
    state = FeedState()
    server = serve(state)
    harness = start_watching(state.publish)
    assert request(server.port, "GET", "/feed.ics")[2] == b"ann 2026-11-20 prospects\n"
    (folder / "bob.md").write_text(prospect("Bob", "2026-11-23"))
    wait_for(lambda: b"bob" in request(server.port, "GET", "/feed.ics")[2], "bob in the served feed")

    def version() -> tuple[int, str, str, bytes]:
        status, headers, body = request(server.port, "GET", "/feed.ics")
        return status, headers["ETag"], headers["Last-Modified"], body

    good = version()
    (folder / "mdfollow.toml").write_text("reply = [\n")
    (folder / "cat.md").write_text(prospect("Cat", "2026-11-23"))
    wait_for(lambda: any(line.startswith("error: ") for line in harness.logs), "the config error logged")
    assert version() == good


def test_serve_command_prints_its_url_serves_and_exits_0_on_sigint(folder: Path, tmp_path: Path) -> None:
    (folder / "jane.md").write_text(prospect("Jane Doe", "2026-11-20"))
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    command = [sys.executable, "-m", "mdfollow", "--dir", str(folder), "--today", "2026-11-30"]
    with stdout.open("wb") as out, stderr.open("wb") as errors:
        process = subprocess.Popen([*command, "serve", "--port", "0"], stdout=out, stderr=errors)
        try:
            wait_for(lambda: "webcal://" in stdout.read_text(), "the printed URLs")
            url = stdout.read_text().split()
            http_url = next(word for word in url if word.startswith("http://127.0.0.1:"))
            port = int(http_url.split(":")[2].split("/")[0])
            assert http_url == f"http://127.0.0.1:{port}/feed.ics"
            status, headers, body = request(port, "GET", "/feed.ics")
            assert (status, headers["Content-Type"]) == (200, "text/calendar; charset=utf-8")
            assert b"UID:jane-1@mdfollow" in body
            assert str(folder).encode() not in body.replace(b"\r\n ", b"")  # SPEC §6: no absolute path
            assert b"File: jane.md" in body
            (folder / "jane.md").write_text(
                prospect("Jane Doe", "2026-11-20", "## Touches\n- 2026-11-27 call:\n")
            )
            wait_for(lambda: b"UID:jane-2@mdfollow" in request(port, "GET", "/feed.ics")[2], "the new feed")
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(TIMEOUT)
    log = stderr.read_text()
    assert code == 0, log
    assert "Traceback" not in log


def test_an_if_modified_since_with_a_huge_year_gets_a_normal_answer(
    serve: Serve, published: FeedState, capfd: pytest.CaptureFixture[str]
) -> None:
    port = serve(published).port
    for date in ("Fri, 15 Jan 99999 08:00:00 GMT", "Fri, 15 Jan 99999999999999999999999 08:00:00 GMT"):
        assert request(port, "GET", "/feed.ics", {"If-Modified-Since": date})[0] == 200
    assert "Traceback" not in capfd.readouterr().err


def test_clients_that_hang_up_leave_no_traceback(serve: Serve, capfd: pytest.CaptureFixture[str]) -> None:
    state = FeedState()
    state.publish(FEED + b"X-FILLER:" + b"x" * 8_000_000 + b"\r\n")  # more than any socket buffer
    logged: list[str] = []
    port = serve(state, log=logged.append).port
    for _ in range(5):
        raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        raw.sendall(b"GET /feed.ics HTTP/1.1\r\nHost: x\r\n\r\n")
        raw.recv(1024)  # the answer has started
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # hang up: RST
        raw.close()
    wait_for(lambda: len(logged) >= 5, "the five requests logged")
    assert request(port, "GET", "/feed.ics")[0] == 200
    time.sleep(0.2)  # let any late error reach stderr
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error" not in err, err
    assert not any("Traceback" in line or "Error" in line for line in logged), logged


def test_idle_connections_are_closed_and_hold_no_thread_each(serve: Serve, published: FeedState) -> None:
    before = threading.active_count()
    port = serve(published, log=lambda line: None, idle_timeout=0.5, workers=4).port
    idle = [socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) for _ in range(150)]
    try:
        started = time.monotonic()
        assert request(port, "GET", "/feed.ics")[0] == 200  # served while 150 sockets sit idle
        assert time.monotonic() - started < 2
        assert threading.active_count() - before <= 4 + 2  # the workers, the lobby, the acceptor
        for connection in idle:  # each one closed by the server after the idle timeout
            connection.settimeout(TIMEOUT)
            with contextlib.suppress(ConnectionResetError):  # closed with unread data: a reset
                assert connection.recv(1) == b""
        assert time.monotonic() - started < TIMEOUT
    finally:
        for connection in idle:
            connection.close()


def test_the_idle_timeout_is_a_minute_by_default(serve: Serve, published: FeedState) -> None:
    server = serve(published)
    assert server.idle_timeout == 60.0


def test_gzip_when_the_client_accepts_it_with_its_own_etag(serve: Serve) -> None:
    state = FeedState(clock=lambda: 1_800_000_000.5)
    feed = FEED.replace(b"END:VCALENDAR", b"X-FILLER:" + b"follow-up " * 5000 + b"\r\nEND:VCALENDAR")
    state.publish(feed)
    port = serve(state).port
    status, plain, body = request(port, "GET", "/feed.ics")
    assert (status, body, plain["Vary"]) == (200, feed, "Accept-Encoding")
    assert "Content-Encoding" not in plain
    status, packed, body = request(port, "GET", "/feed.ics", {"Accept-Encoding": "br, gzip;q=0.8"})
    assert (status, packed["Content-Encoding"], packed["Vary"]) == (200, "gzip", "Accept-Encoding")
    assert gzip.decompress(body) == feed
    assert len(body) < len(feed) / 10
    assert packed["Content-Length"] == str(len(body))
    assert packed["ETag"] != plain["ETag"]
    assert packed["Last-Modified"] == plain["Last-Modified"]
    revalidate = {"Accept-Encoding": "gzip", "If-None-Match": packed["ETag"]}
    status, headers, body = request(port, "GET", "/feed.ics", revalidate)
    assert (status, body, headers["ETag"]) == (304, b"", packed["ETag"])
    head = request(port, "HEAD", "/feed.ics", {"Accept-Encoding": "gzip"})
    assert (head[0], head[1]["Content-Length"], head[2]) == (200, packed["Content-Length"], b"")
    assert request(port, "GET", "/feed.ics", {"Accept-Encoding": "gzip;q=0, identity"})[2] == feed


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("GZIP", True),
        ("deflate, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0, *;q=1", False),
        ("*", True),
        ("x-gzip", True),
        ("br", False),
        ("gzip;q=bogus", False),
    ],
)
def test_accept_encoding(header: str | None, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted

"""A real Radicale CalDAV server for the tests: a subprocess on 127.0.0.1 and a free port.

Users alice and bob (htpasswd, plain), `owner_only` rights, storage in the test's
tmp_path, and one task calendar per person (`/alice/tasks/`, `/bob/tasks/`), made by
Radicale's own `predefined_collections` when each user first logs in. Radicale is in
the `test` extra, so a fresh checkout has it; under CI (CI=true) a server that does not
start fails the test instead of skipping it.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret"}
START_TIMEOUT = 20.0
CALENDAR = "tasks"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Radicale:
    """One Radicale process; `stop()` and `start()` again keep its storage (a restart)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        home.mkdir(parents=True, exist_ok=True)
        (home / "users").write_text("".join(f"{u}:{p}\n" for u, p in PASSWORDS.items()))
        calendars = {
            CALENDAR: {
                "tag": "VCALENDAR",
                "C:supported-calendar-component-set": "VTODO",
                "D:displayname": "Follow-ups",
            }
        }
        (home / "config").write_text(
            "\n".join(
                [
                    "[server]",
                    f"hosts = 127.0.0.1:{self.port}",
                    "[auth]",
                    "type = htpasswd",
                    f"htpasswd_filename = {home / 'users'}",
                    "htpasswd_encryption = plain",
                    "delay = 0",
                    "[rights]",
                    "type = owner_only",
                    "[storage]",
                    f"filesystem_folder = {home / 'collections'}",
                    f"predefined_collections = {json.dumps(calendars)}",
                    "[web]",
                    "type = none",
                    "[logging]",
                    "level = warning",
                    "",
                ]
            )
        )

    def url(self, user: str = "alice", calendar: str = CALENDAR) -> str:
        return f"http://127.0.0.1:{self.port}/{user}/{calendar}/"

    def start(self) -> None:
        log = (self.home / "radicale.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(self.home / "config")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"radicale exited: {(self.home / 'radicale.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError(f"radicale did not listen on 127.0.0.1:{self.port} in {START_TIMEOUT:g} s")
        for user in PASSWORDS:
            status, _, _ = self.request(user, "PROPFIND", f"/{user}/", headers={"Depth": "0"})
            assert status == 207, f"radicale refused {user}: {status}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def request(
        self,
        user: str,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request as `user` (the phone, or a test looking at the server)."""
        login = base64.b64encode(f"{user}:{PASSWORDS[user]}".encode()).decode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body, {"Authorization": f"Basic {login}", **(headers or {})})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def items(
        self, user: str = "alice", calendar: str = CALENDAR, timeout: float = 10
    ) -> dict[str, tuple[str, str]]:
        """Every object in the collection: href → (ETag, calendar data)."""
        query = (
            b'<?xml version="1.0" encoding="utf-8"?>'
            b'<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            b"<D:prop><D:getetag/><C:calendar-data/></D:prop>"
            b'<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>'
        )
        headers = {"Depth": "1", "Content-Type": "application/xml"}
        status, _, body = self.request(user, "REPORT", f"/{user}/{calendar}/", query, headers, timeout)
        assert status == 207, body
        from xml.etree import ElementTree

        found = {}
        for response in ElementTree.fromstring(body).iter("{DAV:}response"):
            href = response.findtext("{DAV:}href") or ""
            etag = response.findtext(".//{DAV:}getetag") or ""
            data = response.findtext(".//{urn:ietf:params:xml:ns:caldav}calendar-data") or ""
            found[href] = (etag, data)
        return found

    def put(self, user: str, href: str, data: str, headers: dict[str, str] | None = None) -> int:
        status, _, _ = self.request(
            user,
            "PUT",
            href,
            data.encode(),
            {"Content-Type": "text/calendar; charset=utf-8", **(headers or {})},
        )
        return status


def running_radicale(home: Path) -> Iterator[Radicale]:
    """Start Radicale for one test; fail under CI, skip elsewhere, when it cannot start."""
    server = Radicale(home)
    try:
        server.start()
    except (OSError, RuntimeError) as error:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"Radicale did not start: {error}")
        pytest.skip(f"Radicale did not start: {error}")
    try:
        yield server
    finally:
        server.stop()

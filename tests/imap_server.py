"""A real IMAP server on 127.0.0.1 for the tests: pymap's in-memory `dict` backend, run as a subprocess.

pymap comes from PyPI through the `test` extra, so a fresh machine with Python 3.11+ has it.
When it cannot start, the fixture fails (never skips): an IMAP test that did not run must
not pass for one that did.

Also here, for tests of what goes wrong on the way to a server:

- `TlsProxy`: implicit TLS (`imaps://`) in front of the plain server, with a certificate
  from a throw-away CA (trustme); trust it by pointing `SSL_CERT_FILE` at `ca_file`.
- `CuttingProxy`: forwards plain IMAP until the client sends a given command (e.g. FETCH),
  then drops both connections: a connection lost mid-fetch, every time.
- `Proxy`: a plain relay; every proxy keeps what the client sent in `sent`, so a test can
  check the commands (EXAMINE, never SELECT; BODY.PEEK, never STORE).

Usage: the `imap_server` fixture (one server per test module), then
`server.append("INBOX", raw_bytes)`, `server.url("INBOX")`, `server.flags("INBOX")`.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import select
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

USER = "sam@acme.example"
PASSWORD = "correct horse"
START_TIMEOUT = 30.0
_SERVER = "import sys; from pymap.main import main; sys.exit(main())"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """Until the port accepts connections; fails with the server's output if it died or took too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = process.stdout.read().decode("utf-8", "replace") if process.stdout else ""
            pytest.fail(f"the test IMAP server (pymap) exited with {process.returncode}:\n{output}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"the test IMAP server did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


class ImapServer:
    """pymap serving one user (USER / PASSWORD) in memory on 127.0.0.1:`port`, plain IMAP."""

    def __init__(self, port: int) -> None:
        self.host = "127.0.0.1"
        self.port = port
        self.user = USER
        self.password = PASSWORD
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-c", _SERVER, "--host", self.host, "--port", str(self.port)]
        command += ["--no-tls", "dict", "--demo-user", self.user, "--demo-password", self.password]
        try:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except OSError as error:
            pytest.fail(f"cannot start the test IMAP server (pymap): {error}")
        _wait_for_port(self.port, self.process, START_TIMEOUT)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self.process = None

    def url(self, folder: str = "INBOX", *, scheme: str = "imap", port: int | None = None) -> str:
        """The URL mdfollow is given: the user's `@` escaped as `%40`."""
        user = self.user.replace("@", "%40")
        return f"{scheme}://{user}@{self.host}:{port or self.port}/{folder}"

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        """A plain imaplib session, logged in, for setting up and inspecting folders."""
        connection = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            connection.login(self.user, self.password)
            yield connection
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                connection.logout()

    def create(self, folder: str) -> None:
        with self.client() as connection:
            status, answer = connection.create(folder)
            assert status == "OK", answer

    def append(self, folder: str, message: bytes, flags: str = "") -> None:
        with self.client() as connection:
            status, answer = connection.append(folder, f"({flags})" if flags else None, None, message)
            assert status == "OK", answer

    def flags(self, folder: str) -> dict[int, frozenset[str]]:
        """Each message's flags by UID, as read without changing them (EXAMINE, FETCH FLAGS)."""
        with self.client() as connection:
            status, answer = connection.select(folder, readonly=True)
            assert status == "OK", answer
            status, lines = connection.uid("FETCH", "1:*", "(FLAGS)")
            assert status == "OK", lines
        result: dict[int, frozenset[str]] = {}
        for line in lines:
            if not isinstance(line, bytes):
                continue
            match = re.search(rb"UID (\d+)", line)
            flags = re.search(rb"FLAGS \(([^)]*)\)", line)
            if match and flags:
                result[int(match[1])] = frozenset(flags[1].decode().split())
        return result

    def clear(self, folder: str) -> None:
        """Delete every message in the folder, so a test starts from an empty one."""
        with self.client() as connection:
            connection.select(folder)
            status, _ = connection.uid("SEARCH", None, "ALL")
            if status == "OK":
                connection.store("1:*", "+FLAGS", r"(\Deleted)")
                connection.expunge()


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    """A fresh pymap for the test module; IMAP tests FAIL (never skip) when it cannot run."""
    server = ImapServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Proxy:
    """A TCP relay on 127.0.0.1 to `target_port`, one thread per connection, closed on `stop`;
    `sent` holds every byte the clients sent."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self._stopping = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.sent = bytearray()

    def start(self) -> None:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        self.listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                readable, _, _ = select.select([self.listener], [], [], 0.1)
                if not readable:
                    continue
                client, _ = self.listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def wrap(self, client: socket.socket) -> socket.socket:
        return client

    def cut(self, data: bytes) -> bool:
        """Whether the client's `data` makes the proxy drop the connection instead of passing it on."""
        return False

    def _serve(self, raw_client: socket.socket) -> None:
        self._sockets.append(raw_client)
        try:
            client = self.wrap(raw_client)
        except (OSError, ssl.SSLError):
            raw_client.close()
            return
        server = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
        self._sockets += [client, server]
        try:
            self._relay(client, server)
        finally:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.close()

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        deadline = time.monotonic() + 60
        while not self._stopping.is_set() and time.monotonic() < deadline:
            pending = isinstance(client, ssl.SSLSocket) and client.pending()
            readable = [client] if pending else select.select([client, server], [], [], 0.1)[0]
            for source in readable:
                try:
                    data = source.recv(65536)
                except (OSError, ssl.SSLError):
                    return
                if not data:
                    return
                if source is client:
                    self.sent += data
                    if self.cut(data):
                        return
                try:
                    (server if source is client else client).sendall(data)
                except OSError:  # the other side hung up (ssl.SSLError is an OSError too)
                    return


class TlsProxy(Proxy):
    """Implicit TLS in front of a plain IMAP port, with a certificate for 127.0.0.1 from a throw-away CA."""

    def __init__(self, target_port: int, directory: Path) -> None:
        import trustme

        super().__init__(target_port)
        authority = trustme.CA()
        self.ca_file = directory / "test-ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_file))
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1", "localhost").configure_cert(self.context)

    def wrap(self, client: socket.socket) -> socket.socket:
        client.settimeout(10)
        return self.context.wrap_socket(client, server_side=True)


class CuttingProxy(Proxy):
    """Plain relay that drops the connection as the client sends `command` (e.g. b"FETCH")."""

    def __init__(self, target_port: int, command: bytes) -> None:
        super().__init__(target_port)
        self.command = command.upper()

    def cut(self, data: bytes) -> bool:
        return self.command in data.upper()


P = TypeVar("P", bound=Proxy)


@contextlib.contextmanager
def running(proxy: P) -> Iterator[P]:
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def trust(ca_file: Path) -> dict[str, str]:
    """Environment entries making Python's default TLS context trust only `ca_file`."""
    return {"SSL_CERT_FILE": str(ca_file), "SSL_CERT_DIR": os.devnull}


class ScriptedServer:
    """A misbehaving IMAP server: a real socket on 127.0.0.1 that greets, accepts any login,
    EXAMINEs a one-message folder, and answers FETCH with `fetch_answer` (bytes, `{tag}`
    replaced by the command's tag; an answer without a tag is followed by hanging up).
    For the answers no well-behaved server gives."""

    def __init__(self, fetch_answer: bytes) -> None:
        self.fetch_answer = fetch_answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.listener.close()
        self.thread.join(timeout=5)

    def _serve(self) -> None:
        self.listener.settimeout(10)
        try:
            connection, _ = self.listener.accept()
        except OSError:
            return
        with connection, connection.makefile("rb") as reader:
            connection.settimeout(10)
            connection.sendall(b"* OK [CAPABILITY IMAP4rev1] scripted\r\n")
            try:
                self._dialogue(connection, reader)
            except OSError:
                return

    def _dialogue(self, connection: socket.socket, reader: Any) -> None:
        for line in reader:
            tag, _, rest = line.strip().partition(b" ")
            command = rest.split(b" ")[1 if rest.upper().startswith(b"UID ") else 0].upper()
            answers = {
                b"CAPABILITY": b"* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n",
                b"LOGIN": b"{tag} OK logged in\r\n",
                b"EXAMINE": b"* 1 EXISTS\r\n{tag} OK [READ-ONLY] done\r\n",
                b"SEARCH": b"* SEARCH 1\r\n{tag} OK done\r\n",
                b"FETCH": self.fetch_answer,
                b"LOGOUT": b"* BYE\r\n{tag} OK bye\r\n",
            }
            answer = answers.get(command, b"{tag} BAD unknown\r\n")
            connection.sendall(answer.replace(b"{tag}", tag))
            if command == b"LOGOUT" or b"{tag}" not in answer:
                return

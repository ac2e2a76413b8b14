"""`serve`'s HTTP side: the feed from memory at one URL, GET and HEAD only, with validators.

Nothing on disk is ever served: the handler knows one path and one body.
Connections wait in a lobby (one thread, a selector) until they send something, or
are closed after `idle_timeout` seconds of silence; a fixed pool of worker threads
answers the ones that speak. So thousands of idle sockets cost one thread, not
thousands, and a client that hangs up costs one log line, not a traceback.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import hmac
import ipaddress
import queue
import re
import selectors
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from mdfollow.core.errors import MdfollowError

FEED_NAME = "feed.ics"
OWNERS = "owners"
"""`/owners/NAME.ics`: the follow-ups of one owner only (SPEC §10)."""
REQUEST_TIMEOUT = 10.0
"""Seconds a client that has started its request may stall while sending it or reading the answer."""
IDLE_TIMEOUT = 60.0
"""Seconds a connection may stay silent before it is closed (SPEC §6)."""
WORKERS = 16
"""Threads answering requests; more requests at once wait their turn in the lobby's queue."""
SHUTDOWN_POLL = 0.1
"""Seconds between checks for a shutdown request: how long Ctrl-C may take."""
CACHE_CONTROL = "no-cache"
"""Clients may keep the feed but must revalidate; with the ETag that costs a 304."""
_TOKEN = re.compile(r"^[A-Za-z0-9._~-]+$")
_WILDCARDS = {"", "0.0.0.0", "::"}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse to publish the feed beyond this machine without a secret in its URL (SPEC §6)."""
    if token is None and not is_loopback(host):
        raise MdfollowError(
            f"refusing to serve on {host} without --token (or MDFOLLOW_TOKEN): "
            "anyone who can reach it could read your prospects",
            exit_code=2,
        )
    if token is not None and not _TOKEN.match(token):
        raise MdfollowError("--token may use only letters, digits and . _ ~ - (it goes in the URL)", 2)


def feed_url(host: str, port: int, token: str | None, scheme: str = "http") -> str:
    """The URL to paste into a calendar app; a wildcard bind is named by this machine's name."""
    name = socket.gethostname() if host in _WILDCARDS else host
    if ":" in name:
        name = f"[{name}]"
    path = f"/{token}/{FEED_NAME}" if token else f"/{FEED_NAME}"
    return f"{scheme}://{name}:{port}{path}"


@dataclass(frozen=True)
class Published:
    """One version of the feed, with the validators clients send back."""

    body: bytes
    etag: str
    modified: int
    """When the content last changed, in whole POSIX seconds (HTTP dates have no fractions)."""
    _gzipped: list[bytes] = field(default_factory=list, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @property
    def gzip_etag(self) -> str:
        """The compressed body is another representation, so it has its own tag (RFC 9110 §8.8.3)."""
        return self.etag[:-1] + '-gzip"'

    def gzipped(self) -> bytes:
        """The body gzip-compressed, made on the first request that accepts it (a 10k feed:
        7 MB → 1 MB), the same bytes for the same feed."""
        with self._lock:
            if not self._gzipped:
                self._gzipped.append(gzip.compress(self.body, compresslevel=6, mtime=0))
            return self._gzipped[0]


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip: listed (or `*`) with a q above 0."""
    if not header:
        return False
    weights: dict[str, float] = {}
    for part in header.split(","):
        coding, *parameters = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[coding.lower()] = weight
    for name in ("gzip", "x-gzip"):
        if name in weights:
            return weights[name] > 0
    return weights.get("*", 0.0) > 0


class FeedState:
    """The last good feed. Replaced whole, so a request sees one version or the next."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.current: Published | None = None
        self._clock = clock
        self._owner_feed: Callable[[str], bytes] | None = None
        self._owners: dict[str, tuple[int, Published]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def publish(self, data: bytes) -> None:
        """A new version; its Last-Modified moves forward even for two changes in one second."""
        self.current = self._version(self.current, data)

    def _version(self, previous: Published | None, data: bytes) -> Published:
        modified = int(self._clock())
        if previous is not None and modified <= previous.modified:
            modified = previous.modified + 1
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        return Published(data, etag, modified)

    def publish_owners(self, owner_feed: Callable[[str], bytes]) -> None:
        """How to make one owner's feed from the latest build; each is made when first asked for."""
        with self._lock:
            self._owner_feed = owner_feed
            self._generation += 1

    def owner(self, name: str) -> Published | None:
        """NAME's feed (any case); its Last-Modified moves only when its own bytes change."""
        key = name.casefold()
        with self._lock:
            if self._owner_feed is None:
                return None
            generation, previous = self._owners.get(key, (-1, None))
            if previous is not None and generation == self._generation:
                return previous
            data = self._owner_feed(name)
            published = previous if previous and previous.body == data else self._version(previous, data)
            self._owners[key] = (self._generation, published)
            return published


class _Handler(BaseHTTPRequestHandler):
    server: FeedServer

    def setup(self) -> None:
        self.request.settimeout(self.server.request_timeout)
        super().setup()

    def version_string(self) -> str:
        return "mdfollow"

    def parse_request(self) -> bool:
        """Answer every method but GET and HEAD with 404 before dispatch (the stdlib says 501):
        SPEC §6 serves GET/HEAD for the feed and "404 for anything else", which also tells
        a prober nothing about which paths exist."""
        if not super().parse_request():
            return False
        if self.command in ("GET", "HEAD"):
            return True
        self._respond(404, b"not found\n")
        return False

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        owner = self.server.owner_in_path(path)
        published = self.server.state.current if owner is None else self.server.state.owner(owner)
        if owner is None and not self.server.is_feed_path(path):
            self._respond(404, b"not found\n")
        elif published is None and owner is not None and self.server.state.current is not None:
            self._respond(404, b"no feeds per owner with --digest\n")
        elif published is None:
            self._respond(503, b"the feed is being built\n", {"Retry-After": "5"})
        else:
            compressed = accepts_gzip(self.headers.get("Accept-Encoding"))
            validators = self._validators(published, compressed)
            if self._not_modified(published):
                self._respond(304, None, validators)
            else:
                headers = {"Content-Type": "text/calendar; charset=utf-8", **validators}
                if compressed:
                    headers["Content-Encoding"] = "gzip"
                self._respond(200, published.gzipped() if compressed else published.body, headers)

    do_HEAD = do_GET

    def _validators(self, published: Published, compressed: bool) -> dict[str, str]:
        return {
            "ETag": published.gzip_etag if compressed else published.etag,
            "Last-Modified": formatdate(published.modified, usegmt=True),
            "Cache-Control": CACHE_CONTROL,
            "Vary": "Accept-Encoding",
        }

    def _not_modified(self, published: Published) -> bool:
        """RFC 9110 §13.1: If-None-Match wins; If-Modified-Since is used only without it.

        Either representation's tag matches: both name the same version of the feed.
        """
        match = self.headers.get("If-None-Match")
        if match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
            return bool({"*", published.etag, published.gzip_etag} & tags)
        since = self.headers.get("If-Modified-Since")
        if not since:
            return False
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError, OverflowError):  # e.g. a year of 30 digits
            return False
        if when.tzinfo is None:
            return False
        try:
            return published.modified <= when.timestamp()
        except (OverflowError, ValueError):
            return False

    def _respond(self, status: int, body: bytes | None, headers: dict[str, str] | None = None) -> None:
        """Send a whole response; HEAD gets the headers of GET and no body."""
        self.send_response(status)
        if body is not None and "Content-Type" not in (headers or {}):
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """One line per request on stderr, with the token masked: logs get shared."""
        self.server.log(f"{self.address_string()} {format % args}")


class FeedServer(socketserver.TCPServer):
    """Serves a `FeedState` at `/feed.ics`, or only at `/<token>/feed.ics` with a token.

    Used as a context manager: entering starts serving in daemon threads (503
    until the first feed is published), leaving shuts it down.
    """

    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        host: str,
        port: int,
        state: FeedState,
        token: str | None,
        log: Callable[[str], None],
        *,
        idle_timeout: float = IDLE_TIMEOUT,
        workers: int = WORKERS,
    ) -> None:
        self.state, self.token, self._log = state, token, log
        self.idle_timeout = idle_timeout
        self.request_timeout = min(REQUEST_TIMEOUT, idle_timeout)
        self._workers = workers
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._threads: list[threading.Thread] = []
        self._arrivals: queue.SimpleQueue[tuple[socket.socket, Any]] = queue.SimpleQueue()
        self._ready: queue.SimpleQueue[tuple[socket.socket, Any] | None] = queue.SimpleQueue()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_write.setblocking(False)
        self._stopping = False
        try:
            super().__init__((host, port), _Handler)
        except OSError as error:
            self._wake_read.close()
            self._wake_write.close()
            raise MdfollowError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host (slow, and off this machine)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def is_feed_path(self, path: str) -> bool:
        """The feed's path; the token is compared in constant time."""
        if self.token is None:
            return path == f"/{FEED_NAME}"
        given, slash, rest = path.removeprefix("/").partition("/")
        secret_matches = hmac.compare_digest(given.encode(), self.token.encode())
        return secret_matches and slash == "/" and rest == FEED_NAME

    def owner_in_path(self, path: str) -> str | None:
        """NAME in `/owners/NAME.ics` (after the token when there is one), else None."""
        if self.token is not None:
            given, slash, path = path.removeprefix("/").partition("/")
            if not (hmac.compare_digest(given.encode(), self.token.encode()) and slash):
                return None
            path = "/" + path
        folder, slash, file = path.removeprefix("/").partition("/")
        name = unquote(file.removesuffix(".ics"))
        if folder != OWNERS or not slash or not file.endswith(".ics") or "/" in name or not name.strip():
            return None
        return name

    def log(self, message: str) -> None:
        self._log(message.replace(self.token, "<token>") if self.token else message)

    def process_request(self, request: Any, client_address: Any) -> None:
        """An accepted connection goes to the lobby, which waits for its first bytes."""
        self._arrivals.put((request, client_address))
        self._wake()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line instead of socketserver's traceback: a client that hangs up or stalls is
        everyday traffic, and anything else must not flood the log either."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        self.log(f"{client_address[0]} request failed: {type(error).__name__}: {error}")

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # the wake-up buffer is full: the lobby is awake already
            self._wake_write.send(b"\0")

    def _lobby(self) -> None:
        """Hold silent connections without a thread each; hand readable ones to the workers."""
        selector = selectors.DefaultSelector()
        selector.register(self._wake_read, selectors.EVENT_READ)
        deadlines: dict[socket.socket, tuple[float, Any]] = {}
        try:
            while not self._stopping:
                now = time.monotonic()
                # One idle timeout for all, so deadlines rise in arrival (insertion) order.
                soonest = next(iter(deadlines.values()))[0] if deadlines else now + 1.0
                for key, _ in selector.select(max(0.0, min(soonest - now, 1.0))):
                    if key.fileobj is self._wake_read:
                        self._wake_read.recv(4096)
                        continue
                    connection = key.fileobj
                    assert isinstance(connection, socket.socket)
                    selector.unregister(connection)
                    self._ready.put((connection, deadlines.pop(connection)[1]))
                while not self._arrivals.empty():
                    connection, address = self._arrivals.get()
                    try:
                        selector.register(connection, selectors.EVENT_READ)
                    except (OSError, ValueError):  # closed already
                        self.shutdown_request(connection)
                        continue
                    deadlines[connection] = (time.monotonic() + self.idle_timeout, address)
                now = time.monotonic()
                while deadlines:
                    connection, (deadline, _) = next(iter(deadlines.items()))
                    if deadline > now:
                        break
                    selector.unregister(connection)
                    del deadlines[connection]
                    self.shutdown_request(connection)
        finally:
            for connection in deadlines:
                self.shutdown_request(connection)
            selector.close()

    def _work(self) -> None:
        while (job := self._ready.get()) is not None:
            connection, address = job
            try:
                self.finish_request(connection, address)
            except Exception:
                self.handle_error(connection, address)
            finally:
                self.shutdown_request(connection)

    def __enter__(self) -> FeedServer:
        targets = [(self.serve_forever, "mdfollow-serve"), (self._lobby, "mdfollow-lobby")]
        targets += [(self._work, f"mdfollow-worker-{n}") for n in range(self._workers)]
        for target, name in targets:
            args = (SHUTDOWN_POLL,) if target == self.serve_forever else ()
            thread = threading.Thread(target=target, args=args, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._threads:
            self.shutdown()
            self._stopping = True
            self._wake()
            for _ in range(self._workers):
                self._ready.put(None)
            self._threads[1].join(timeout=5)
        self.server_close()
        self._wake_read.close()
        self._wake_write.close()

"""IMAP through imap-tools: an `imap(s)://USER@HOST[:PORT]/FOLDER` URL, its password, a logged-in connection.

Reused by every command that talks to an IMAP server (`mail` reads a folder read-only;
drafts APPEND to one), so the URL, password and TLS rules are written once:

- `imap://` is plain IMAP (a local or trusted server), `imaps://` is TLS with the system's
  certificate checks (`ssl.create_default_context`: hostname and chain verified);
- the password comes from `MDFOLLOW_IMAP_PASSWORD`, else from `~/.netrc` (`machine HOST`),
  never from a prompt: a missing one is an error;
- every failure is an `ImapError`: one line naming the URL (never the password).

imap-tools is imported lazily: only the commands that reach a server pay for it.
"""

from __future__ import annotations

import imaplib
import netrc
import os
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from mdfollow.core.errors import MdfollowError

if TYPE_CHECKING:
    from imap_tools import BaseMailBox

PASSWORD_ENV = "MDFOLLOW_IMAP_PASSWORD"
TIMEOUT = 30.0
"""Seconds to wait for the server on connect and on each read: a dead server is an error, not a hang."""
SCHEMES = {"imap": 143, "imaps": 993}


class ImapError(MdfollowError):
    """The server could not be reached, refused the login or the folder, or dropped the connection."""


@dataclass(frozen=True, slots=True)
class ImapUrl:
    """A parsed `imap://USER@HOST:PORT/FOLDER`; `folder` defaults to INBOX."""

    scheme: str
    user: str | None
    host: str
    port: int
    folder: str

    @property
    def tls(self) -> bool:
        return self.scheme == "imaps"

    def __str__(self) -> str:
        """The URL as the user wrote it, without any password: safe in messages and logs."""
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        port = "" if self.port == SCHEMES[self.scheme] else f":{self.port}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}{host}{port}/{self.folder}"


def is_imap_url(text: str) -> bool:
    return text.lower().startswith(("imap://", "imaps://"))


def parse_imap_url(text: str) -> ImapUrl:
    """`imaps://me%40acme.example@mail.acme.example/Sent` → its parts; a bad URL is an ImapError.

    A password in the URL is refused rather than used: URLs end up in config files,
    shell history and process lists.
    """
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise ImapError(f"{_redacted(text)}: not an IMAP URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        raise ImapError(f"{_redacted(text)}: not an IMAP URL (use imap://USER@HOST[:PORT]/FOLDER)")
    if parts.password is not None:
        raise ImapError(f"{_redacted(text)}: put the password in {PASSWORD_ENV} or ~/.netrc, not in the URL")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    user = unquote(parts.username) if parts.username else None
    return ImapUrl(scheme, user, parts.hostname, port or SCHEMES[scheme], folder)


def _redacted(text: str) -> str:
    """A URL for an error message, with anything between `:` and `@` of the user part hidden."""
    head, sep, rest = text.partition("://")
    user, at, host = rest.rpartition("@")
    if at and ":" in user:
        return f"{head}{sep}{user.split(':', 1)[0]}:***@{host}"
    return text


def credentials(url: ImapUrl) -> tuple[str, str]:
    """The login and password for `url`: `MDFOLLOW_IMAP_PASSWORD`, else `~/.netrc`'s `machine HOST`.

    The login is the URL's user, else the netrc entry's login.
    """
    password = os.environ.get(PASSWORD_ENV)
    entry = None
    if password is None or url.user is None:
        entry = _netrc_entry(url)
    user = url.user or (entry[0] if entry else None)
    if password is None and entry is not None:
        password = entry[2]
    if not user:
        raise ImapError(f"{url}: no user: write imap(s)://USER@{url.host}/… or a login in ~/.netrc")
    if password is None:
        raise ImapError(f"{url}: no password: set {PASSWORD_ENV} or add 'machine {url.host}' to ~/.netrc")
    return user, password


def _netrc_entry(url: ImapUrl) -> tuple[str, str | None, str | None] | None:
    path = Path(os.path.expanduser("~/.netrc"))
    if not path.exists():
        return None
    try:
        entry = netrc.netrc(str(path)).authenticators(url.host)
    except (netrc.NetrcParseError, OSError) as error:
        raise ImapError(f"{url}: cannot read ~/.netrc: {error}") from None
    return entry


@contextmanager
def connect(url: ImapUrl, *, timeout: float = TIMEOUT) -> Iterator[BaseMailBox]:
    """A logged-in connection to `url`'s server, no folder selected; logged out on leaving.

    Every failure inside the block that comes from the connection (a dropped socket, a
    server's NO/BAD, a timeout) leaves as an ImapError naming the URL.
    """
    from imap_tools import MailBox, MailBoxUnencrypted

    user, password = credentials(url)
    try:
        box: BaseMailBox
        if url.tls:
            box = MailBox(url.host, url.port, timeout=timeout, ssl_context=ssl.create_default_context())
        else:
            box = MailBoxUnencrypted(url.host, url.port, timeout=timeout)
    except (OSError, imaplib.IMAP4.error) as error:
        raise ImapError(f"{url}: cannot connect: {describe(error)}") from None
    try:
        try:
            box.login(user, password, initial_folder=None)
        except Exception as error:
            if not _is_connection_error(error):
                raise
            raise ImapError(f"{url}: login refused: {describe(error)}") from None
        yield box
    except ImapError:
        raise
    except Exception as error:
        if not _is_connection_error(error):
            raise
        raise ImapError(f"{url}: {describe(error)}") from None
    finally:
        _close(box)


@contextmanager
def open_folder(url: ImapUrl, *, readonly: bool = True, timeout: float = TIMEOUT) -> Iterator[BaseMailBox]:
    """`connect`, then the URL's folder opened: read-only (IMAP EXAMINE) unless told otherwise."""
    with connect(url, timeout=timeout) as box:
        try:
            box.folder.set(url.folder, readonly=readonly)
        except Exception as error:
            if not _is_connection_error(error):
                raise
            raise ImapError(f"{url}: cannot open folder {url.folder!r}: {describe(error)}") from None
        yield box


def _is_connection_error(error: Exception) -> bool:
    """What a server or the network can cause: socket and TLS errors, imaplib's, imap-tools'."""
    from imap_tools.errors import ImapToolsError

    return isinstance(error, OSError | imaplib.IMAP4.error | ImapToolsError | EOFError)


def describe(error: BaseException) -> str:
    """One line for a network or protocol error: the server's own words where it gave some."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({error.verify_message or error.reason})"
    if isinstance(error, socket.timeout | TimeoutError):
        return "the server did not answer in time"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (is the server running? right port?)"
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    if isinstance(error, imaplib.IMAP4.abort | EOFError | ConnectionError):
        return f"the server closed the connection ({_text(error) or 'no reason given'})"
    if isinstance(error, OSError):
        return error.strerror or _text(error) or type(error).__name__
    return _text(error) or type(error).__name__


def _text(error: BaseException) -> str:
    """The error's text on one line: bytes from the server decoded, line breaks removed."""
    from imap_tools.errors import UnexpectedCommandStatusError

    if isinstance(error, UnexpectedCommandStatusError):
        answer = error.command_result[1] if len(error.command_result) > 1 else None
        parts = answer if isinstance(answer, list) else [answer]
        text = " ".join(
            part.decode("utf-8", "replace") if isinstance(part, bytes) else str(part)
            for part in parts
            if part is not None
        )
    else:
        text = str(error)
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _close(box: BaseMailBox) -> None:
    """Log out politely; a connection already gone is just closed."""
    try:
        box.client.logout()
    except Exception:
        try:
            box.client.shutdown()
        except Exception:
            return

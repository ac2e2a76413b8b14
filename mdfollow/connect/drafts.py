"""Drafts into the user's mail client (SPEC §9): an RFC 5322 message per email follow-up,
stored in a Maildir folder or an IMAP Drafts folder. Never sent: mdfollow has no code that sends mail.

A draft carries `X-Mdfollow-Draft: <id>-<touch>`; a follow-up whose marker is already in
the Drafts folder is "already drafted", so running `draft --due` twice adds nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.policy
import email.utils
import imaplib
import mailbox
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import quote

from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import Config, FollowUp, Problem
from mdfollow.core.templates import (
    Draft,
    TemplateError,
    address_of,
    one_line,
    render_follow_up,
    template_name,
)

MARKER = "X-Mdfollow-Draft"
SEVEN_BIT = email.policy.default.clone(cte_type="7bit", utf8=False)
"""Headers in 7 bits (RFC 2047 words for non-ASCII), a body in quoted-printable or base64
when it is not ASCII: a draft any server and client takes as it is."""

Status = Literal["drafted", "already", "printed", "skipped", "error"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one follow-up's draft; `message` explains a skip or an error."""

    follow_up: FollowUp
    status: Status
    message: str = ""
    draft: Draft | None = None
    data: bytes = b""


class DraftFolder(Protocol):
    """Where drafts go: asked whether a marker is there, and given whole messages."""

    def has(self, marker: str) -> bool: ...

    def add(self, message: EmailMessage) -> None: ...


def marker(follow_up: FollowUp) -> str:
    """`<id>-<touch>`, the id percent-encoded where it is not ASCII, so the header stays one token."""
    return f"{quote(follow_up.prospect.id, safe='-_.~')}-{follow_up.touch}"


def compose(draft: Draft, follow_up: FollowUp, sender: str, address: str, now: dt.datetime) -> EmailMessage:
    """The RFC 5322 draft; ValueError when an address cannot be written in a header.

    Names and the subject pass through `one_line` and the `email` package's header
    objects, which refuse CR and LF: no text from a file can add a header."""
    prospect = follow_up.prospect
    message = EmailMessage(policy=SEVEN_BIT)
    if sender:
        message["From"] = sender_address(sender)
    message["To"] = Address(display_name=one_line(prospect.name), addr_spec=address)
    message["Subject"] = draft.subject
    message["Date"] = email.utils.format_datetime(now)
    domain = sender.rpartition("@")[2] or address.rpartition("@")[2]
    message["Message-ID"] = email.utils.make_msgid("mdfollow", domain=one_line(domain) or "mdfollow.invalid")
    message[MARKER] = marker(follow_up)
    message.set_content(draft.body, charset="utf-8")
    message.as_bytes()  # raises now, not in the folder, for what 7-bit headers cannot hold
    return message


def sender_address(sender: str) -> Address:
    """`[mail] me`'s first address as a From header; a config error when it is not one."""
    try:
        address: Address | None = Address(addr_spec=sender)
    except (ValueError, HeaderParseError, IndexError):
        address = None
    if address is None or not address.domain or not str(address).isascii():
        raise MdfollowError(f"[mail] me: {sender!r} is not an email address (one a 7-bit header can hold)")
    return address


def make_drafts(
    follow_ups: Iterable[FollowUp],
    config: Config,
    folder: DraftFolder | None,
    now: dt.datetime,
) -> Iterator[Outcome]:
    """Each follow-up's draft, added to `folder` unless its marker is there (None: only composed,
    for `--print`). One broken template or address never stops the others."""
    for follow_up in follow_ups:
        prospect = follow_up.prospect
        address = address_of(prospect)
        if address is None:
            yield Outcome(follow_up, "skipped", f"{prospect.id}: no email address: skipped")
            continue
        if follow_up.channel != "email":
            channel = follow_up.channel or "any channel"
            yield Outcome(
                follow_up,
                "skipped",
                f"{prospect.id}: touch #{follow_up.touch} is {channel}, not email: no draft",
            )
            continue
        try:
            draft = render_follow_up(follow_up, config)
        except TemplateError as error:
            yield Outcome(follow_up, "error", str(error.problem))
            continue
        if draft is None:
            yield Outcome(follow_up, "skipped", f"{prospect.id}: {_no_template(follow_up, config)}")
            continue
        try:
            message = compose(draft, follow_up, config.drafts.me, address, now)
        except (ValueError, HeaderParseError) as error:
            reason = f"cannot write a draft to {address!r}: {error}"
            problem = Problem(prospect.path, prospect.line_of("email"), reason)
            yield Outcome(follow_up, "error", str(problem))
            continue
        if folder is None:
            yield Outcome(follow_up, "printed", draft=draft, data=message.as_bytes())
        elif folder.has(marker(follow_up)):
            yield Outcome(follow_up, "already", f"{prospect.id}: already drafted", draft)
        else:
            folder.add(message)
            yield Outcome(follow_up, "drafted", draft=draft)


def _no_template(follow_up: FollowUp, config: Config) -> str:
    templates = config.templates
    if follow_up.template is not None:
        return f"template {templates.path(follow_up.template)} not found: no draft"
    names = [templates.path(f"{follow_up.channel}-{follow_up.touch}"), templates.path(str(follow_up.channel))]
    assert template_name(follow_up, templates) is None
    return f"no template for touch #{follow_up.touch} ({names[0]} or {names[1]}): no draft"


class MaildirFolder:
    """A Maildir Drafts folder: each draft written in `tmp/`, then moved into `cur/` with
    the `D` (draft) flag, by the standard library's `mailbox`, so no half-written file
    ever shows in the mail client."""

    def __init__(self, path: Path) -> None:
        if not all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            raise MdfollowError(f"{path}: not a Maildir folder (needs cur/, new/ and tmp/)")
        self.path = path
        self._box = mailbox.Maildir(path, factory=None, create=False)
        self._markers: set[str] | None = None

    def has(self, marker: str) -> bool:
        if self._markers is None:
            self._markers = set(self._read_markers())
        return marker in self._markers

    def _read_markers(self) -> Iterator[str]:
        parser = BytesHeaderParser(policy=email.policy.default)
        for key in self._box.iterkeys():
            try:
                with self._box.get_file(key) as file:
                    value = parser.parsebytes(file.read())[MARKER]
            except (OSError, KeyError):
                continue  # gone meanwhile (the client moved it): not ours to worry about
            if value:
                yield str(value).strip()

    def add(self, message: EmailMessage) -> None:
        stored = mailbox.MaildirMessage(message)
        stored.set_subdir("cur")
        stored.set_flags("D")
        try:
            self._box.add(stored)
        except OSError as error:
            raise MdfollowError(f"{self.path}: cannot write a draft: {error.strerror or error}") from None
        if self._markers is not None:
            self._markers.add(str(message[MARKER]))


class ImapFolder:
    """An IMAP Drafts folder on a logged-in connection: looked into read-only (EXAMINE, and
    BODY.PEEK so no flag changes), each draft stored whole by one APPEND with `\\Draft`."""

    def __init__(self, connection: imaplib.IMAP4, folder: str, source: str) -> None:
        self._connection, self._source = connection, source
        self._mailbox = _quoted(_modified_utf7(folder))
        status, reply = connection.select(self._mailbox, readonly=True)
        if status != "OK":
            raise MdfollowError(f"{source}: cannot open the folder {folder!r}: {_said(reply)}")

    def has(self, marker: str) -> bool:
        status, reply = self._connection.uid("SEARCH", "HEADER", MARKER, _quoted(marker))
        if status != "OK":
            raise MdfollowError(f"{self._source}: SEARCH failed: {_said(reply)}")
        uids = b" ".join(part for part in reply if isinstance(part, bytes)).split()
        if not uids:
            return False
        wanted = f"(BODY.PEEK[HEADER.FIELDS ({MARKER.upper()})])"
        status, reply = self._connection.uid("FETCH", b",".join(uids).decode("ascii"), wanted)
        if status != "OK":
            raise MdfollowError(f"{self._source}: FETCH failed: {_said(reply)}")
        parser = BytesHeaderParser(policy=email.policy.default)
        found = (parser.parsebytes(part[1])[MARKER] for part in reply if isinstance(part, tuple))
        return any(
            value is not None and str(value).strip() == marker for value in found
        )  # SEARCH matches parts

    def add(self, message: EmailMessage) -> None:
        data = message.as_bytes(policy=SEVEN_BIT.clone(linesep="\r\n"))
        when = imaplib.Time2Internaldate(email.utils.parsedate_to_datetime(str(message["Date"])))
        status, reply = self._connection.append(self._mailbox, r"(\Draft)", when, data)
        if status != "OK":
            raise MdfollowError(f"{self._source}: APPEND refused: {_said(reply)}")


def _quoted(text: str) -> str:
    """An IMAP quoted string (RFC 3501), so folder names with spaces or brackets work."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _said(reply: list[Any]) -> str:
    """The server's words from an imaplib reply, on one line."""
    words = b" ".join(part if isinstance(part, bytes) else b"" for part in reply).decode("utf-8", "replace")
    return one_line(words) or "no reason given"


def _modified_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 §5.1.3): "Entwürfe" → "Entw&APw-rfe"."""
    out, pending = [], ""

    def flush() -> None:
        nonlocal pending
        if pending:
            encoded = base64.b64encode(pending.encode("utf-16-be")).decode("ascii").rstrip("=")
            out.append("&" + encoded.replace("/", ",") + "-")
            pending = ""

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending += char
    flush()
    return "".join(out)


def target_path(to: str, root: Path) -> Path:
    """A Maildir path from `[drafts] to`: `~` expanded, relative to the prospect folder."""
    path = Path(os.path.expanduser(to))
    return path if path.is_absolute() else root / path


@contextmanager
def open_drafts(to: str, root: Path) -> Iterator[DraftFolder]:
    """The Drafts folder `[drafts] to` names: a Maildir path, or an `imap(s)://…/Drafts` URL."""
    if to.lower().startswith(("imap://", "imaps://")):
        raise MdfollowError(f"{to}: IMAP Drafts folders need mdfollow.connect.imap")
    yield MaildirFolder(target_path(to, root))

"""Drafts into the user's mail client (SPEC §9): an RFC 5322 message per email follow-up,
stored in a Maildir folder or an IMAP Drafts folder. Never sent: mdfollow has no code that sends mail.

A draft carries `X-Mdfollow-Draft: <id>-<touch>`; a follow-up whose marker is already in
the Drafts folder is "already drafted", so running `draft --due` twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import mailbox
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol
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

if TYPE_CHECKING:
    from imap_tools import BaseMailBox

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
        if folder is not None and folder.has(marker(follow_up)):  # drafted before: nothing to render
            yield Outcome(follow_up, "already", f"{prospect.id}: already drafted")
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
            message = compose(draft, follow_up, config.me, address, now)
        except (ValueError, HeaderParseError) as error:
            reason = f"cannot write a draft to {address!r}: {error}"
            problem = Problem(prospect.path, prospect.line_of("email"), reason)
            yield Outcome(follow_up, "error", str(problem))
            continue
        if folder is None:
            yield Outcome(follow_up, "printed", draft=draft, data=message.as_bytes())
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
    """An IMAP Drafts folder, opened read-only (EXAMINE; headers fetched with BODY.PEEK, so no
    flag changes): each draft is stored whole by one APPEND with the `\\Draft` flag."""

    def __init__(self, box: BaseMailBox, folder: str, source: str) -> None:
        self._box, self._folder, self._source = box, folder, source

    def has(self, marker: str) -> bool:
        from imap_tools import AND, H

        criteria = AND(header=H(MARKER, marker))  # imap-tools' default charset, as mail searches
        found = self._box.fetch(criteria, mark_seen=False, headers_only=True, bulk=True)
        for message in found:
            headers: Mapping[str, tuple[str, ...]] = message.headers
            # SEARCH HEADER matches a substring ("jane-1" in "jane-12"): compare the value itself.
            if any(value.strip() == marker for value in headers.get(MARKER.lower(), ())):
                return True
        return False

    def add(self, message: EmailMessage) -> None:
        from imap_tools import MailMessageFlags

        data = message.as_bytes(policy=SEVEN_BIT.clone(linesep="\r\n"))
        when = email.utils.parsedate_to_datetime(str(message["Date"]))
        self._box.append(data, self._folder, dt=when, flag_set=[MailMessageFlags.DRAFT])


def target_path(to: str, root: Path) -> Path:
    """A Maildir path from `[drafts] to`: `~` expanded, relative to the prospect folder."""
    path = Path(os.path.expanduser(to))
    return path if path.is_absolute() else root / path


@contextmanager
def open_drafts(to: str, root: Path) -> Iterator[DraftFolder]:
    """The Drafts folder `[drafts] to` names: a Maildir path, or an `imap(s)://…/Drafts` URL."""
    from mdfollow.connect.imap import is_imap_url, open_folder, parse_imap_url

    if is_imap_url(to):
        url = parse_imap_url(to)
        with open_folder(url, readonly=True) as box:
            yield ImapFolder(box, url.folder, str(url))
        return
    yield MaildirFolder(target_path(to, root))

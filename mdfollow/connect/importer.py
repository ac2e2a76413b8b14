"""vCard and CSV files → contacts to create prospects from, with a problem per bad record.

Pure: bytes in, records out. Writing the prospects is the CLI's job, through the same
writer as `mdfollow add`. vobject is imported only when a vCard is read, so the rest of
the CLI never pays for it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import Problem, Prospect
from mdfollow.core.render import plural

HEADER_SEARCH_ROWS = 20
"""How far down a CSV the header row may be: exports such as LinkedIn's start with notes."""

_UTF8_BOM = b"\xef\xbb\xbf"
_STRUCTURE = re.compile(r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|`{3,}|~{3,})")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SINGLE_TEXT = re.compile(
    r"""^((?:[\w-]+\.)?(?:NOTE|FN|TITLE|ROLE)(?:;(?:[^:"]|"[^"]*")*)?:)(.*)$""", re.IGNORECASE | re.DOTALL
)
_BARE_COMMA = re.compile(r"(?<!\\)((?:\\\\)*),")


@dataclass(frozen=True, slots=True)
class Contact:
    """One record of an import file; `line` is where it starts. `details` ("Position: CTO")
    and free-text `notes` go into the new file's body."""

    line: int
    name: str
    company: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        """The details one per line, then each note as a paragraph. A line that would read as
        a heading or a code fence is escaped, so no note can open or hide a `Touches` section."""
        paragraphs = ["\n".join(self.details), *self.notes]
        lines = [line.rstrip() for text in paragraphs if text.strip() for line in [*text.splitlines(), ""]]
        return "\n".join("\\" + line.lstrip() if _STRUCTURE.match(line) else line for line in lines).strip()


@dataclass(frozen=True, slots=True)
class ContactFile:
    """What an import file holds: how it was read, its good records, and one problem per bad one."""

    path: Path
    kind: str
    encoding: str
    contacts: tuple[Contact, ...]
    problems: tuple[Problem, ...]


def read_contacts(path: Path, data: bytes) -> ContactFile:
    """Decode and parse a `.vcf` or `.csv` file; MdfollowError when nothing in it can be read."""
    text, encoding = decode(data)
    if _is_vcard(path, text):
        contacts, problems = read_vcards(path, text)
        kind = "vCard"
    else:
        kind, contacts, problems = read_csv(path, text)
    return ContactFile(path, kind, encoding, tuple(contacts), tuple(problems))


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with: UTF-8 (BOM or not), UTF-16 with a BOM
    (Excel's "Unicode text"), else cp1252 as spreadsheets on Windows write, else Latin-1."""
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    else:
        return text, "UTF-8 with BOM" if data.startswith(_UTF8_BOM) else "UTF-8"
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _is_vcard(path: Path, text: str) -> bool:
    if path.suffix.lower() in (".vcf", ".vcard"):
        return True
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return False
    return text.lstrip().upper().startswith("BEGIN:VCARD")


# --- vCard -------------------------------------------------------------------------


def read_vcards(path: Path, text: str) -> tuple[list[Contact], list[Problem]]:
    """Every card in the file; a malformed card is a problem at its BEGIN line, the others still count."""
    contacts: list[Contact] = []
    problems: list[Problem] = []
    blocks = list(_card_blocks(path, text, problems))
    if not blocks and not problems:
        raise MdfollowError(f"{path}: no vCard in the file (no BEGIN:VCARD line)")
    if blocks:
        import vobject  # lazily: only `import` of a .vcf needs it

        for line, block in blocks:
            try:
                card = vobject.readOne(block, allowQP=True)
            except Exception as error:  # vobject raises many kinds on bad input; none may escape
                detail = error.args[0] if error.args else type(error).__name__
                problems.append(Problem(path, line, f"malformed vCard: {detail}: skipped"))
                continue
            contact = _card_contact(card, line)
            if isinstance(contact, str):
                problems.append(Problem(path, line, contact))
            else:
                contacts.append(contact)
    return contacts, sorted(problems, key=lambda problem: problem.line)


def _card_blocks(path: Path, text: str, problems: list[Problem]) -> Iterator[tuple[int, str]]:
    """(line of BEGIN:VCARD, the card's text) for each card; an unclosed card is a problem."""
    lines = text.splitlines()
    start: int | None = None
    for number, line in enumerate(lines, start=1):
        marker = line.strip().upper()
        if marker == "BEGIN:VCARD":
            if start is not None:
                problems.append(Problem(path, start, "vCard without END:VCARD: skipped"))
            start = number
        elif marker == "END:VCARD" and start is not None:
            yield start, "".join(_literal_commas(lines[start - 1 : number]))
            start = None
    if start is not None:
        problems.append(Problem(path, start, "vCard without END:VCARD: skipped"))


def _literal_commas(lines: list[str]) -> Iterator[str]:
    """The card's lines, with each comma in a one-text property (NOTE, FN, TITLE, ROLE) escaped.

    The standard wants `\\,` there; many phones write a bare comma, which vobject reads as a
    list separator and keeps only the first part ("Met at Messe Berlin, wants samples"
    became "Met at Messe Berlin"). A property's folded and quoted-printable continuation
    lines are joined first, so a comma on any of them is seen."""
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        while index < len(lines) and (
            lines[index][:1] in (" ", "\t") or (line.endswith("=") and "QUOTED-PRINTABLE" in line.upper())
        ):
            continuation = lines[index]
            line = line + continuation[1:] if continuation[:1] in (" ", "\t") else line[:-1] + continuation
            index += 1
        match = _SINGLE_TEXT.match(line)
        if match:
            line = match[1] + _BARE_COMMA.sub(lambda bare: bare[1] + "\\,", match[2])
        yield line + "\r\n"


def _texts(card: Any, key: str) -> list[str]:
    """The non-empty text values of a property, in file order."""
    values = []
    for item in card.contents.get(key, []):
        value = item.value
        if isinstance(value, list):
            value = ";".join(str(v) for v in value if v)
        if isinstance(value, str) and value.strip():
            values.append(value.strip())
    return values


def _structured_name(card: Any) -> str:
    """FN is required by the standard, yet some exporters write only N."""
    for item in card.contents.get("n", []):
        name = item.value
        parts = [getattr(name, part, "") for part in ("prefix", "given", "additional", "family", "suffix")]
        words = [" ".join(p) if isinstance(p, list) else str(p) for p in parts]
        text = " ".join(w.strip() for w in words if w and w.strip())
        if text:
            return text
    return ""


def _card_contact(card: Any, line: int) -> Contact | str:
    """A contact, or the reason the card cannot be one."""
    emails = _unique(_texts(card, "email"))
    phones = _unique(phone.removeprefix("tel:") for phone in _texts(card, "tel"))
    company: str | None = None
    details: list[str] = []
    for item in card.contents.get("org", []):
        units = [u.strip() for u in (item.value if isinstance(item.value, list) else [item.value])]
        units = [u for u in units if isinstance(u, str) and u]
        if units and company is None:
            company = units[0]
            details += [f"Department: {unit}" for unit in units[1:]]
    details += [f"Title: {title}" for title in _texts(card, "title")]
    details += [f"URL: {url}" for url in _texts(card, "url")]
    name = next(iter(_texts(card, "fn")), "") or _structured_name(card)
    return _contact(line, name, company, emails, phones, details, _texts(card, "note"))


def _contact(
    line: int,
    name: str,
    company: str | None,
    emails: Sequence[str],
    phones: Sequence[str],
    details: Sequence[str],
    notes: Sequence[str] = (),
) -> Contact | str:
    """A record without a name takes its first email as the name; with neither it is skipped."""
    name = " ".join(name.split())
    if not name:
        if not emails:
            return "no name and no email: skipped"
        name = emails[0]
    return Contact(line, name, company or None, tuple(emails), tuple(phones), tuple(details), tuple(notes))


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    """The values once each (case-insensitively), in order."""
    seen: set[str] = set()
    kept = []
    for value in values:
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            kept.append(value)
    return tuple(kept)


# --- CSV ---------------------------------------------------------------------------


def _key(header: str) -> str:
    """A header reduced to lower-case words: "E-mail 1 - Value" → "e mail 1 value"."""
    return " ".join(re.findall(r"[a-z0-9]+", header.casefold()))


_FULL_NAME = {"name", "full name", "fullname", "contact", "contact name", "display name"}
_NAME_PARTS = {
    "first name": 0,
    "firstname": 0,
    "first": 0,
    "given name": 0,
    "middle name": 1,
    "additional name": 1,
    "last name": 2,
    "lastname": 2,
    "last": 2,
    "surname": 2,
    "family name": 2,
}
_COMPANY = {
    "company",
    "company name",
    "organization",
    "organisation",
    "organization name",
    "organisation name",
    "organization 1 name",
    "org",
    "account",
    "account name",
}
_EMAIL = re.compile(r"^(?:e ?mail|mail)(?: \d+)?(?: address)?(?: \d+)?(?: value)?$")
_PHONE = re.compile(
    r"^(?:(?:mobile|cell|work|home|business|primary) )?(?:phone|telephone|tel|mobile|cell)"
    r"(?: number)?(?: \d+)?(?: value)?$"
)
_GOOGLE = re.compile(
    r"^(?:(?:e mail|phone) \d+ (?:value|type|label)|organization \d+ name|group membership)$"
)
_GOOGLE_NOISE = re.compile(r"^(?:.* \d+ (?:type|label)|group membership|labels|photo|file as)$")
_MULTI_VALUE = ":::"
"""How Google Contacts packs several values into one cell."""


@dataclass(frozen=True, slots=True)
class Columns:
    """Which column holds what, from a header row; the other non-empty columns become notes."""

    kind: str
    headers: tuple[str, ...]
    full_name: tuple[int, ...] = ()
    name_parts: tuple[tuple[int, int], ...] = ()
    company: tuple[int, ...] = ()
    emails: tuple[int, ...] = ()
    phones: tuple[int, ...] = ()
    ignored: frozenset[int] = field(default_factory=frozenset)

    @property
    def has_name(self) -> bool:
        return bool(self.full_name or self.name_parts)

    def contact(self, line: int, row: Sequence[str]) -> Contact | str:
        cells = [cell.strip() for cell in row] + [""] * (len(self.headers) - len(row))

        def values(indexes: Iterable[int]) -> list[str]:
            return [v.strip() for i in indexes for v in cells[i].split(_MULTI_VALUE) if v.strip()]

        name = next(iter(values(self.full_name)), "")
        if not name:
            parts = sorted(self.name_parts, key=lambda part: part[1])
            name = " ".join(cells[i] for i, _ in parts if cells[i])
        found = values(self.emails)
        emails = [value for value in found if "@" in value]
        details = [f"Email: {value}" for value in found if "@" not in value]
        used = {*self.full_name, *(i for i, _ in self.name_parts), *self.company, *self.emails, *self.phones}
        details += [
            f"{self.headers[i]}: {cells[i]}"
            for i in range(len(self.headers))
            if cells[i] and i not in used and i not in self.ignored
        ]
        company = next(iter(values(self.company)), None)
        return _contact(line, name, company, _unique(emails), _unique(values(self.phones)), details)


def columns(headers: Sequence[str]) -> Columns:
    """Recognise a header row: LinkedIn connections, Google Contacts (old and new), or generic."""
    keys = [_key(h) for h in headers]
    if {"first name", "last name", "connected on"} <= set(keys):
        kind = "LinkedIn connections"
    elif any(_GOOGLE.match(k) for k in keys):
        kind = "Google Contacts"
    else:
        kind = "generic CSV"
    ignored = {i for i, k in enumerate(keys) if kind == "Google Contacts" and _GOOGLE_NOISE.match(k)}
    return Columns(
        kind=kind,
        headers=tuple(h.strip() for h in headers),
        full_name=tuple(i for i, k in enumerate(keys) if k in _FULL_NAME),
        name_parts=tuple((i, _NAME_PARTS[k]) for i, k in enumerate(keys) if k in _NAME_PARTS),
        company=tuple(i for i, k in enumerate(keys) if k in _COMPANY),
        emails=tuple(i for i, k in enumerate(keys) if _EMAIL.match(k)),
        phones=tuple(i for i, k in enumerate(keys) if _PHONE.match(k)),
        ignored=frozenset(ignored),
    )


def read_csv(path: Path, text: str) -> tuple[str, list[Contact], list[Problem]]:
    """Records of a CSV with a header row (found below any preamble; `,`, `;` or tab separated)."""
    found = _find_header(text)
    if found is None:
        first = next((r for _, r in _rows(text, ",") if isinstance(r, list) and any(map(str.strip, r))), [])
        seen = ", ".join(repr(c.strip()) for c in first[:8] if c.strip()) or "none"
        raise MdfollowError(
            f"{path}: no name column found (expected a header such as Name, Full Name, "
            f"First Name or Last Name; first row: {seen})"
        )
    delimiter, header_line, mapping = found
    contacts: list[Contact] = []
    problems: list[Problem] = []
    for line, row in _rows(text, delimiter):
        if line <= header_line:
            continue
        if isinstance(row, csv.Error):
            problems.append(Problem(path, line, f"unreadable record ({row}): skipped"))
            continue
        if not any(cell.strip() for cell in row):
            continue
        extra = row[len(mapping.headers) :]
        if any(cell.strip() for cell in extra):
            problems.append(
                Problem(
                    path,
                    line,
                    f"{plural(len(row), 'value')} for {plural(len(mapping.headers), 'column')} "
                    f"(an unquoted {_describe(delimiter)} in a value?): skipped",
                )
            )
            continue
        contact = mapping.contact(line, row[: len(mapping.headers)])
        if isinstance(contact, str):
            problems.append(Problem(path, line, contact))
        else:
            contacts.append(contact)
    kind = mapping.kind if delimiter == "," else f"{mapping.kind}, {_describe(delimiter)}-separated"
    return f"{kind} (header on line {header_line})", contacts, problems


def _describe(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]


def _rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """(first line of the record, its cells, or the error that makes it unreadable); blank
    lines come out as empty rows. Strict quoting, so a stray quote is an error on its record
    instead of silently swallowing the lines after it; reading goes on after an error."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    while True:
        try:
            row: list[str] | csv.Error = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            row = error
        yield line, row
        line = reader.line_num + 1


def _find_header(text: str) -> tuple[str, int, Columns] | None:
    """The delimiter, line and mapping of the first row, near the top, that names a name column."""
    for delimiter in (",", ";", "\t"):
        for count, (line, row) in enumerate(_rows(text, delimiter)):
            if count >= HEADER_SEARCH_ROWS:
                break
            mapping = columns(row) if isinstance(row, list) else None
            if mapping is not None and mapping.has_name:
                return delimiter, line, mapping
    return None


def plan_import(
    contacts: Sequence[Contact], prospects: Iterable[Prospect]
) -> tuple[list[Contact], list[tuple[Contact, str]]]:
    """The contacts to create, and those to skip with why: an email already in the folder,
    or one that came earlier in the same file (compared case-insensitively)."""
    known = {email.casefold(): f"already in {p.path}" for p in prospects for email in p.emails}
    people = {_person(p.name, p.company): f"already in {p.path}" for p in prospects}
    new: list[Contact] = []
    skipped: list[tuple[Contact, str]] = []
    for contact in contacts:
        clash = next((email for email in contact.emails if email.casefold() in known), None)
        person = _person(contact.name, contact.company)
        if clash is not None:
            skipped.append((contact, f"{contact.name} <{clash}>: email {known[clash.casefold()]}: skipped"))
            continue
        if not contact.emails and person in people:
            skipped.append(
                (contact, f"{contact.name} (no email): same name and company {people[person]}: skipped")
            )
            continue
        new.append(contact)
        people.setdefault(person, f"already imported from line {contact.line}")
        for email in contact.emails:
            known[email.casefold()] = f"already imported from line {contact.line}"
    return new, skipped


def _person(name: str, company: str | None) -> tuple[str, str]:
    """Who a contact without an email is, for spotting one imported twice."""
    return (" ".join(name.casefold().split()), " ".join((company or "").casefold().split()))

"""The text of a new prospect file, checked to read back as the fields it was made from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import Prospect, when_text
from mdfollow.core.parse import normalise_tags, parse_prospect
from mdfollow.core.patch import encode_text
from mdfollow.core.slug import SLUG_MAX, slugify
from mdfollow.core.yaml_text import yaml_list, yaml_value


@dataclass(frozen=True, slots=True)
class NewProspect:
    """The fields of a new prospect file, as the parser must read them back."""

    name: str
    company: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    source: str | None = None
    tags: tuple[str, ...] = ()
    next: dt.date | None = None
    next_time: dt.time | None = None
    created: dt.date | None = None

    @classmethod
    def of(
        cls,
        name: str,
        *,
        company: str | None = None,
        emails: Sequence[str] = (),
        phones: Sequence[str] = (),
        source: str | None = None,
        tags: Sequence[str] = (),
        next: dt.date | None = None,
        next_time: dt.time | None = None,
        created: dt.date | None = None,
    ) -> NewProspect:
        """Values stripped, empty ones left out, tags as the parser reads them (`"a, #b"` is `a`, `b`)."""
        return cls(
            name=name.strip(),
            company=(company or "").strip() or None,
            emails=tuple(e.strip() for e in emails if e.strip()),
            phones=tuple(p.strip() for p in phones if p.strip()),
            source=(source or "").strip() or None,
            tags=tuple(normalise_tags(tags)),
            next=next,
            next_time=next_time if next is not None else None,
            created=created,
        )

    @property
    def slug(self) -> str:
        """The file name without `.md` and without a clash suffix: `jane-doe-acme`."""
        return slugify(f"{self.name} {self.company or ''}")[:SLUG_MAX].rstrip("-") or "prospect"

    def text(self, extra_body: str = "") -> str:
        """Front matter, a title, `extra_body` (Markdown), an empty touch log."""
        front = [f"name: {yaml_value(self.name)}"]
        if self.company:
            front.append(f"company: {yaml_value(self.company)}")
        for key, values in (("email", self.emails), ("phone", self.phones)):
            if len(values) == 1:
                front.append(f"{key}: {yaml_value(values[0])}")
            elif values:
                front.append(f"{key}: {yaml_list(values)}")
        front.append("status: active")
        if self.source:
            front.append(f"source: {yaml_value(self.source)}")
        if self.tags:
            front.append(f"tags: {yaml_list(self.tags)}")
        if self.created is not None:
            front.append(f"created: {self.created.isoformat()}")
        if self.next is not None:
            front.append(f"next: {when_text(self.next, self.next_time)}")
        title = " ".join(f"{self.name} — {self.company}".split() if self.company else self.name.split())
        body = "\n".join(extra_body.splitlines()).strip("\n")
        parts = ["---", *front, "---", f"# {title}", ""]
        if body:
            parts += [body, ""]
        parts.append("## Touches")
        return "\n".join(parts) + "\n"

    def file_bytes(self, root: Path, extra_body: str = "") -> bytes:
        """The new file's bytes; MdfollowError when they would not read back as these fields."""
        context = f"cannot write a prospect file for {self.name!r}"
        if not self.name:
            raise MdfollowError("a prospect needs a name")
        data = encode_text(self.text(extra_body), context)
        written, problems = parse_prospect(root / f"{self.slug}.md", data)
        wrong = [f.name for f in fields(self) if getattr(written, f.name, None) != getattr(self, f.name)]
        if problems or wrong or written is None or written.touches or written.notes:
            reason = (
                problems[0].message if problems else f"{', '.join(wrong) or 'the log'} would not read back"
            )
            raise MdfollowError(f"{context}: {reason}")
        return data


def emails_in_use(prospects: Iterable[Prospect], emails: Iterable[str]) -> list[tuple[str, Prospect]]:
    """Each given address that already belongs to a prospect (case-insensitively), with that prospect."""
    known = [(p, {e.casefold() for e in p.emails}) for p in prospects]
    return [(address, p) for address in emails for p, mine in known if address.strip().casefold() in mine]

"""Every field of the model has a home in JSON and in the feed, or a stated reason not to.

(todoman's test_supported_fields_are_serializeable.) A new Prospect field fails here until
someone decides where it shows.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from ical.calendar_stream import IcsCalendarStream

from mdfollow.core.model import Prospect
from tests.conftest import RunCli, WriteFile

JANE = """\
---
name: Jane Doe
company: Acme Corp
email: [jane@acme.example, j.doe@acme.example]
phone: "+44 20 7946 0001"
cadence: default
next: 2026-12-03 10:30
created: 2026-11-01
closed: 2026-10-15
tags: [card, warm]
source: Messe Berlin
owner: alice
---
## Touches
- 2026-11-09 call: left voicemail
- 2026-11-10 note: prefers mornings
"""

# field -> (its key in `show --json`, the text the feed's event carries for it, or why it has none)
IN_THE_FEED = "feed"
MAPPING: dict[str, tuple[str | None, str, str]] = {
    "id": ("id", "uid", "jane"),
    "path": ("path", "description", "jane.md"),
    "name": ("name", "summary", "Jane Doe"),
    "company": ("company", "summary", "Acme Corp"),
    "emails": ("email", "description", "j.doe@acme.example"),
    "phones": ("phone", "description", "+44 20 7946 0001"),
    "tags": ("tags", "categories", "warm"),
    "touches": ("touches", "description", "2026-11-09 call: left voicemail"),
    "notes": ("notes", "description", "2026-11-10 note: prefers mornings"),
    "next": ("next", "dtstart", "2026-12-03"),
    "next_time": ("next", "dtstart", "10:30"),
    "status": ("status", "why not", "decides whether there is an event at all (none for lost or dnc)"),
    "cadence": ("cadence", "why not", "decides the event's date through the schedule"),
    "created": ("created", "why not", "dates a new prospect's first follow-up and the event's stamp"),
    "closed": ("closed", "why not", "dates keep-in-touch follow-ups after a sale"),
    "source": ("source", "why not", "where the contact came from: not needed to make the contact"),
    "owner": ("owner", "why not", "chooses whose feed the event is in (--owner), SPEC §10"),
    "front_matter": (
        None,
        "why not",
        "every key is in show --json as written; the feed shows the known ones",
    ),
    "key_lines": (None, "why not", "line numbers for messages, not data"),
}


def test_every_model_field_is_mapped() -> None:
    assert set(MAPPING) == {field.name for field in dataclasses.fields(Prospect)}


@pytest.fixture
def shown(write: WriteFile, run: RunCli) -> tuple[dict[str, object], dict[str, str]]:
    write("jane.md", JANE)
    shown = json.loads(run("show", "jane", "--json", today="2026-12-01").stdout)
    feed = run("ics", today="2026-12-01").stdout
    [event] = IcsCalendarStream.calendar_from_ics(feed).events
    texts = {
        "uid": event.uid or "",
        "summary": event.summary or "",
        "description": event.description or "",
        "categories": ",".join(event.categories),
        "dtstart": event.dtstart.isoformat(),
    }
    return shown, texts


@pytest.mark.parametrize("field", sorted(MAPPING))
def test_each_field_reads_back_from_json_and_the_feed(
    field: str, shown: tuple[dict[str, object], dict[str, str]]
) -> None:
    data, feed = shown
    key, where, text = MAPPING[field]
    if key is not None:
        assert data.get(key) not in (None, [], ""), f"{field} is missing from show --json"
    if where != "why not":
        assert text in feed[where], f"{field}: {text!r} not in the feed's {where}"

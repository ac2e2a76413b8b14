"""`mdfollow caldav` against a real Radicale on 127.0.0.1: push, pull, races, and a server that stops."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ical.calendar_stream import IcsCalendarStream
from typer.testing import CliRunner

from mdfollow.cli import app
from tests.conftest import TODAY, Result, WriteFile
from tests.radicale_server import PASSWORDS, Radicale, running_radicale

JANE = """
    ---
    name: Jane Doe
    company: Acme
    owner: Alice
    phone: "+44 20 7946 0001"
    created: 2026-11-01
    ---
    ## Touches
    - 2026-11-02 email: sent quote #1042
"""
BOB_S = "---\nname: Bart Brown\nowner: bob\ncreated: 2026-11-20\n---\n"
NOBODY_S = "---\nname: Nina North\ncreated: 2026-11-20\n---\n"


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[Radicale]:
    yield from running_radicale(tmp_path / "radicale")


@pytest.fixture
def team(write: WriteFile) -> None:
    write("jane.md", JANE)
    write("bart.md", BOB_S)
    write("nina.md", NOBODY_S)


SyncCli = Callable[..., Result]


@pytest.fixture
def sync(folder: Path, radicale: Radicale) -> SyncCli:
    """sync() runs `mdfollow caldav` for alice into her calendar, with her password in the env."""

    def _sync(
        *args: str,
        user: str = "alice",
        password: str | None = None,
        today: str = TODAY,
        url: str | None = None,
    ) -> Result:
        env = {"MDFOLLOW_CALDAV_PASSWORD": password or PASSWORDS[user], "MDFOLLOW_OWNER": None}
        command = ["--dir", str(folder), "--today", today, "caldav", url or radicale.url(user)]
        result = CliRunner().invoke(app, [*command, "--owner", user, "--user", user, *args], env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, result.stderr)

    return _sync


def tasks(radicale: Radicale, user: str = "alice") -> dict[str, Any]:
    """UID → the task as the independent `ical` parser reads the stored object."""
    found = {}
    for _, data in radicale.items(user).values():
        calendar = IcsCalendarStream.calendar_from_ics(data)
        for todo in calendar.todos:
            found[todo.uid] = todo
    return found


def etags(radicale: Radicale, user: str = "alice") -> dict[str, str]:
    return {href: etag for href, (etag, _) in radicale.items(user).items()}


@pytest.fixture
def requests_sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The HTTP methods the library sends, in order."""
    from caldav.davclient import DAVClient

    sent: list[str] = []
    original = DAVClient.request

    def recording(self: DAVClient, url: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        sent.append(method)
        return original(self, url, method, *args, **kwargs)

    monkeypatch.setattr(DAVClient, "request", recording)
    return sent


def one_line(result: Result) -> str:
    """The one line a failed sync prints on stderr (no traceback, nothing else)."""
    assert "Traceback" not in result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    return line


def complete_on_phone(
    radicale: Radicale, uid: str, when: str = "20261130T150000Z", user: str = "alice"
) -> None:
    """What a phone does when the task is ticked off: PUT it back, completed, with If-Match."""
    for href, (etag, data) in radicale.items(user).items():
        if f"UID:{uid}" in data:
            done = data.replace("STATUS:NEEDS-ACTION", f"STATUS:COMPLETED\r\nCOMPLETED:{when}")
            assert radicale.put(user, href, done, {"If-Match": etag}) in (201, 204)
            return
    raise AssertionError(f"no task {uid}")


def test_push_puts_the_owners_follow_ups_as_the_feed_has_them(
    team: None, sync: SyncCli, radicale: Radicale, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = sync()
    assert result.exit_code == 0, result
    assert "1 created" in result.stdout
    [(href, (_, data))] = radicale.items().items()
    assert "METHOD" not in data
    assert href.endswith("/alice/tasks/jane-2%40mdfollow.ics") or href.endswith(
        "/alice/tasks/jane-2@mdfollow.ics"
    )
    [task] = IcsCalendarStream.calendar_from_ics(data).todos
    monkeypatch.chdir(folder)  # the feed names files as given; from the root, as the sync does
    feed = CliRunner().invoke(app, ["--dir", ".", "--today", TODAY, "ics", "--todo", "--owner", "alice"])
    [in_feed] = IcsCalendarStream.calendar_from_ics(feed.stdout).todos
    assert (task.uid, task.summary, task.description, task.due) == (
        in_feed.uid,
        in_feed.summary,
        in_feed.description,
        in_feed.due,
    )
    assert task.uid == "jane-2@mdfollow"
    assert str(task.due) == TODAY  # overdue since Nov 4: placed on today
    assert "File: jane.md" in (task.description or "")
    assert tasks(radicale, "bob") == {}  # bob's calendar is bob's to sync


def test_a_second_sync_sends_one_report_and_no_write(
    team: None, sync: SyncCli, radicale: Radicale, requests_sent: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import icalendar

    assert sync().exit_code == 0
    before = etags(radicale)
    requests_sent.clear()
    parsed: list[object] = []
    original = icalendar.Calendar.from_ical
    monkeypatch.setattr(
        icalendar.Calendar, "from_ical", lambda *a, **k: parsed.append(a) or original(*a, **k)
    )
    again = sync()
    assert parsed == []  # Radicale gave back our lines: nothing to parse
    assert again.exit_code == 0, again
    assert requests_sent == ["REPORT"]
    assert etags(radicale) == before
    assert "0 created, 0 updated, 0 deleted, 1 unchanged" in again.stdout


def test_a_task_ticked_off_on_the_phone_becomes_a_touch(
    team: None, sync: SyncCli, radicale: Radicale, folder: Path, write: WriteFile
) -> None:
    write("mdfollow.toml", '[calendar]\ntimezone = "Europe/Berlin"\n')
    assert sync().exit_code == 0
    complete_on_phone(radicale, "jane-2@mdfollow", "20261130T150000Z")
    result = sync()
    assert result.exit_code == 0, result
    assert "1 touch logged" in result.stdout
    text = (folder / "jane.md").read_text()
    assert text.endswith("- 2026-11-02 email: sent quote #1042\n- 2026-11-30 16:00 email: done in calendar\n")
    assert set(tasks(radicale)) == {"jane-3@mdfollow"}  # the done one deleted, the next one pushed
    third = sync()
    assert "0 touches logged" in third.stdout and "1 unchanged" in third.stdout
    assert (folder / "jane.md").read_text() == text


def test_done_on_the_phone_and_logged_by_hand_the_same_day_is_logged_once(
    team: None, sync: SyncCli, radicale: Radicale, folder: Path
) -> None:
    assert sync().exit_code == 0
    complete_on_phone(radicale, "jane-2@mdfollow")
    logged = CliRunner().invoke(
        app, ["--dir", str(folder), "--today", TODAY, "log", "jane", "email", "sent the revised quote"]
    )
    assert logged.exit_code == 0, logged.output
    result = sync()
    assert result.exit_code == 0, result
    assert "0 touches logged" in result.stdout
    assert (folder / "jane.md").read_text().count(f"- {TODAY}") == 1
    assert set(tasks(radicale)) == {"jane-3@mdfollow"}


def test_a_snooze_moves_the_same_task(team: None, sync: SyncCli, radicale: Radicale, folder: Path) -> None:
    assert sync().exit_code == 0
    [(href, (etag, _))] = radicale.items().items()
    snoozed = CliRunner().invoke(
        app, ["--dir", str(folder), "--today", TODAY, "snooze", "jane", "--until", "2026-12-10"]
    )
    assert snoozed.exit_code == 0, snoozed.output
    result = sync()
    assert "1 updated" in result.stdout, result
    [(same_href, (new_etag, _))] = radicale.items().items()
    assert same_href == href and new_etag != etag
    assert str(tasks(radicale)["jane-2@mdfollow"].due) == "2026-12-10"


FOREIGN_TODO = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//phone//EN\r\nBEGIN:VTODO\r\nUID:buy-milk@phone\r\n"
    "DTSTAMP:20261101T000000Z\r\nSUMMARY:Buy milk\r\nSTATUS:COMPLETED\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
)
FOREIGN_EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//phone//EN\r\nBEGIN:VEVENT\r\nUID:lunch@phone\r\n"
    "DTSTAMP:20261101T000000Z\r\nDTSTART;VALUE=DATE:20261201\r\nSUMMARY:Lunch\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_items_that_are_not_ours_are_left_alone(team: None, sync: SyncCli, radicale: Radicale) -> None:
    assert radicale.put("alice", "/alice/tasks/milk.ics", FOREIGN_TODO) == 201
    assert radicale.put("alice", "/alice/tasks/lunch.ics", FOREIGN_EVENT) == 201
    before = etags(radicale)
    assert sync().exit_code == 0
    assert sync().exit_code == 0
    after = etags(radicale)
    assert {href: after[href] for href in before} == before
    assert len(after) == 3
    assert "0 touches logged" in sync().stdout  # a completed task of someone else's is no touch


def test_a_412_race_pulls_again_then_pushes(
    team: None, sync: SyncCli, radicale: Radicale, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The phone ticks the task off between our REPORT and our update: the update gets 412,
    the sync starts over, logs the touch, and pushes the next follow-up."""
    from caldav.davclient import DAVClient

    (folder / "mdfollow.toml").write_text('[calendar]\ntimezone = "UTC"\n')
    assert sync().exit_code == 0
    CliRunner().invoke(
        app, ["--dir", str(folder), "--today", TODAY, "snooze", "jane", "--until", "2026-12-10"]
    )
    original = DAVClient.put
    statuses: list[int] = []

    def put_after_the_phone(self: DAVClient, url: str, body: str, headers: Any = None) -> Any:
        if not statuses:
            complete_on_phone(radicale, "jane-2@mdfollow", "20261130T100000Z")
        response = original(self, url, body, headers)
        statuses.append(response.status)
        return response

    monkeypatch.setattr(DAVClient, "put", put_after_the_phone)
    result = sync()
    assert result.exit_code == 0, result
    assert statuses[0] == 412
    # A snoozed follow-up suggests no channel: the touch is a call.
    assert "- 2026-11-30 10:00 call: done in calendar" in (folder / "jane.md").read_text()
    assert set(tasks(radicale)) == {"jane-3@mdfollow"}
    assert str(tasks(radicale)["jane-3@mdfollow"].due) == "2026-12-10"  # the snooze still stands


def test_a_server_stopped_mid_run_loses_nothing_and_the_next_run_finishes(
    write: WriteFile, sync: SyncCli, radicale: Radicale, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from caldav.davclient import DAVClient

    for name in ("ann", "ben", "cat", "dan"):
        write(f"{name}.md", f"---\nname: {name.title()}\nowner: alice\ncreated: 2026-11-20\n---\n")
    assert sync().exit_code == 0
    complete_on_phone(radicale, "ann-1@mdfollow")
    CliRunner().invoke(
        app, ["--dir", str(folder), "--today", TODAY, "snooze", "ben", "--until", "2026-12-10"]
    )
    original = DAVClient.request
    writes: list[str] = []

    def stop_after_one_write(
        self: DAVClient, url: str, method: str = "GET", *args: Any, **kwargs: Any
    ) -> Any:
        if method in ("PUT", "DELETE"):
            if writes:
                radicale.stop()
            writes.append(method)
        return original(self, url, method, *args, **kwargs)

    monkeypatch.setattr(DAVClient, "request", stop_after_one_write)
    result = sync()
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr + result.stdout
    [message] = result.stderr.strip().splitlines()
    assert message.startswith("mdfollow: http://127.0.0.1:") and "cannot connect" in message
    ann = (folder / "ann.md").read_text()
    assert ann.count("done in calendar") == 1  # pulled before the server went away, and kept
    monkeypatch.setattr(DAVClient, "request", original)
    radicale.start()
    again = sync()
    assert again.exit_code == 0, again
    assert "0 touches logged" in again.stdout
    assert (folder / "ann.md").read_text() == ann
    assert set(tasks(radicale)) == {"ann-2@mdfollow", "ben-1@mdfollow", "cat-1@mdfollow", "dan-1@mdfollow"}
    assert str(tasks(radicale)["ben-1@mdfollow"].due) == "2026-12-10"
    assert "0 created, 0 updated, 0 deleted" in sync().stdout


def test_a_follow_up_that_moves_to_another_owner_leaves_this_calendar(
    team: None, sync: SyncCli, radicale: Radicale, folder: Path
) -> None:
    assert sync().exit_code == 0
    jane = folder / "jane.md"
    jane.write_text(jane.read_text().replace("owner: Alice", "owner: bob"))
    assert "1 deleted" in sync().stdout
    assert tasks(radicale) == {}
    assert set(tasks(radicale, "bob")) == set()
    assert sync(user="bob").exit_code == 0
    assert set(tasks(radicale, "bob")) == {"jane-2@mdfollow", "bart-1@mdfollow"}


def test_a_wrong_password_is_one_line_and_writes_nothing(
    team: None, sync: SyncCli, radicale: Radicale, folder: Path
) -> None:
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = sync(password="wrong")
    assert result.exit_code == 1
    [message] = result.stderr.strip().splitlines()
    assert "refused the login for user alice" in message
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert radicale.items() == {}


def test_another_users_calendar_is_forbidden(team: None, sync: SyncCli, radicale: Radicale) -> None:
    result = sync(url=radicale.url("bob"))
    assert result.exit_code == 1
    assert "access forbidden for user alice (403)" in one_line(result), result


def test_a_url_that_is_not_a_calendar_says_so(team: None, sync: SyncCli, radicale: Radicale) -> None:
    result = sync(url=radicale.url("alice", "nothing-here"))
    assert result.exit_code == 1
    assert "no calendar there (404): the URL must name the collection itself" in one_line(result)


def test_a_task_done_just_before_the_prospect_moved_to_bob_is_still_logged(
    team: None, sync: SyncCli, radicale: Radicale, folder: Path
) -> None:
    assert sync().exit_code == 0
    complete_on_phone(radicale, "jane-2@mdfollow")
    jane = folder / "jane.md"
    jane.write_text(jane.read_text().replace("owner: Alice", "owner: bob"))
    result = sync()
    assert "1 touch logged" in result.stdout and "1 deleted" in result.stdout, result
    assert "done in calendar" in jane.read_text()
    assert tasks(radicale) == {}


def test_a_task_done_while_its_file_is_broken_waits_for_the_fix(
    team: None, sync: SyncCli, radicale: Radicale, folder: Path
) -> None:
    assert sync().exit_code == 0
    complete_on_phone(radicale, "jane-2@mdfollow")
    jane = folder / "jane.md"
    good = jane.read_text()
    jane.write_text(good.replace("company: Acme", "company: [Acme"))
    broken = sync()
    assert broken.exit_code == 1
    assert "jane-2%40mdfollow.ics: the prospect's file has errors: task left as it is" in broken.stderr or (
        "jane-2@mdfollow.ics: the prospect's file has errors: task left as it is" in broken.stderr
    )
    [(_, data)] = radicale.items().values()
    assert "STATUS:COMPLETED" in data  # not deleted, not reset
    jane.write_text(good)
    fixed = sync()
    assert fixed.exit_code == 0 and "1 touch logged" in fixed.stdout, fixed
    assert set(tasks(radicale)) == {"jane-3@mdfollow"}


def test_a_task_edited_on_the_phone_is_put_back_as_the_feed_has_it(
    team: None, sync: SyncCli, radicale: Radicale
) -> None:
    assert sync().exit_code == 0
    [(href, (etag, data))] = radicale.items().items()
    edited = data.replace("DUE;VALUE=DATE:20261130", "DUE;VALUE=DATE:20270101").replace(
        "STATUS:NEEDS-ACTION", "STATUS:CANCELLED"
    )
    assert edited != data and radicale.put("alice", href, edited, {"If-Match": etag}) == 204
    result = sync()
    assert "0 touches logged, 0 created, 1 updated" in result.stdout, result
    task = tasks(radicale)["jane-2@mdfollow"]
    assert str(task.due) == TODAY and task.status.value == "NEEDS-ACTION"

"""`--owner NAME` (and MDFOLLOW_OWNER) on due, list, stats, ics; `/owners/NAME.ics` in serve."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ical.calendar_stream import IcsCalendarStream
from typer.testing import CliRunner

from mdfollow.cli import app
from tests.conftest import TODAY, RunCli, WriteFile
from tests.test_serve import request
from tests.test_watch import TIMEOUT, wait_for


@pytest.fixture
def team(write: WriteFile) -> None:
    write("jane.md", "---\nname: Jane Doe\nowner: Alice\ncreated: 2026-11-20\n---\n")
    write("sub/zoe.md", "---\nname: Zoe Zhang\nowner: ' alice '\ncreated: 2026-11-21\n---\n")
    write(
        "bart.md",
        "---\nname: Bart Brown\nowner: bob\ncreated: 2026-11-20\nstatus: won\nclosed: 2026-11-25\n---\n",
    )
    write("nina.md", "---\nname: Nina North\ncreated: 2026-11-20\n---\n")


def ids(output: str) -> list[str]:
    return [item["id"] for item in json.loads(output)]


def test_due_list_and_ics_keep_to_the_owner_any_case(team: None, run: RunCli) -> None:
    assert ids(run("due", "--json", "--owner", "alice").stdout) == ["jane", "zoe"]
    assert ids(run("due", "--json", "--owner", "ALICE").stdout) == ["jane", "zoe"]
    assert ids(run("list", "--json", "--owner", "Bob").stdout) == ["bart"]
    assert ids(run("due", "--json").stdout) == ["bart", "jane", "nina", "zoe"]  # everyone's
    feed = run("ics", "--owner", "alice").stdout
    uids = sorted(event.uid for event in IcsCalendarStream.calendar_from_ics(feed).events)
    assert uids == ["jane-1@mdfollow", "zoe-1@mdfollow"]


def test_a_prospect_without_an_owner_is_in_no_ones_list(team: None, run: RunCli) -> None:
    for owner in ("alice", "bob", "nina", "None"):
        assert "nina" not in ids(run("list", "--json", "--owner", owner).stdout)
    assert "nina" in ids(run("list", "--json").stdout)
    assert ids(run("due", "--json", "--owner", "carol").stdout) == []
    assert "Nothing due" in run("due", "--owner", "carol").stdout


def test_mdfollow_owner_is_the_default_and_the_option_wins(team: None, folder: Path) -> None:
    def due(*args: str, owner: str) -> list[str]:
        command = ["--dir", str(folder), "--today", TODAY, "due", "--json", *args]
        result = CliRunner().invoke(app, command, env={"MDFOLLOW_OWNER": owner})
        assert result.exit_code == 0, result.output
        return ids(result.stdout)

    assert due(owner="alice") == ["jane", "zoe"]
    assert due("--owner", "bob", owner="alice") == ["bart"]
    assert due(owner="") == ["bart", "jane", "nina", "zoe"]  # set but empty: everyone


def test_stats_count_the_owners_prospects_only(team: None, run: RunCli) -> None:
    bob = json.loads(run("stats", "--json", "--owner", "bob").stdout)
    alice = json.loads(run("stats", "--json", "--owner", "alice").stdout)
    assert bob["by_status"].get("won") == 1 and not bob["by_status"].get("active")
    assert alice["by_status"].get("active") == 2 and not alice["by_status"].get("won")


def test_ics_output_differs_per_owner_even_from_the_stored_feed(team: None, run: RunCli) -> None:
    everyone = run("ics").stdout
    alice = run("ics", "--owner", "alice").stdout
    assert run("ics", "--owner", "bob").stdout.count("BEGIN:VEVENT") == 1
    assert everyone.count("BEGIN:VEVENT") == 4 and alice.count("BEGIN:VEVENT") == 2
    assert run("ics").stdout == everyone  # the stored feed of everyone is not alice's


@pytest.mark.parametrize("token", [None, "s3cret-token"])
def test_serve_answers_each_owners_feed(team: None, folder: Path, tmp_path: Path, token: str | None) -> None:
    stdout = tmp_path / "stdout.txt"
    command = [
        sys.executable,
        "-m",
        "mdfollow",
        "--dir",
        str(folder),
        "--today",
        TODAY,
        "serve",
        "--port",
        "0",
    ]
    with stdout.open("wb") as out:
        process = subprocess.Popen(
            [*command, *(["--token", token] if token else [])], stdout=out, stderr=subprocess.PIPE
        )
        try:
            wait_for(lambda: "webcal://" in stdout.read_text(), "the printed URLs")
            port = int(stdout.read_text().split("127.0.0.1:")[1].split("/")[0])
            prefix = f"/{token}" if token else ""
            status, headers, body = request(port, "GET", f"{prefix}/owners/Alice.ics")
            assert (status, headers["Content-Type"]) == (200, "text/calendar; charset=utf-8")
            calendar = IcsCalendarStream.calendar_from_ics(body.decode())
            assert sorted(e.uid for e in calendar.events) == ["jane-1@mdfollow", "zoe-1@mdfollow"]
            again = request(port, "GET", f"{prefix}/owners/alice.ics", {"If-None-Match": headers["ETag"]})
            assert again[0] == 304
            status, _, body = request(port, "GET", f"{prefix}/owners/carol.ics")
            assert status == 200 and IcsCalendarStream.calendar_from_ics(body.decode()).events == []
            if token:
                assert request(port, "GET", "/owners/alice.ics")[0] == 404
                assert request(port, "GET", "/wrong/owners/alice.ics")[0] == 404
            for path in ("/owners/.ics", "/owners/alice", "/owners/a/b.ics", "/owners/"):
                assert request(port, "GET", prefix + path)[0] == 404
            (folder / "bart.md").write_text("---\nname: Bart Brown\nowner: alice\ncreated: 2026-11-20\n---\n")
            wait_for(
                lambda: b"bart-1@mdfollow" in request(port, "GET", f"{prefix}/owners/alice.ics")[2],
                "bart moved to alice's feed",
            )
            assert b"bart-1@mdfollow" not in request(port, "GET", f"{prefix}/owners/bob.ics")[2]
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(TIMEOUT)
            errors = process.stderr.read().decode() if process.stderr else ""
    assert code == 0, errors
    assert "Traceback" not in errors


def test_an_owner_feed_keeps_its_last_modified_while_its_bytes_stay_the_same() -> None:
    from mdfollow.live.serve import FeedServer, FeedState

    clock = iter(range(1_800_000_000, 1_800_000_100))
    state = FeedState(clock=lambda: float(next(clock)))
    assert state.owner("alice") is None  # before the first build: 503, as for the whole feed
    feeds = {"alice": b"A1", "bob": b"B1"}
    state.publish_owners(lambda name: feeds.get(name.casefold(), b"empty"))
    first = state.owner("Alice")
    assert first is not None and first.body == b"A1"
    assert state.owner("alice") is first  # one build per rebuild, whatever the case
    feeds["bob"] = b"B2"
    state.publish_owners(lambda name: feeds.get(name.casefold(), b"empty"))
    again = state.owner("alice")
    assert again is not None and (again.etag, again.modified) == (first.etag, first.modified)
    bob = state.owner("bob")
    assert bob is not None and bob.body == b"B2"
    digest = FeedState()
    digest.publish(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    assert digest.owner("alice") is None  # serve --digest: no owner feeds (the handler says 404)
    server = FeedServer.__new__(FeedServer)
    server.token = "t0k"
    assert server.owner_in_path("/t0k/owners/Jos%C3%A9.ics") == "José"
    assert server.owner_in_path("/owners/alice.ics") is None
    assert server.owner_in_path("/t0k/owners/a%2Fb.ics") is None


def test_with_digest_an_owner_path_is_404_and_the_feed_is_served() -> None:
    from mdfollow.live.serve import FeedServer, FeedState

    state = FeedState()
    with FeedServer("127.0.0.1", 0, state, None, lambda message: None) as server:
        assert request(server.port, "GET", "/owners/alice.ics")[0] == 503  # nothing built yet
        state.publish(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
        assert request(server.port, "GET", "/owners/alice.ics")[0] == 404
        assert request(server.port, "GET", "/feed.ics")[0] == 200

"""mdfollow.toml: defaults, overrides, and a clear error naming the bad key."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from mdfollow.core.config import DEFAULT_CONFIG, DEFAULT_TOML, ConfigError, parse_config
from mdfollow.core.model import Gap

PATH = Path("mdfollow.toml")


def test_the_commented_template_is_exactly_the_defaults() -> None:
    config, problems = parse_config(PATH, DEFAULT_TOML)
    assert problems == []
    assert config.cadences == DEFAULT_CONFIG.cadences
    assert config.calendar == DEFAULT_CONFIG.calendar
    assert tomllib.loads(DEFAULT_TOML)["cadences"]["default"]["then"] == "2m"
    default = DEFAULT_CONFIG.cadences["default"]
    assert len(default.gaps) == 11 and default.gaps[4] == Gap(10, "d", "linkedin")


def test_user_cadences_extend_and_override() -> None:
    config, _ = parse_config(
        PATH,
        '[cadences.customer]\ngaps = ["1m"]\nthen = "6m"\n[cadences.hot]\ngaps = ["1d call"]\nthen = "stop"\n',
    )
    assert set(config.cadences) == {"default", "customer", "hot"}
    assert config.cadences["customer"].then == Gap(6, "m")
    assert config.cadences["hot"].then is None
    assert config.cadences["default"] == DEFAULT_CONFIG.cadences["default"]


def test_calendar_settings() -> None:
    config, _ = parse_config(
        PATH,
        '[calendar]\ntime = "09:30"\nduration = "1h30m"\nalarm = ""\noverdue = "keep"\n'
        'timezone = "Europe/London"\n',
    )
    calendar = config.calendar
    assert calendar.time == dt.time(9, 30)
    assert calendar.duration == dt.timedelta(minutes=90)
    assert calendar.alarm is None and calendar.overdue == "keep"


def test_unknown_keys_are_warnings_with_their_line() -> None:
    _, problems = parse_config(PATH, 'workdays = ["mon"]\ncolour = "red"\n[calendar]\nnmae = "x"\n')
    assert [(p.line, p.message, p.severity) for p in problems] == [
        (2, "unknown key 'colour' ignored", "warning"),
        (4, "unknown key 'calendar.nmae' ignored", "warning"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('reply = "soon"', "mdfollow.toml:1: reply: 'soon' is not a gap"),
        ('\n[cadences.x]\ngaps = ["1d", "2x"]', "mdfollow.toml:3: cadences.x.gaps[1]: '2x' is not a gap"),
        ("[cadences.x]\ngaps = []", "mdfollow.toml:1: cadences.x: has no gaps and no then"),
        ('workdays = ["mon", "someday"]', "mdfollow.toml:1: workdays: 'someday' is not a weekday"),
        ("workdays = []", "mdfollow.toml:1: workdays: needs at least one day"),
        ('[calendar]\ntimezone = "Mars/Olympus"', "mdfollow.toml:2: calendar.timezone: unknown time zone"),
        ('[calendar]\ntime = "9am"', "mdfollow.toml:2: calendar.time: '9am' is not a time"),
        ('[calendar]\noverdue = "later"', 'mdfollow.toml:2: calendar.overdue: expected "today" or "keep"'),
        ("[git]\nautocommit = 1", "mdfollow.toml:2: git.autocommit: expected bool"),
        ("reply = ", "mdfollow.toml:1: Invalid value"),
        ('workdays = ["mon"]\n\nreply = ', "mdfollow.toml:3: Invalid value (at end of document)"),
        ("[git]\n[git]", "mdfollow.toml:2: Cannot declare ('git',) twice"),
    ],
)
def test_bad_values_name_the_key(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(PATH, text)
    assert raised.value.message.startswith(expected), raised.value.message


def test_a_bad_value_is_reported_at_the_line_of_its_own_table() -> None:
    text = '[cadences.fast]\ngaps = ["1d"]\nalarm = "09:00"\n\n[calendar]\nname = "x"\nalarm = "9am"\n'
    with pytest.raises(ConfigError) as raised:
        parse_config(PATH, text)
    assert (
        raised.value.message == 'mdfollow.toml:7: calendar.alarm: \'9am\' is not a time (use "HH:MM" or "")'
    )


def test_dotted_and_quoted_keys_are_found_too() -> None:
    text = 'reply = "1d"\ncalendar.time = "9am"\n'
    with pytest.raises(ConfigError, match=r"^mdfollow.toml:2: calendar.time:"):
        parse_config(PATH, text)
    text = '[cadences."big deals"]\ngaps = ["1d", "soon"]\n'
    with pytest.raises(ConfigError, match=r"^mdfollow.toml:2: cadences.big deals.gaps\[1\]:"):
        parse_config(PATH, text)


@pytest.mark.parametrize("day", ["monkey", "mo", "tues", "", "Montag"])
def test_only_real_weekday_names_are_workdays(day: str) -> None:
    with pytest.raises(ConfigError, match=f"workdays: {day!r} is not a weekday"):
        parse_config(PATH, f'workdays = ["{day}"]')


def test_weekdays_short_or_long_in_any_case() -> None:
    config, _ = parse_config(PATH, 'workdays = ["Mon", "tuesday", "SAT"]')
    assert config.workdays == frozenset({0, 1, 5})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[calendar]\nduration = "99999999999999999999h"', "mdfollow.toml:2: calendar.duration: "),
        ('[calendar]\nduration = "25h"', "mdfollow.toml:2: calendar.duration: '25h' is longer than a day"),
        (f'[calendar]\nduration = "{"9" * 5000}m"', "mdfollow.toml:2: calendar.duration: "),
        ("\nx = " + "[" * 3000 + "]" * 3000, "mdfollow.toml:2: arrays or tables nested too deeply"),
        ("\n\nname = " + "1" * 5000, "mdfollow.toml:3: a number with too many digits"),
    ],
)
def test_extreme_values_are_one_line_errors(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(PATH, text)
    assert raised.value.message.startswith(expected) and "\n" not in raised.value.message


def test_a_sensible_duration_is_kept() -> None:
    config, _ = parse_config(PATH, '[calendar]\nduration = "24h"')
    assert config.calendar.duration == dt.timedelta(hours=24)


def test_a_fifo_config_is_refused_without_waiting(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "p.md").write_text("---\nname: P\n---\n")
    os.mkfifo(tmp_path / "mdfollow.toml")
    script = Path(sys.executable).parent / "mdfollow"
    for command in (["due"], ["list", "--json"], ["check"], ["ics"], ["stats"]):
        result = subprocess.run(
            [str(script), "--dir", str(tmp_path), *command], capture_output=True, text=True, timeout=20
        )
        assert result.returncode == 1, result
        assert result.stderr == (
            f"mdfollow: {tmp_path}/mdfollow.toml:1: not a regular file (a FIFO, device or folder): cannot be read\n"
        )


def test_a_prospect_named_by_a_5000_digit_number_is_read_as_text(tmp_path: Path) -> None:
    from mdfollow.core.parse import parse_prospect

    prospect, problems = parse_prospect(tmp_path / "n.md", f"---\nname: {'7' * 5000}\n---\n".encode())
    assert problems == [] and prospect is not None and prospect.name == "7" * 5000


def test_a_gap_of_thousands_of_digits_is_no_gap() -> None:
    from mdfollow.core.config import parse_gap

    assert parse_gap("9" * 5000 + "d") is None
    assert parse_gap("0002w call") == Gap(2, "w", "call")
    with pytest.raises(ConfigError, match=r"^mdfollow\.toml:1: reply: '9999"):
        parse_config(PATH, f'reply = "{"9" * 5000}d"')

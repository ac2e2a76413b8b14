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

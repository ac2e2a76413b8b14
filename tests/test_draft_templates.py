"""The template side of SPEC §9 without the CLI: the gap's `:template`, `[drafts]`, the variables,
and the starter templates `init` writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from mdfollow.core.config import ConfigError, parse_config, parse_gap
from mdfollow.core.model import DraftsConfig, FollowUp, Gap, Templates
from mdfollow.core.schedule import follow_up
from mdfollow.core.templates import EXAMPLE, STARTERS, render, template_name, variables
from tests.conftest import RunCli

PATH = Path("mdfollow.toml")


@pytest.mark.parametrize(
    ("text", "gap"),
    [
        ("1w email:quote-check", Gap(1, "w", "email", "quote-check")),
        ("1w email : Quote_Check", Gap(1, "w", "email", "Quote_Check")),
        ("3d:first", Gap(3, "d", None, "first")),
        ("2m call", Gap(2, "m", "call")),
    ],
)
def test_a_gap_may_name_a_template(text: str, gap: Gap) -> None:
    assert parse_gap(text) == gap
    assert parse_gap(str(gap)) == gap


@pytest.mark.parametrize("text", ["1w email:", "1w email:../etc/passwd", "1w email:a b", "1w email:x:y"])
def test_a_template_name_is_one_word(text: str) -> None:
    assert parse_gap(text) is None


def test_the_gap_template_reaches_the_follow_up() -> None:
    config, _ = parse_config(PATH, '[cadences.default]\ngaps = ["2d email", "1w email:quote-check"]\n')
    prospect = replace(EXAMPLE, touches=EXAMPLE.touches)
    upcoming = follow_up(prospect, dt.date(2026, 11, 5), config)
    assert upcoming is not None and (upcoming.touch, upcoming.template) == (3, "quote-check")


def test_drafts_table_and_the_first_mail_me_address() -> None:
    config, problems = parse_config(
        PATH,
        '[mail]\nme = ["Sam@Acme.example", "sales@acme.example"]\n'
        '[drafts]\nto = "~/Mail/Drafts"\nsignature = "Sam"\ncolour = "red"\n',
    )
    assert config.drafts == DraftsConfig(to="~/Mail/Drafts", signature="Sam")
    assert config.me == "Sam@Acme.example"
    assert [p.message for p in problems] == ["unknown key 'drafts.colour' ignored"]
    assert problems[0].line == 6
    with pytest.raises(ConfigError, match=r"mdfollow.toml:2: drafts.signature: expected str, got 3"):
        parse_config(PATH, "[drafts]\nsignature = 3\n")


def test_template_choice_order() -> None:
    upcoming = FollowUp(EXAMPLE, dt.date(2026, 11, 10), "cadence", 3, "email")

    def chosen(*names: str, gap: str | None = None) -> str | None:
        templates = Templates(Path("_templates"), tuple((name, "Subject: x\n\n") for name in names))
        return template_name(replace(upcoming, template=gap), templates)

    assert chosen("email-3", "email", "quote-check", gap="quote-check") == "quote-check"
    assert chosen("email-3", "email", gap="quote-check") is None  # check reports the missing file
    assert chosen("email-3", "email") == "email-3"
    assert chosen("email-2", "email") == "email"
    assert chosen("email-2") is None
    assert template_name(replace(upcoming, channel="call"), Templates(texts=(("call", "x"),))) is None
    assert template_name(replace(upcoming, channel=None), Templates(texts=(("email", "x"),))) is None


def test_variables_front_matter_and_dates() -> None:
    prospect = replace(
        EXAMPLE,
        front_matter={
            **EXAMPLE.front_matter,
            "email": ["a@x.example", "b@x.example"],
            "renewal": dt.date(2027, 1, 31),
        },
        emails=("a@x.example", "b@x.example"),
    )
    values = variables(
        FollowUp(prospect, dt.date(2026, 11, 10), "cadence", 3, "email"), DraftsConfig(), "me@x.example"
    )
    text = (
        "Subject: {{ prospect.first_name }} {{ touch }}\n\n"
        "{{ prospect.email }}|{{ prospect.renewal }}|{{ last.date }}|{{ last.channel }}|{{ me }}|"
        "{{ signature }}|{{ prospect.tags | join(',') }}|{{ prospect['source'] }}\n"
    )
    draft = render("x", text, values, Path("_templates/x.txt"))
    assert draft.subject == "Jane 3"
    assert draft.body == "a@x.example|2027-01-31|2026-11-03|email|me@x.example||warm|Leeds trade show\n"


def test_a_prospect_without_company_or_touches(tmp_path: Path) -> None:
    bare = replace(EXAMPLE, company=None, touches=(), front_matter={"name": "Jane Doe"})
    values = variables(FollowUp(bare, dt.date(2026, 11, 10), "new", 1, "email"), DraftsConfig())
    text = "Subject: Hi{% if prospect.company %} {{ prospect.company }}{% endif %}\n\n[{{ prospect.company }}]{% if not last %} first{% endif %}\n"
    assert render("x", text, values, tmp_path / "x.txt").body == "[] first\n"


def test_init_writes_starter_templates_that_check_accepts(tmp_path: Path, run: RunCli) -> None:
    root = tmp_path / "new"
    assert run("init", str(root)).exit_code == 0
    for name, text in STARTERS.items():
        assert (root / "_templates" / f"{name}.txt").read_text() == text
    checked = run("--dir", str(root), "check")
    assert checked.exit_code == 0, checked
    shown = run("--dir", str(root), "draft", "jane", "--print", today="2026-12-02")
    assert shown.exit_code == 0, shown
    assert "Subject: Good to meet you, Jane\n" in shown.stdout
    assert "Thank you for your time on 2026-11-30: it was good to meet you." in shown.stdout
    assert "see what Acme Corp would need?" in shown.stdout
    values = variables(
        FollowUp(EXAMPLE, dt.date(2026, 11, 10), "cadence", 3, "email"), DraftsConfig(signature="Sam")
    )
    quote = render("quote-check", STARTERS["quote-check"], values, Path("quote-check.txt"))
    assert quote.subject == "Checking in about the quote"
    assert "about the quote (my email of 2026-11-03)." in quote.body and quote.body.endswith("Sam\n")
    again = run("init", str(root))
    assert again.exit_code == 1

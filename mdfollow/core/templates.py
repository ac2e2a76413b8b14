"""Draft templates (SPEC §9): template text and a follow-up → the email's subject and body.

A template is `_templates/NAME.txt`: a `Subject: …` line, a blank line, then the body,
in Jinja2 syntax. It is rendered in Jinja2's sandbox (`ImmutableSandboxedEnvironment`, a
`SandboxedEnvironment` that also keeps the variables unchanged) with `StrictUndefined`
(a misspelt name is an error, not an empty string) and autoescape
off (this is plain text, not HTML). The subject line and the body are compiled as two
templates, so a subject can never spill into the body or the headers; every error is
`_templates/NAME.txt:LINE: message` with LINE counted in the file (Subject = line 1).

Jinja2 is imported on the first render only: commands that never render do not pay
for it, and a folder without `_templates/` never renders.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mdfollow.core.errors import MdfollowError
from mdfollow.core.model import (
    Config,
    DraftsConfig,
    FollowUp,
    Gap,
    Problem,
    Prospect,
    Templates,
    Touch,
    when_text,
)

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import SandboxedEnvironment

EMAIL_CHANNEL = "email"
MAILTO_LIMIT = 2000
"""A `mailto:` link stays shorter than this (SPEC §9): what phones and browsers open reliably."""
_SUBJECT = re.compile(r"^Subject:[ \t]?(.*)$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")
MAX_POWER = 100
MAX_REPEAT = 100_000
"""Limits on `**` and on repeating a string or list with `*` inside templates."""
_JINJA_SOURCE = "<template>"
"""The file name Jinja2 gives templates compiled from a string, in its rewritten tracebacks."""


class TemplateError(MdfollowError):
    """A template that cannot be rendered; `problem` is its `_templates/NAME.txt:LINE: message`."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Draft:
    """A rendered template: one-line subject, body ending in one newline, and where it came from."""

    template: str
    subject: str
    body: str


def template_name(follow_up: FollowUp, templates: Templates) -> str | None:
    """The template of an email follow-up: the one its gap names, else `email-<touch>`, else
    `email`; None when the follow-up is not an email or no such file exists.

    A gap naming a missing template gives None here (the follow-up stays in `due`) and an
    error in `check`.
    """
    if follow_up.channel != EMAIL_CHANNEL or follow_up.due is None:
        return None
    if follow_up.template is not None:
        return follow_up.template if templates.text(follow_up.template) is not None else None
    for name in (f"{follow_up.channel}-{follow_up.touch}", follow_up.channel):
        if templates.text(name) is not None:
            return name
    return None


def variables(follow_up: FollowUp, drafts: DraftsConfig, me: str = "") -> dict[str, Any]:
    """What a template sees: `prospect`, `touch`, `last`, `me` and `signature` (SPEC §9)."""
    prospect = follow_up.prospect
    return {
        "prospect": prospect_variables(prospect),
        "touch": follow_up.touch,
        "last": touch_variables(prospect.last_touch),
        "me": me,
        "signature": drafts.signature,
    }


def prospect_variables(prospect: Prospect) -> dict[str, Any]:
    """Every front matter key, then the fields mdfollow defines (which win: `email` is the first)."""
    values: dict[str, Any] = {str(key): value for key, value in prospect.front_matter.items()}
    values.update(
        id=prospect.id,
        name=prospect.name,
        first_name=(prospect.name.split() or [""])[0],
        company=prospect.company,
        email=prospect.emails[0] if prospect.emails else None,
        status=prospect.status,
    )
    return values


def touch_variables(touch: Touch | None) -> dict[str, Any] | None:
    if touch is None:
        return None
    return {"date": touch.date, "time": touch.time, "channel": touch.channel, "note": touch.note}


def render(name: str, text: str, values: Mapping[str, Any], path: Path) -> Draft:
    """Render one template's text; any problem is a `TemplateError` at the file's line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    match = _SUBJECT.match(lines[0])
    if match is None:
        raise TemplateError(Problem(path, 1, 'the first line must be "Subject: …"'))
    if len(lines) > 1 and lines[1].strip():
        raise TemplateError(Problem(path, 2, "expected a blank line after the Subject line"))
    subject = _render_part(match[1], values, path, first_line=1)
    body = _render_part("\n".join(lines[2:]), values, path, first_line=3)
    return Draft(name, one_line(subject), body.rstrip() + "\n" if body.strip() else "")


def render_follow_up(follow_up: FollowUp, config: Config) -> Draft | None:
    """The draft of an email follow-up, or None when it has no template; `TemplateError` if broken."""
    return _render_with(follow_up, config.templates, config.drafts, config.me)


def _render_with(follow_up: FollowUp, templates: Templates, drafts: DraftsConfig, me: str) -> Draft | None:
    name = template_name(follow_up, templates)
    if name is None:
        return None
    text = templates.text(name)
    assert text is not None
    return render(name, text, variables(follow_up, drafts, me), templates.path(name))


def one_line(text: str) -> str:
    """A subject as a header needs it: controls gone, every run of whitespace one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _render_part(source: str, values: Mapping[str, Any], path: Path, first_line: int) -> str:
    from jinja2 import TemplateSyntaxError

    try:
        template = _compile(source)
    except TemplateSyntaxError as error:
        line = first_line + (error.lineno or 1) - 1
        raise TemplateError(Problem(path, line, error.message or str(error))) from None
    try:
        return template.render(values)
    except Exception as error:  # whatever a template does wrong (undefined, sandbox, 1/0) is its error
        frames = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == _JINJA_SOURCE]
        line = first_line + (frames[-1] if frames and frames[-1] else 1) - 1
        raise TemplateError(Problem(path, line, _message(error))) from None


def _message(error: Exception) -> str:
    from jinja2 import UndefinedError
    from jinja2.exceptions import SecurityError

    text = str(error) or type(error).__name__
    if isinstance(error, SecurityError):
        return f"not allowed in a template: {text}"
    if isinstance(error, UndefinedError):
        return text
    return f"{type(error).__name__}: {text}"


@functools.lru_cache(maxsize=256)
def _compile(source: str) -> Template:
    return _environment().from_string(source)


@functools.lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Sandbox(ImmutableSandboxedEnvironment):
        """Jinja2's sandbox, immutable (`prospect.tags.append(…)` cannot change the loaded
        prospect), which also refuses `'x' * 10**9` and `2 ** 10**8`: a template shared through
        git must not be able to hang or fill the machine."""

        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_POWER:
                raise SecurityError(f"exponent {right} is larger than {MAX_POWER}")
            if operator == "*":
                for sized, count in ((left, right), (right, left)):
                    repeats = isinstance(sized, str | list | tuple) and isinstance(count, int)
                    if repeats and len(sized) * count > MAX_REPEAT:
                        raise SecurityError(f"repeating makes more than {MAX_REPEAT} items")
            return super().call_binop(context, operator, left, right)

    return Sandbox(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, finalize=_finalize
    )


def _finalize(value: Any) -> Any:
    """Dates as ISO `YYYY-MM-DD` (`YYYY-MM-DD HH:MM` with a time); a missing value as nothing."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return when_text(value.date(), value.time())
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return value


def mailto(address: str, subject: str = "", body: str = "", limit: int = MAILTO_LIMIT) -> str:
    """An RFC 6068 `mailto:` link shorter than `limit`: the subject whole, the body cut on a
    character boundary when the link would be too long (line breaks are `%0D%0A`)."""
    link = "mailto:" + quote(address.strip(), safe="@+")
    if subject:
        link += "?subject=" + quote(subject, safe="")
    encoded = quote(body.replace("\r\n", "\n").rstrip("\n").replace("\n", "\r\n"), safe="")
    if not encoded:
        return link
    separator = "&body=" if subject else "?body="
    encoded = _cut(encoded, limit - 1 - len(link) - len(separator))
    return link + separator + encoded if encoded else link


def _cut(encoded: str, room: int) -> str:
    """A percent-encoded text cut to `room` characters at most, between two characters: never
    inside a `%XX`, a UTF-8 sequence (continuation bytes are `%80`-`%BF`) or a `%0D%0A`."""
    if len(encoded) <= room:
        return encoded
    end = max(room, 0)
    if end >= 1 and encoded[end - 1] == "%":
        end -= 1
    elif end >= 2 and encoded[end - 2] == "%":
        end -= 2
    while end >= 3 and encoded[end] == "%" and encoded[end + 1] in "89AB":
        end -= 3
    if encoded[end : end + 3] == "%0A" and encoded[end - 3 : end] == "%0D":
        end -= 3
    return encoded[:end]


def draft_links(
    follow_ups: Iterable[FollowUp], config: Config
) -> tuple[dict[tuple[str, int], str], list[Problem]]:
    """The `mailto:` link with the rendered draft of every email follow-up that has an address
    and a template, by (id, touch); a broken template gives no link and a problem, never a
    missing follow-up."""
    links: dict[tuple[str, int], str] = {}
    problems: list[Problem] = []
    if not config.templates.texts:
        return links, problems
    for follow_up in follow_ups:
        address = address_of(follow_up.prospect)
        if follow_up.channel != EMAIL_CHANNEL or address is None:
            continue
        name = template_name(follow_up, config.templates)
        if name is None:
            continue
        link = _link(
            follow_up, config.templates, config.drafts, config.me, _front_matter_key(follow_up.prospect)
        )
        if isinstance(link, Problem):
            problems.append(_for_prospect(link, follow_up.prospect))
        else:
            links[(follow_up.prospect.id, follow_up.touch)] = link
    return links, problems


def _front_matter_key(prospect: Prospect) -> str:
    """The front matter as a cache key: it is not part of a prospect's equality, yet templates read it."""
    return repr(sorted(prospect.front_matter.items(), key=lambda item: str(item[0])))


@functools.lru_cache(maxsize=65536)
def _link(
    follow_up: FollowUp, templates: Templates, drafts: DraftsConfig, me: str, front_matter: str
) -> str | Problem:
    """One follow-up's draft link, kept while the follow-up, its front matter (not part of a
    prospect's equality), the template and the drafts settings stay the same: `watch` renders
    only what changed."""
    del front_matter  # part of the key only
    address = address_of(follow_up.prospect)
    assert address is not None
    try:
        draft = _render_with(follow_up, templates, drafts, me)
    except TemplateError as error:
        return error.problem
    return mailto(address, draft.subject, draft.body) if draft else mailto(address)


def draft_link(follow_up: FollowUp, templates: Templates, drafts: DraftsConfig, me: str) -> str | None:
    """The `mailto:` link of one email follow-up's rendered draft; None without an address or a
    template, and for a broken template (`draft_links` names the problem)."""
    address = address_of(follow_up.prospect)
    if not templates.texts or follow_up.channel != EMAIL_CHANNEL or address is None:
        return None
    if template_name(follow_up, templates) is None:
        return None
    link = _link(follow_up, templates, drafts, me, _front_matter_key(follow_up.prospect))
    return link if isinstance(link, str) else None


def mailto_of(follow_up: FollowUp, links: Mapping[tuple[str, int], str]) -> str | None:
    """An email follow-up's link: its draft's (see `draft_links`), else the bare address's."""
    address = address_of(follow_up.prospect)
    if follow_up.channel != EMAIL_CHANNEL or address is None:
        return None
    return links.get((follow_up.prospect.id, follow_up.touch)) or mailto(address)


def address_of(prospect: Prospect) -> str | None:
    """The prospect's first email address (drafts go to it)."""
    return next((e.strip() for e in prospect.emails if e.strip()), None)


def _for_prospect(problem: Problem, prospect: Prospect) -> Problem:
    """The template's problem, saying whose draft it broke (the line stays the template's)."""
    return Problem(problem.path, problem.line, f"{problem.message} (drafting for {prospect.id})", "warning")


STARTERS = {
    "email-2": """\
Subject: Good to meet you, {{ prospect.first_name }}

Hi {{ prospect.first_name }},

Thank you for your time{% if last %} on {{ last.date }}{% endif %}: it was good to meet you.
As promised, here are my details, so you have them to hand.

Would a short call this week suit you, to see what {{ prospect.company or "you" }} would need?

Best regards,
{{ signature }}
""",
    "quote-check": """\
Subject: Checking in about the quote

Hi {{ prospect.first_name }},

I wanted to check in about the quote{% if last %} (my {{ last.channel }} of {{ last.date }}){% endif %}.
Do you have any questions, or is there anything you would like me to change?

Happy to go through it on a quick call whenever suits you.

Best regards,
{{ signature }}
""",
}
"""What `mdfollow init` writes into `_templates/`: the first follow-up after a meeting or a card
(touch #2 of the default cadence is "2d email"), and one a gap can name, `"1w email:quote-check"`."""


EXAMPLE = Prospect(
    id="jane-doe-acme",
    path=Path("jane-doe-acme.md"),
    name="Jane Doe",
    company="Acme Corp",
    emails=("jane@acme.example",),
    phones=("+44 20 7946 0001",),
    created=dt.date(2026, 11, 1),
    tags=("warm",),
    source="Leeds trade show",
    touches=(
        Touch(dt.date(2026, 11, 1), None, "meeting", "out", "met at the stand, took her card", 12),
        Touch(dt.date(2026, 11, 3), None, "email", "out", "sent quote #1042", 13),
    ),
    front_matter={
        "name": "Jane Doe",
        "company": "Acme Corp",
        "email": "jane@acme.example",
        "phone": "+44 20 7946 0001",
        "status": "active",
        "source": "Leeds trade show",
        "tags": ["warm"],
        "created": dt.date(2026, 11, 1),
    },
)
"""The prospect `check` renders every template for: the file of SPEC §2."""


def check_templates(config: Config, prospects: Iterable[Prospect] = ()) -> list[Problem]:
    """Every template rendered for the example prospect (with the other front matter keys the
    folder uses, so `{{ prospect.product }}` passes where prospects have a `product`), and an
    error for each gap naming a template that does not exist."""
    templates = config.templates
    problems = list(templates.problems)
    if templates.texts:
        extra: dict[str, Any] = {}
        for prospect in prospects:
            for key, value in prospect.front_matter.items():
                extra.setdefault(str(key), value)
        example = replace(EXAMPLE, front_matter={**extra, **EXAMPLE.front_matter})
        follow_up = FollowUp(example, dt.date(2026, 11, 10), "cadence", 3, EMAIL_CHANNEL)
        values = variables(follow_up, config.drafts, config.me)
        for name, text in templates.texts:
            try:
                render(name, text, values, templates.path(name))
            except TemplateError as error:
                problems.append(error.problem)
    return problems


def named_templates(config: Config) -> list[tuple[str, Gap]]:
    """Each cadence gap naming a template, with its key in `mdfollow.toml` (`cadences.x.gaps[2]`)."""
    named = []
    for cadence in config.cadences.values():
        keys = [(f"cadences.{cadence.name}.gaps[{i}]", gap) for i, gap in enumerate(cadence.gaps)]
        if cadence.then is not None and cadence.then not in cadence.gaps[-1:]:
            keys.append((f"cadences.{cadence.name}.then", cadence.then))
        named += [(key, gap) for key, gap in keys if gap.template is not None]
    return named

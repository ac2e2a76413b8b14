"""The extra checks `mdfollow check` makes on prospects that did load."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from mdfollow.core.config import CONFIG_NAME
from mdfollow.core.model import Config, Problem, Prospect
from mdfollow.core.team import repeated_touches


class Loaded(Protocol):
    """What a folder load gives the check (store.folder.Folder): the core never loads files itself."""

    @property
    def config(self) -> Config: ...
    @property
    def prospects(self) -> Sequence[Prospect]: ...
    @property
    def problems(self) -> Sequence[Problem]: ...


def check_folder(folder: Loaded) -> list[Problem]:
    """Every problem in the folder, in path and line order: load problems plus lint.

    A `next` on or before the latest touch is not reported: logging the touch it asked for
    consumes it, which is the normal course. A file cannot tell whether it was already past
    when it was written; `log --next` and `snooze` warn about that at the time they write it.
    """
    config = folder.config
    problems = list(folder.problems)
    for prospect in folder.prospects:
        line = prospect.line_of
        if prospect.status == "dnc" and prospect.next:
            message = "status is dnc (do not contact): next is ignored"
            problems.append(Problem(prospect.path, line("next"), message, "warning"))
        if prospect.cadence and prospect.cadence not in config.cadences:
            known = ", ".join(sorted(config.cadences))
            problems.append(
                Problem(
                    prospect.path,
                    line("cadence"),
                    f"unknown cadence {prospect.cadence!r} (known: {known})",
                )
            )
        problems += repeated_touches(prospect)
        if config.channels:
            for touch in prospect.touches:
                if touch.channel not in config.channels:
                    problems.append(
                        Problem(
                            prospect.path,
                            touch.line,
                            f"channel {touch.channel!r} is not in the channels of {config.path}",
                            "warning",
                        )
                    )
    problems += template_problems(folder)
    return sorted(problems, key=lambda p: (str(p.path), p.line))


def template_problems(folder: Loaded) -> list[Problem]:
    """SPEC §9: every template renders for an example prospect, and every template a gap names exists."""
    from mdfollow.core.templates import EMAIL_CHANNEL, check_templates, named_templates

    config = folder.config
    problems = check_templates(config, folder.prospects)
    for key, gap in named_templates(config):
        name = gap.template or ""
        where = config.path or Path(CONFIG_NAME)
        if config.templates.text(name) is None:
            message = f"{key}: template {name!r} not found ({config.templates.path(name)})"
            problems.append(Problem(where, gap.line, message))
        elif gap.channel != EMAIL_CHANNEL:
            message = f"{key}: names template {name!r}, but only email follow-ups get drafts"
            problems.append(Problem(where, gap.line, message, "warning"))
    return problems

"""The extra checks `mdfollow check` makes on prospects that did load."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mdfollow.core.model import Config, Problem, Prospect
from mdfollow.core.schedule import consumed_next
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
    """Every problem in the folder, in path and line order: load problems plus lint."""
    config = folder.config
    problems = list(folder.problems)
    for prospect in folder.prospects:
        line = prospect.line_of
        if prospect.status == "dnc" and prospect.next:
            message = "status is dnc (do not contact): next is ignored"
            problems.append(Problem(prospect.path, line("next"), message, "warning"))
        elif consumed_next(prospect):
            latest = prospect.last_touch
            assert latest is not None
            message = f"next {prospect.next} is not after the latest touch ({latest.date}): ignored"
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
    return sorted(problems, key=lambda p: (str(p.path), p.line))

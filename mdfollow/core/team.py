"""A team's view of one folder: who owns which prospects (SPEC §10)."""

from __future__ import annotations

from collections.abc import Iterable

from mdfollow.core.model import Problem, Prospect


def same_owner(owner: str | None, name: str) -> bool:
    """`owner: Alice` belongs to `--owner alice`: names compare without case or outer spaces."""
    return owner is not None and owner.strip().casefold() == name.strip().casefold()


def owned_by(prospects: Iterable[Prospect], name: str | None) -> tuple[Prospect, ...]:
    """The prospects NAME owns; everyone's when NAME is None or blank. A prospect without
    an owner belongs to no one's list, so it shows only in the whole team's view."""
    if name is None or not name.strip():
        return tuple(prospects)
    return tuple(p for p in prospects if same_owner(p.owner, name))


def repeated_touches(prospect: Prospect) -> list[Problem]:
    """A warning for each log item that repeats an earlier one (same date, time, channel,
    direction and note): what a union merge (`*.md merge=union`) or a rebase can leave when
    two people log the same touch. A repeat counts twice in the cadence."""
    first: dict[tuple[object, ...], int] = {}
    problems = []
    for item in sorted(prospect.touches + prospect.notes, key=lambda t: t.line):
        key = (item.date, item.time, item.channel, item.direction, item.note)
        if key in first:
            message = (
                f"the same touch as line {first[key]}: a merge may have repeated it "
                "(`mdfollow check --fix-duplicates` removes exact copies)"
            )
            problems.append(Problem(prospect.path, item.line, message, "warning"))
        else:
            first[key] = item.line
    return problems

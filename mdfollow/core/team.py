"""A team's view of one folder: who owns which prospects (SPEC §10)."""

from __future__ import annotations

from collections.abc import Iterable

from mdfollow.core.model import Prospect


def same_owner(owner: str | None, name: str) -> bool:
    """`owner: Alice` belongs to `--owner alice`: names compare without case or outer spaces."""
    return owner is not None and owner.strip().casefold() == name.strip().casefold()


def owned_by(prospects: Iterable[Prospect], name: str | None) -> tuple[Prospect, ...]:
    """The prospects NAME owns; everyone's when NAME is None or blank. A prospect without
    an owner belongs to no one's list, so it shows only in the whole team's view."""
    if name is None or not name.strip():
        return tuple(prospects)
    return tuple(p for p in prospects if same_owner(p.owner, name))

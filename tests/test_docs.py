"""Docs that cannot drift: the command reference is the CLI's own --help."""

from __future__ import annotations

import tasks


def test_command_reference_is_current() -> None:
    expected = tasks.command_reference()
    assert tasks.COMMANDS_DOC.read_text(encoding="utf-8") == expected, "run: python3 tasks.py docs"

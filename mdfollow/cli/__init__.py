"""The `mdfollow` command: each module below registers its commands on `app`."""

from __future__ import annotations

from mdfollow.cli import caldav as caldav
from mdfollow.cli import draft as draft
from mdfollow.cli import feed as feed
from mdfollow.cli import imports as imports
from mdfollow.cli import live as live
from mdfollow.cli import mail as mail
from mdfollow.cli import read as read
from mdfollow.cli import stats as stats
from mdfollow.cli import write as write
from mdfollow.cli.app import app


def main() -> None:
    app(prog_name="mdfollow")

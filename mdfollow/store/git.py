"""`[git] autocommit`: each write committed, exactly the files it changed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

PATHSPEC_ARGS = 100
"""More files than this are named to git on stdin, not on its command line (length limits)."""


def git_commit(paths: Sequence[Path], message: str) -> str | None:
    """Commit exactly these files, in one commit; why not, when git cannot.
    The edits are already on disk by then, so a failed commit never loses them."""
    where = paths[0].parent
    names = [os.path.relpath(path, where) for path in paths]
    if len(names) <= PATHSPEC_ARGS:
        pathspec, listed = ["--", *names], None
    else:
        pathspec, listed = ["--pathspec-from-file=-", "--pathspec-file-nul"], "\0".join(names)
    for args in (["add", *pathspec], ["commit", "--quiet", "-m", message, *pathspec]):
        try:
            result = subprocess.run(
                ["git", "-C", str(where), *args],
                capture_output=True,
                text=True,
                input=listed,
                stdin=None if listed else subprocess.DEVNULL,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as error:
            return f"not committed: {error}"
        if result.returncode:
            output = (result.stderr or result.stdout).strip().splitlines()
            return f"not committed: {output[0] if output else f'git {args[0]} failed'}"
    return None

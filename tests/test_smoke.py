from __future__ import annotations

import json

from tests.conftest import RunCli, WriteFile


def test_due_json_lists_a_new_prospect(write: WriteFile, run: RunCli) -> None:
    write(
        "ann.md",
        """
        ---
        name: Ann Lee
        created: 2026-11-20
        ---
        """,
    )
    result = run("due", "--json")
    assert result.exit_code == 0, result
    [row] = json.loads(result.stdout)
    assert (row["id"], row["due"], row["reason"], row["overdue_days"]) == ("ann", "2026-11-20", "new", 10)

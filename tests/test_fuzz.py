"""The parser never raises: whatever bytes a file holds, it gives a prospect or problems."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdfollow.core.model import Problem, Prospect
from mdfollow.core.parse import parse_prospect

PATH = Path("fuzz.md")

# Pieces a prospect file is made of, so the fuzzer reaches past the first `---`.
PIECES = st.sampled_from(
    [
        "---\n",
        "---\r\n",
        "name: A\n",
        "name: 'open\n",
        "next: 2026-02-30\n",
        "status: won\n",
        "cadence: [1, {a: b}]\n",
        "email: [a@x, b]\n",
        "tags: '#x'\n",
        "created: 0123\n",
        "on: yes\n",
        "## Touches\n",
        "Touches\n-------\n",
        "```\n",
        "- 2026-11-09 call: left voicemail\n",
        "- 2026-11-09 25:61 email in: x\n",
        "- 9999-12-31 call:\n",
        "1. 2026-01-01 note: n\n",
        "\t",
        ": ",
        "\x00",
        "\ufeff",
        "\r",
        "\u2028",
        "é",
        "&a *a",
        "!!python/object:os.system\n",
    ]
)
TEXTS = st.lists(PIECES | st.text(max_size=20), max_size=30).map("".join)


def _holds_its_promise(result: tuple[Prospect | None, list[Problem]]) -> None:
    prospect, problems = result
    assert prospect is not None or any(p.severity == "error" for p in problems)
    for problem in problems:
        assert problem.line >= 0 and problem.message and "\n" not in problem.message


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    _holds_its_promise(parse_prospect(PATH, data))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
def test_file_shaped_text_never_raises(text: str, encoding: str) -> None:
    _holds_its_promise(
        parse_prospect(
            PATH, text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")
        )
    )

"""Real mail for the `mail` tests: messages as bytes, Maildir folders and mbox files in tmp_path."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

ME = "sam@acme.example"
CONFIG = f"""\
[calendar]
timezone = "Europe/London"

[mail]
me = ["{ME}", "Sales@Acme.example"]
"""
PROSPECTS = {
    "jane.md": "---\nname: Jane Doe\nemail: [jane@client.example, J.Doe@Home.example]\n---\n# Jane\n\n## Touches\n",
    "bob.md": "---\nname: Bob Roe\nemail: bob@roe.example\n---\n# Bob\n\n## Touches\n- 2026-11-02 call: left a voicemail\n",
    "carol.md": "---\nname: Carol Poe\nemail: carol@poe.example\n---\n# Carol\n",
    "dave.md": "---\nname: Dave Moe\nstatus: dnc\nemail: dave@moe.example\n---\n# Dave\n\n## Touches\n",
}


def message(
    sender: str,
    to: str = "",
    *,
    cc: str = "",
    bcc: str = "",
    subject: str | None = "Quote",
    date: str | None = "Mon, 30 Nov 2026 10:15:42 +0000",
    message_id: str | None = None,
    headers: Sequence[str] = (),
    body: bytes = b"Hello,\r\n\r\nsee attached.\r\n",
) -> bytes:
    """One RFC 5322 message with CRLF line ends; None leaves a header out."""
    lines = [f"From: {sender}"]
    for name, value in (("To", to), ("Cc", cc), ("Bcc", bcc)):
        if value:
            lines.append(f"{name}: {value}")
    if subject is not None:
        lines.append(f"Subject: {subject}")
    if date is not None:
        lines.append(f"Date: {date}")
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}")
    lines += headers
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body


def maildir(path: Path, messages: Sequence[bytes], *, where: str = "new") -> Path:
    """A Maildir with the messages in `new/` (as delivered) or `cur/` (seen, flag S), named by number."""
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    for number, data in enumerate(messages, 1):
        name = f"17000000{number:02d}.M{number}P1.{where}host" + (":2,S" if where == "cur" else "")
        (path / where / name).write_bytes(data)
    return path


def mbox(path: Path, messages: Sequence[bytes]) -> Path:
    """An mbox file (mboxrd-style "From " lines, body "From " lines escaped with ">")."""
    parts = []
    for data in messages:
        text = data.replace(b"\r\n", b"\n")
        escaped = b"\n".join(b">" + line if line.startswith(b"From ") else line for line in text.split(b"\n"))
        parts.append(b"From sender@example Mon Nov 30 10:15:42 2026\n" + escaped.rstrip(b"\n") + b"\n\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(parts))
    return path


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below `root` (or the file itself) with its bytes and mtime: proof of a read-only run."""
    if root.is_file():
        return {root.name: (root.read_bytes(), root.stat().st_mtime_ns)}
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            found[str(path.relative_to(root))] = (path.read_bytes(), path.stat().st_mtime_ns)
    return found

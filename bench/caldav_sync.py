"""Time `mdfollow caldav` against a local Radicale: a folder of N follow-ups, nothing changed.

    .venv/bin/python bench/caldav_sync.py [--prospects 1000] [--runs 5]

Starts Radicale (the tests' fixture) in a temporary folder, syncs once to fill the
calendar, then times --runs more syncs of the unchanged folder (the whole console
script, startup included) and prints each and their median. Each must send one REPORT
and no write: the summary line is checked.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.radicale_server import PASSWORDS, Radicale  # noqa: E402

MDFOLLOW = str(Path(sys.executable).with_name("mdfollow"))
TODAY = "2026-11-30"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prospects", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        home = Path(temporary)
        folder = home / "prospects"
        folder.mkdir()
        (folder / "mdfollow.toml").write_text("")
        for number in range(args.prospects):
            (folder / f"p{number:05d}.md").write_text(
                f"---\nname: Prospect {number}\ncompany: Company {number % 97}\nowner: alice\n"
                f"email: p{number}@example.com\ncreated: 2026-11-{1 + number % 28:02d}\n---\n"
                f"## Touches\n- 2026-11-{1 + number % 28:02d} email: first contact\n"
            )
        server = Radicale(home / "radicale")
        server.start()
        try:
            env = {
                **os.environ,
                "MDFOLLOW_CALDAV_PASSWORD": PASSWORDS["alice"],
                "XDG_CACHE_HOME": str(home / "c"),
            }
            command = [
                MDFOLLOW,
                "--dir",
                str(folder),
                "--today",
                TODAY,
                "caldav",
                server.url(),
                "--user",
                "alice",
            ]
            first = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            print(f"first sync: {first.stdout.strip()} {first.stderr.strip()}")
            timings = []
            for _ in range(args.runs):
                start = time.perf_counter()
                done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
                timings.append(time.perf_counter() - start)
                assert done.returncode == 0 and "0 created, 0 updated, 0 deleted" in done.stdout, done
            print(f"{args.prospects} follow-ups, nothing changed: " + ", ".join(f"{t:.2f}" for t in timings))
            print(f"median {statistics.median(timings):.2f} s")
        finally:
            server.stop()


if __name__ == "__main__":
    main()

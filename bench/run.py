"""Time the mdfollow console script on generated folders; print medians.

    python3 tasks.py bench [--runs 5] [--sizes 1000,10000]

"cold" runs start with an empty cache (a fresh XDG_CACHE_HOME each run); "warm"
runs follow a run on the same, unchanged folder; "one edit" runs follow a run
after which one file changed. Each figure is the median of --runs wall-clock
timings of the whole process, startup included.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

MDFOLLOW = str(Path(sys.executable).with_name("mdfollow"))
TODAY = "2026-11-30"
COMMANDS = {
    "due": ["due"],
    "list --json": ["list", "--json"],
    "check": ["check"],
    "ics": ["ics"],
}


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def median_of(runs: int, command: list[str], mode: str, edited: Path | None = None) -> float:
    """`cold`: an empty cache each run; `warm`: nothing changed since the last run;
    `edit`: one file's mtime moved since the last run (it must be read again)."""
    timings = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        if mode != "cold":
            timed(command, env)
        for run in range(runs):
            if mode == "cold":
                shutil.rmtree(Path(cache) / "mdfollow", ignore_errors=True)
            if mode == "edit" and edited is not None:
                stamp = edited.stat().st_mtime_ns + (run + 1) * 1_000_000_000
                os.utime(edited, ns=(stamp, stamp))
            timings.append(timed(command, env))
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    print(f"median of {args.runs} runs, seconds, {MDFOLLOW}")
    print(f"{'--help':28} {median_of(args.runs, [MDFOLLOW, '--help'], 'warm'):7.3f}")
    for size in (int(s) for s in args.sizes.split(",")):
        folder = HERE / "data" / f"n{size}"
        if not (folder / "mdfollow.toml").exists():
            generate(size, folder)
        for name, command in COMMANDS.items():
            full = [MDFOLLOW, "--dir", str(folder), "--today", TODAY, *command]
            edited = next(folder.glob("*/prospect-00000.md"))
            cold, warm, edit = (median_of(args.runs, full, mode, edited) for mode in ("cold", "warm", "edit"))
            print(f"{name + f' ({size:,})':28} cold {cold:7.3f}   warm {warm:7.3f}   one edit {edit:7.3f}")


if __name__ == "__main__":
    main()

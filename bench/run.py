"""Time mdfollow on generated folders beside the floor prototype and Taskwarrior; print medians.

    python3 tasks.py bench [--runs 5] [--sizes 1000,10000] [--no-serve]

Add 100000 to --sizes for a team's folder (opt-in: generating it writes 400 MB and a
cold run takes tens of seconds; Taskwarrior sits that size out, as its import alone
takes many minutes). "cold" runs start with an empty cache; "warm" runs
follow a run on the same, unchanged folder; "edit" runs follow a run after which one
file changed. Contenders run alternately within each round, so a machine shared with
other work slows them alike; each figure is the median of --runs wall-clock timings of
the whole process, startup included. The floor (bench/floor.py) is the least a `due`
can do in Python; Taskwarrior (`task`, when installed) gets the same prospects through
`task import`, with the follow-up dates as due dates and the touches as annotations.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from generate import generate  # noqa: E402

PYTHON = sys.executable
MDFOLLOW = str(Path(sys.executable).with_name("mdfollow"))
TODAY = "2026-11-30"
COMMANDS = {
    "due": ["due"],
    "list --json": ["list", "--json"],
    "check": ["check"],
    "ics": ["ics"],
}
MODES = ("cold", "warm", "edit")
Run = Callable[[], list[str]]
"""Prepares one timed run and gives its command."""


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def rounds(runs: int, contenders: dict[str, tuple[Run, dict[str, str] | None]]) -> dict[str, float]:
    """Each contender once per round, `runs` rounds: the medians by name."""
    timings: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, (prepare, env) in contenders.items():
            command = prepare()
            timings[name].append(timed(command, env))
    return {name: statistics.median(values) for name, values in timings.items()}


class Caches:
    """One XDG_CACHE_HOME per mode, so the modes do not disturb each other's caches."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.envs = {mode: {**os.environ, "XDG_CACHE_HOME": str(base / mode)} for mode in MODES}

    def contenders(self, command: list[str], edited: Path) -> dict[str, tuple[Run, dict[str, str] | None]]:
        def cold() -> list[str]:
            shutil.rmtree(self.base / "cold", ignore_errors=True)
            return command

        def warm() -> list[str]:
            timed(command, self.envs["warm"])  # take in whatever changed since: nothing changes now
            return command

        def edit() -> list[str]:
            timed(command, self.envs["edit"])
            stamp = time.time_ns()
            os.utime(edited, ns=(stamp, stamp))
            return command

        return {
            "cold": (cold, self.envs["cold"]),
            "warm": (warm, self.envs["warm"]),
            "edit": (edit, self.envs["edit"]),
        }


def taskwarrior(folder: Path, data: Path) -> dict[str, str] | None:
    """A Taskwarrior database of the folder's prospects; None without `task`."""
    task = shutil.which("task")
    if task is None:
        return None
    env = {**os.environ, "TASKDATA": str(data), "TASKRC": str(data / "taskrc")}
    if (data / "pending.data").exists():
        return env
    from mdfollow.core.schedule import schedule
    from mdfollow.store.folder import load_folder

    loaded = load_folder(folder)
    today = dt.date.fromisoformat(TODAY)
    tasks = []
    for follow_up in schedule(loaded.prospects, today, loaded.config):
        prospect = follow_up.prospect
        item = {
            "description": f"{prospect.name} — {prospect.company or ''}",
            "status": "pending",
            "entry": "20260101T000000Z",
            "project": "sales",
            "tags": list(prospect.tags),
            "annotations": [
                {"entry": t.date.strftime("%Y%m%dT000000Z"), "description": f"{t.channel}: {t.note}"}
                for t in prospect.touches
            ],
        }
        if follow_up.due is not None:
            item["due"] = follow_up.due.strftime("%Y%m%dT000000Z")
        tasks.append(item)
    data.mkdir(parents=True, exist_ok=True)
    (data / "taskrc").write_text(f"data.location={data}\nnews.version=2.6.0\n")
    (data / "import.json").write_text(json.dumps(tasks))
    subprocess.run(
        [task, *TASK_RC, "import", str(data / "import.json")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return env


TASK_RC = ["rc.confirmation=off", "rc.hooks=off", "rc.verbose=nothing"]
TASK_MAX = 10000
"""The largest folder given to Taskwarrior too."""


def serve_peak_rss(folder: Path, cache: Path) -> float | None:
    """Peak resident memory (MB) of `serve` over the folder, after its first build and one request."""
    import urllib.request

    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONUNBUFFERED": "1"}
    command = [MDFOLLOW, "--dir", str(folder), "--today", TODAY, "serve", "--port", "0"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "Serving the follow-ups of … at http://…/feed.ics"
        url = line.rsplit(" ", 1)[-1].strip()
        if not url.startswith("http"):
            return None
        with urllib.request.urlopen(url, timeout=120) as response:
            response.read()
        status = Path(f"/proc/{process.pid}/status").read_text()
        peak = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(peak.split()[1]) / 1024
    except (OSError, StopIteration):
        return None
    finally:
        process.terminate()
        process.wait(10)


def ratio(value: float | None, base: float | None, target: float) -> str:
    if value is None or not base:
        return "n/a"
    measured = value / base
    return f"{measured:5.2f}x  (target <= {target}x: {'met' if measured <= target else 'NOT met'})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--no-serve", action="store_true", help="Skip the serve memory measurement.")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="mdfollow-bench-"))
    load = os.getloadavg()[0]
    print(f"{MDFOLLOW}; median of {args.runs} alternating runs, wall seconds; today {TODAY}")
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at the start (other work slows all)")
    results: dict[tuple[int, str, str], float] = {}
    try:
        bare = rounds(args.runs, {"python": (lambda: [PYTHON, "-c", "pass"], None)})["python"]
        helped = rounds(args.runs, {"help": (lambda: [MDFOLLOW, "--help"], None)})["help"]
        for size in sizes:
            folder = HERE / "data" / f"n{size}"
            if not (folder / "mdfollow.toml").exists():
                print(f"generating {size:,} prospects in {folder} ...", file=sys.stderr)
                generate(size, folder)
            edited = next(folder.glob("*/prospect-00000.md"))
            caches = Caches(work / f"cache{size}")
            floor = [PYTHON, str(HERE / "floor.py"), str(folder), TODAY]
            # `task import` of 100k takes many minutes, and the 100k targets are against the floor.
            tw_env = taskwarrior(folder, work / f"task{size}") if size <= TASK_MAX else None
            for name, words in COMMANDS.items():
                full = [MDFOLLOW, "--dir", str(folder), "--today", TODAY, *words]
                contenders = caches.contenders(full, edited)
                if name == "due":
                    contenders["floor"] = (lambda floor=floor: floor, None)
                    if tw_env is not None:
                        contenders["taskwarrior"] = (
                            lambda: ["task", *TASK_RC, "due.before:eow", "list"],
                            tw_env,
                        )
                if name == "ics" and (HERE / "ics_floor.py").exists():
                    command = [
                        PYTHON,
                        str(HERE / "ics_floor.py"),
                        "--floor",
                        str(folder),
                        str(work / "floor.ics"),
                    ]
                    contenders["floor"] = (lambda command=command: command, None)
                for contender, median in rounds(args.runs, contenders).items():
                    results[(size, name, contender)] = median
            if size == 10000 or (size == sizes[-1] and 10000 not in sizes):
                target = next(p for p in sorted(folder.glob("*/prospect-0004*.md")))
                original = target.read_bytes()
                try:
                    reference = ["--dir", str(folder), "--today", TODAY]
                    one = {
                        "show": ([MDFOLLOW, *reference, "show", target.stem], caches.envs["warm"]),
                        "log": (
                            [MDFOLLOW, *reference, "log", target.stem, "call", "left a voicemail"],
                            caches.envs["warm"],
                        ),
                    }
                    contenders = {
                        name: (lambda command=command: command, env) for name, (command, env) in one.items()
                    }
                    if tw_env is not None:
                        annotate = ["task", *TASK_RC, "42", "annotate", "left a voicemail"]
                        contenders["task annotate"] = (lambda annotate=annotate: annotate, tw_env)
                    for contender, median in rounds(args.runs, contenders).items():
                        results[(size, "one", contender)] = median
                finally:
                    target.write_bytes(original)
                if not args.no_serve:
                    rss = serve_peak_rss(folder, work / "serve-cache")
                    if rss is not None:
                        results[(size, "serve", "rss")] = rss
        report(results, sizes, bare, helped)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[tuple[int, str, str], float], sizes: list[int], bare: float, helped: float) -> None:
    def cell(key: tuple[int, str, str]) -> str:
        return f"{results[key]:6.3f}" if key in results else "     -"

    header = "".join(f"| {size:>8,} cold   warm   edit " for size in sizes)
    print(f"\n{'work':28}{header}")
    for name in COMMANDS:
        row = "".join(
            f"| {cell((s, name, 'cold'))} {cell((s, name, 'warm'))} {cell((s, name, 'edit'))} " for s in sizes
        )
        print(f"{'mdfollow ' + name:28}{row}")
        for other in ("floor", "taskwarrior"):
            if any((s, name, other) in results for s in sizes):
                row = "".join(f"| {cell((s, name, other))}               " for s in sizes)
                label = {"floor": "floor prototype", "taskwarrior": "task due.before:eow list"}[other]
                print(f"{'  ' + label:28}{row}")
    for (size, kind, name), value in sorted(results.items()):
        if kind == "one":
            print(f"{name + f' ({size:,})':28}| {value:6.3f}")
    print(f"{'python -c pass':28}| {bare:6.3f}")
    print(f"{'mdfollow --help':28}| {helped:6.3f}")
    for (size, kind, _), value in results.items():
        if kind == "serve":
            print(f"{f'serve peak RSS ({size:,})':28}| {value:6.1f} MB (target < 150 MB)")

    def get(size: int, name: str, contender: str) -> float | None:
        return results.get((size, name, contender))

    print("\nratios to the targets of issue 15 (same run):")
    lines = [
        ("due 10k cold / Taskwarrior", get(10000, "due", "cold"), get(10000, "due", "taskwarrior"), 1.0),
        ("due 10k warm / Taskwarrior", get(10000, "due", "warm"), get(10000, "due", "taskwarrior"), 0.3),
        ("due 10k edit / Taskwarrior", get(10000, "due", "edit"), get(10000, "due", "taskwarrior"), 0.35),
        ("due 1k cold / floor", get(1000, "due", "cold"), get(1000, "due", "floor"), 2.0),
        ("due 1k edit / floor", get(1000, "due", "edit"), get(1000, "due", "floor"), 1.3),
        ("due 100k cold / floor", get(100000, "due", "cold"), get(100000, "due", "floor"), 1.0),
        ("due 100k edit / floor", get(100000, "due", "edit"), get(100000, "due", "floor"), 0.25),
        ("log 10k / task annotate", get(10000, "one", "log"), get(10000, "one", "task annotate"), 0.5),
        ("show 10k / task annotate", get(10000, "one", "show"), get(10000, "one", "task annotate"), 0.5),
        ("ics 10k cold / ics floor", get(10000, "ics", "cold"), get(10000, "ics", "floor"), 0.6),
        ("ics 10k edit / ics floor", get(10000, "ics", "edit"), get(10000, "ics", "floor"), 0.1),
        ("--help / python -c pass", helped, bare, 6.0),
    ]
    for label, value, base, target in lines:
        if value is not None and base is not None:
            print(f"  {label:28} {ratio(value, base, target)}")


if __name__ == "__main__":
    main()

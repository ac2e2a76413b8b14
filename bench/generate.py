"""Write N realistic prospect files into a folder, deterministically (seeded).

python bench/generate.py 10000 bench/data/10k
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

FIRST = ["Jane", "Omar", "Li", "Ana", "Ben", "Chloé", "Dmitri", "Eve", "Farah", "Goran", "Hana", "Ivo"]
LAST = ["Doe", "Khan", "Wei", "Silva", "Ng", "Dubois", "Petrov", "Adams", "Haddad", "Jovic", "Sato"]
COMPANY = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Soylent"]
CHANNELS = ["email", "call", "linkedin", "meeting", "text"]
STATUSES = ["active"] * 14 + ["won", "lost", "dnc"]
START = dt.date(2026, 6, 1)


def prospect(index: int, rng: random.Random) -> str:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    company = f"{rng.choice(COMPANY)} {index}"
    created = START + dt.timedelta(days=rng.randrange(150))
    lines = [
        "---",
        f"name: {name}",
        f"company: {company}",
        f"email: p{index}@example.com",
        f'phone: "+44 20 7946 {index % 10000:04d}"',
        f"status: {rng.choice(STATUSES)}",
        "source: generated",
        f"tags: [{rng.choice(['warm', 'cold'])}, lead{index % 7}]",
        f"created: {created}",
    ]
    if rng.random() < 0.2:
        lines.append(f"next: {created + dt.timedelta(days=rng.randrange(30, 200))}")
    lines += ["---", f"# {name} — {company}", "", "Generated prospect for benchmarks.", "", "## Touches"]
    day = created
    for _ in range(rng.randrange(0, 12)):
        day += dt.timedelta(days=rng.randrange(1, 14))
        direction = " in" if rng.random() < 0.2 else ""
        lines.append(f"- {day} {rng.choice(CHANNELS)}{direction}: talked about order #{rng.randrange(9999)}")
    return "\n".join(lines) + "\n"


def generate(count: int, folder: Path) -> None:
    rng = random.Random(count)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mdfollow.toml").write_text("")
    for index in range(count):
        sub = folder / f"batch{index // 1000:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"prospect-{index:05d}.md").write_text(prospect(index, rng), encoding="utf-8")


if __name__ == "__main__":
    generate(int(sys.argv[1]), Path(sys.argv[2]))

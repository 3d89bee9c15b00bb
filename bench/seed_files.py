"""Many seed files for timing `cms seed`: copies of the back walk article under new slugs.

python -m bench.seed_files --count 10000 --out /tmp/seed-10k
time CMS_DATABASE_URL=sqlite:////tmp/seed-10k.db cms seed /tmp/seed-10k
python -m bench.run --seed-files 10000 ...   # the same, timed, into each run's scratch database
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

__all__ = ["time_cms_seed", "write_seed_files"]


def write_seed_files(count: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    text = (REPO / "seed" / "back-walk.yaml").read_text("utf-8")
    for n in range(count):
        slug = f"article-{n:06d}"
        (out / f"{slug}.yaml").write_text(text.replace("slug: back-walk", f"slug: {slug}", 1))


def time_cms_seed(database_url: str, count: int, out: Path) -> dict[str, Any]:
    """Write `count` seed files into `out` and time `cms seed out` into `database_url` (an
    empty database): wall seconds, and the CPU seconds the command used, which a busy machine
    skews less."""
    write_seed_files(count, out)
    env = {**os.environ, "CMS_DATABASE_URL": database_url, "PYTHONPATH": str(REPO)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "cms", "seed", str(out)],
        env=env, cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(f"cms seed failed:\n{completed.stderr[-2000:]}")
    return {
        "files": count,
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "output": completed.stdout.strip().splitlines()[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args()
    write_seed_files(arguments.count, arguments.out)


if __name__ == "__main__":
    main()

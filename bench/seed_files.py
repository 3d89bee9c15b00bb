"""Many seed files for timing `cms seed`: copies of the back walk article under new slugs.

python -m bench.seed_files --count 10000 --out /tmp/seed-10k
time CMS_DATABASE_URL=sqlite:////tmp/seed-10k.db cms seed /tmp/seed-10k
python -m bench.run --seed-files 10000 ...   # the same, timed, into each run's scratch database
python -m bench.seed_files --count 10000 --out /tmp/seed-10k --time \
    --database-url postgresql://postgres@127.0.0.1:5432/postgres   # SQLite, then PostgreSQL
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
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


def time_cms_seed(
    database_url: str, count: int, out: Path, *, again: bool = False
) -> dict[str, Any]:
    """Write `count` seed files into `out` and time `cms seed out` into `database_url` (an
    empty database): wall seconds, and the CPU seconds the command used, which a busy machine
    skews less. With `again`, the same seed is run a second time (every file unchanged) and
    timed as `again_wall_s` / `again_cpu_s`."""
    write_seed_files(count, out)
    result: dict[str, Any] = {"files": count}
    for prefix in ("", "again_") if again else ("",):
        wall, cpu, output = _run_cms_seed(database_url, out)
        result.update({f"{prefix}wall_s": wall, f"{prefix}cpu_s": cpu, f"{prefix}output": output})
    return result


def _run_cms_seed(database_url: str, out: Path) -> tuple[float, float, str]:
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
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, completed.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--time", action="store_true", help="time cms seed (and a rerun) into scratch databases"
    )
    parser.add_argument(
        "--database-url", help="a PostgreSQL server to time on too (a scratch database on it)"
    )
    arguments = parser.parse_args()
    if not arguments.time:
        write_seed_files(arguments.count, arguments.out)
        return
    from bench.databases import scratch_database

    with tempfile.TemporaryDirectory() as workdir:
        for server in (None, arguments.database_url) if arguments.database_url else (None,):
            with scratch_database(server, Path(workdir), "bench_seed") as url:
                result = time_cms_seed(url, arguments.count, arguments.out, again=True)
            name = "postgresql" if server else "sqlite"
            print(  # noqa: T201
                f"{name}: {result['files']} files in {result['wall_s']:.1f} s wall, "
                f"{result['cpu_s']:.1f} s CPU; again (unchanged) {result['again_wall_s']:.1f} s "
                f"wall, {result['again_cpu_s']:.1f} s CPU; {result['again_output']}"
            )


if __name__ == "__main__":
    main()

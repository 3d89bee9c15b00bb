"""Many seed files for timing `cms seed`: copies of the back walk article under new slugs.

python -m bench.seed_files --count 10000 --out /tmp/seed-10k
time CMS_DATABASE_URL=sqlite:////tmp/seed-10k.db cms seed /tmp/seed-10k
"""

from __future__ import annotations

import argparse
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def write_seed_files(count: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    text = (REPO / "seed" / "back-walk.yaml").read_text("utf-8")
    for n in range(count):
        slug = f"article-{n:06d}"
        (out / f"{slug}.yaml").write_text(text.replace("slug: back-walk", f"slug: {slug}", 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args()
    write_seed_files(arguments.count, arguments.out)


if __name__ == "__main__":
    main()

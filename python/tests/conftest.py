"""Shared fixtures: the repository's fixtures/ folder and the CLI binary to compare against.

`MINDEE_PREP_BIN` must name a built `mindee-prep` binary (`make test` passes
target/debug/mindee-prep). Without it the tests that need it fail: they never skip.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"


def fixture_files():
    """Every file the CLI finds in the fixture folders, as it expands them (sorted, no hidden)."""
    files = []
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            files += [Path(dirpath) / f for f in sorted(filenames) if not f.startswith(".")]
    return files


@pytest.fixture(scope="session")
def cli_bin():
    path = os.environ.get("MINDEE_PREP_BIN")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"MINDEE_PREP_BIN must name the mindee-prep binary (got {path!r})")
    return path


@pytest.fixture(scope="session")
def cli_lines(cli_bin, tmp_path_factory):
    """`mindee-prep prepare <every fixture folder> -o OUT --json`, by input path."""
    out = tmp_path_factory.mktemp("cli-out")
    folders = sorted(str(p) for p in FIXTURES.iterdir() if p.is_dir())
    run = subprocess.run(
        [cli_bin, "prepare", *folders, "-o", str(out), "--json", "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode in (0, 1), run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    return {str(Path(line["input"]).resolve()): line for line in lines}

"""Every benchmark the README names runs as written: it imports, and its argument parser answers
--help and refuses what it does not know (a broken benchmark fails CI, not its next user)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # each imports what it measures: TensorFlow, a browser driver
ROOT = Path(__file__).parents[1]
NAMED = sorted(set(re.findall(r"python -m bench\.(\w+)", (ROOT / "README.md").read_text())))


def test_the_readme_names_every_benchmark():
    assert sorted(path.stem for path in (ROOT / "bench").glob("bench_*.py")) == NAMED


@pytest.mark.parametrize("name", NAMED)
def test_a_benchmark_parses_its_arguments(name):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", f"bench.{name}", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
        )

    helped = run("--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage:"), helped.stderr[-2000:]
    refused = run("--no-such-option")  # argparse's refusal: a usage line and the error, exit 2
    assert refused.returncode == 2 and refused.stderr.startswith("usage:") and "error:" in refused.stderr

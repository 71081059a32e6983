"""Every benchmark the README names runs as written: it imports, and its argument parser answers
--help and refuses what it does not know (a broken benchmark fails CI, not its next user)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
NAMED = sorted(set(re.findall(r"python -m bench\.(\w+)", (ROOT / "README.md").read_text())))
# each benchmark run as `python -m`, in one process (TensorFlow imported once): its exit codes
# with --help and with an unknown option, and whether that option's refusal said so
EXITS = """
import contextlib, io, runpy, sys, warnings
# a benchmark another one imports is in sys.modules before it runs: runpy's warning says only that
warnings.simplefilter("ignore", RuntimeWarning)
for name in sys.argv[1:]:
    codes = []
    for option in ("--help", "--no-such-option"):
        sys.argv, said = [name, option], io.StringIO()
        with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
            try:
                runpy.run_module(f"bench.{name}", run_name="__main__")
            except SystemExit as end:
                codes.append(end.code)
        codes.append(said.getvalue().startswith("usage:"))
    print(name, *codes)
"""


def test_the_readme_names_every_benchmark():
    assert sorted(path.stem for path in (ROOT / "bench").glob("bench_*.py")) == NAMED


def test_every_benchmark_parses_its_arguments():
    done = subprocess.run([sys.executable, "-c", EXITS, *NAMED], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == [f"{name} 0 True 2 True" for name in NAMED]

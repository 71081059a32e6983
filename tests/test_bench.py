"""Every benchmark bench/README.md names runs as written: it imports, and its argument parser answers
--help and refuses what it does not know; and those that can run small do, at the smallest
configuration their options allow, printing their `name: value` lines and nothing else (a broken
benchmark fails CI, not its next user)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.bench_phone import OPEN_SECONDS

ROOT = Path(__file__).parents[1]
NAMED = sorted(set(re.findall(r"python -m bench\.(\w+)", (ROOT / "bench" / "README.md").read_text())))
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


def test_the_catalogue_names_every_benchmark():
    assert sorted(path.stem for path in (ROOT / "bench").glob("bench_*.py")) == NAMED


def test_every_benchmark_parses_its_arguments():
    done = subprocess.run([sys.executable, "-c", EXITS, *NAMED], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == [f"{name} 0 True 2 True" for name in NAMED]


# each benchmark's smallest run, and the names it must print; the page benchmarks on one page
# (test_pages and test_browser open every page, with the same code). Not here: bench_app,
# bench_demo and bench_load (every one trains or warms the default view of 60,000 images, minutes
# on 2 cores), bench_host (it runs the container's image) and bench_chaos (test_stack runs its chaos)
SMALLEST = {
    "bench_training": (
        ["--epochs", "2", "--runs", "1", "--rounds", "1", "--engine", "tf_keras", "keras3_jax", "--subset", "2000"],
        [
            "fit_s_per_epoch keras3_jax",
            "numpy_s_per_epoch",
            "trainer_over_floor keras3_jax",
            "keras_step_share tf_keras",
            "speedup",
        ],
    ),
    "bench_pages": (["--epochs", "1", "--subset", "100", "--page", "reproduce"], ["reproduce_cold_s", "reproduce_warm_s"]),
    "bench_surface": (
        ["--points", "3", "--keras-points", "1", "--page-epochs", "1", "--page-subset", "100", "--arrivals", "1"],
        [
            "grid_seconds",
            "max_relative_error",
            "kernels_compile_s",
            "control_change_s",
            "control_change_each_s",
            "control_change_after_prefetch_s",
        ],
    ),
    "bench_phone": (
        ["--query", "num_epochs=1&train_subset=100", "--page", "your_case"],
        ["screen_width_px", "widest_px your_case"],
    ),
    "bench_code": (["--repeats", "1"], ["read_2000_lines_s", "read_largest_paste_s", "page_after_paste_s"]),
}
FIGURE = re.compile(r"^[\w ]+: \S")


def benchmark(name: str, arguments: list[str], cache: Path, mnist_path, timeout_s: float) -> subprocess.CompletedProcess:
    """`python -m bench.<name> <arguments>` on an empty cache and the MNIST file at `mnist_path`."""
    environment = os.environ | {"EXPLAINER_CACHE_DIR": str(cache), "MNIST_NPZ": str(mnist_path)}
    command = [sys.executable, "-m", f"bench.{name}", *arguments]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout_s)


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(SMALLEST))
def test_a_benchmark_runs_at_its_smallest(name, tmp_path, mnist):
    arguments, names = SMALLEST[name]
    done = benchmark(name, arguments, tmp_path, mnist.source, timeout_s=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines and all(FIGURE.match(line) for line in lines), done.stdout
    printed = {line.split(":")[0] for line in lines}
    assert set(names) <= printed, printed
    assert "ScriptRunContext" not in done.stderr and "Traceback" not in done.stderr, done.stderr[-3000:]


@pytest.mark.integration
def test_a_page_that_cannot_render_stops_the_phone_benchmark_with_its_words(tmp_path):
    """Without MNIST the answer's page says so instead of rendering: the benchmark stops at once
    with the page's words (before, it waited for a chart that never came until the test's
    timeout, in silence). "At once" is well within the benchmark's own wait (OPEN_SECONDS): 12 s
    alone on a 2-core machine, over 120 s beside the container's build on the same one."""
    arguments = ["--query", "num_epochs=1&train_subset=100", "--page", "reproduce"]
    done = benchmark("bench_phone", arguments, tmp_path, tmp_path / "missing.npz", timeout_s=OPEN_SECONDS * 0.8)
    assert done.returncode != 0
    assert "reproduce shows: MNIST could not be loaded" in done.stderr, done.stderr[-3000:]


@pytest.mark.integration
def test_the_surface_benchmark_without_mnist_says_so(tmp_path):
    done = benchmark("bench_surface", SMALLEST["bench_surface"][0], tmp_path, tmp_path / "missing.npz", timeout_s=300)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "missing.npz" in done.stderr and "Traceback" not in done.stderr, done.stderr[-3000:]

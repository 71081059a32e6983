"""Workers die with their parent, however it ended: `kill -9` of the command line or of the
server mid-run leaves no worker and no resource tracker behind."""

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from bench.bench_load import Visit
from bench.serve import streamlit_server

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[1]
GONE_WITHIN_S = 5


def training(parent: int, cache: Path) -> list[psutil.Process]:
    """The parent's processes once a run is training (its progress file is written)."""
    deadline = time.monotonic() + 120
    while not any((cache / "progress").glob("*.json")):
        assert time.monotonic() < deadline, "no run started training"
        time.sleep(0.2)
    return psutil.Process(parent).children(recursive=True)


def killed_leaves_nothing(parent: subprocess.Popen | int, cache: Path) -> None:
    pid = parent if isinstance(parent, int) else parent.pid
    children = training(pid, cache)
    assert len(children) >= 2  # a worker and the resource tracker at least
    os.kill(pid, 9)
    _, alive = psutil.wait_procs(children, timeout=GONE_WITHIN_S)
    assert [process.cmdline()[-1][:60] for process in alive] == []


def test_killing_the_command_line_mid_run_leaves_no_worker(mnist, tmp_path):
    env = {**os.environ, "EXPLAINER_CACHE_DIR": str(tmp_path), "EXPLAINER_WORKERS": "1"}
    command = [sys.executable, "-m", "explainer", "run", "--epochs", "20"]
    cli = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        killed_leaves_nothing(cli, tmp_path)
    finally:
        cli.kill()
        cli.wait()


def test_killing_the_server_mid_run_leaves_no_worker(mnist, tmp_path):
    with streamlit_server({"EXPLAINER_CACHE_DIR": str(tmp_path), "EXPLAINER_WORKERS": "1"}) as (url, pid):
        visitor = threading.Thread(target=asyncio.run, args=(Visit("", "").run(url),))  # waits for its runs
        visitor.start()
        killed_leaves_nothing(pid, tmp_path)
        visitor.join(timeout=60)


def test_a_stopped_server_leaves_no_worker_writing_into_its_cache(mnist, tmp_path):
    """What the benchmarks and browser tests rely on when they remove a server's cache: once
    `streamlit_server` has returned, none of its processes is left (a cold server trains the
    landing answer at once, so its workers are busy writing when it stops)."""
    with streamlit_server({"EXPLAINER_CACHE_DIR": str(tmp_path)}) as (url, pid):
        children = training(pid, tmp_path)
    assert [process.pid for process in children if process.is_running()] == []

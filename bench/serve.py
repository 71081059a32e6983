"""A real `streamlit run app.py` on a free loopback port, the flags Debian's chromium needs here,
and the app in AppTest driven from a plain script; shared by the browser tests and the benchmarks."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.testing.v1 import AppTest

from explainer import cluster
from ui import source

ROOT = Path(__file__).parents[1]
SCRIPT_FINISHED = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
CHROMIUM = "/usr/bin/chromium"
# no background networking: this machine refuses it, many connections at a time
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# the loggers of Streamlit's warnings about running outside `streamlit run`
BARE_MODE_LOGGERS = (
    "streamlit",
    "streamlit.runtime.scriptrunner_utils.script_run_context",
    "streamlit.runtime.state.session_state_proxy",
)


def app_test(query: dict[str, str], timeout_s: float) -> AppTest:
    """The app in AppTest, opened from a link with `query`, for a benchmark. Driven from a plain
    script, AppTest touches its session outside any script run, and Streamlit warns on every
    such call ("missing ScriptRunContext ... can be ignored when running in bare mode", "use
    Streamlit in a file"): hundreds of lines around a benchmark's figures. Under pytest they are
    captured; here they are dropped (a filter: Streamlit resets its loggers' levels)."""
    for name in BARE_MODE_LOGGERS:
        logging.getLogger(name).addFilter(lambda record: record.levelno > logging.WARNING)
    test = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout_s)
    test.query_params.update(query)
    return test


@contextlib.contextmanager
def empty_cache() -> Iterator[str]:
    """A new cache directory for the app in this process, removed on exit once the app's service
    has stopped: a prefetch still running would go on writing into it as it is removed."""
    with tempfile.TemporaryDirectory() as directory:
        os.environ["EXPLAINER_CACHE_DIR"] = directory
        try:
            yield directory
        finally:
            source.service().shutdown()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(url: str, seconds: float = 60) -> bool:
    """Whether the Streamlit server at `url` answers "ok" on /_stcore/health within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return True
        time.sleep(0.25)
    return False


@contextlib.contextmanager
def streamlit_server(env: dict[str, str] | None = None, log=subprocess.DEVNULL) -> Iterator[tuple[str, int]]:
    """(url, pid) of a healthy server writing its output to `log`, stopped on exit with all its
    processes; RuntimeError if it never gets healthy."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        if not healthy(url):
            raise RuntimeError("streamlit did not become healthy within a minute")
        yield url, process.pid
    finally:
        stopped(process)


def stopped(process: subprocess.Popen) -> None:
    """`process` and every process under it ended. Its workers end by themselves up to a second
    after it (they watch their parent) and may write into its cache until then: a caller that
    removes the cache next would find it not empty."""
    family = []
    with contextlib.suppress(psutil.NoSuchProcess):
        family = psutil.Process(process.pid).children(recursive=True)
    process.terminate()
    process.wait(timeout=60)
    for survivor in psutil.wait_procs(family, timeout=0)[1]:
        survivor.kill()
    psutil.wait_procs(family, timeout=60)


@contextlib.contextmanager
def stack(env: dict[str, str] | None = None, log=subprocess.DEVNULL) -> Iterator[tuple[str, int]]:
    """(balancer's url, pid of the stack's script) of `sh deploy/stack.sh` on free ports, once the
    balancer answers and every Dask worker has joined; all of it stopped on exit."""
    ports = {"PORT": free_port(), "SCHEDULER_PORT": free_port()}
    replica = free_port()
    while {replica, replica + 1} & set(ports.values()):
        replica = free_port()
    environment = {
        **os.environ,
        **(env or {}),
        **{name: str(port) for name, port in ({**ports, "REPLICA_PORT": replica}).items()},
    }
    # a session of its own: stopping the stack stops its process group, not its caller's
    process = subprocess.Popen(
        ["sh", "deploy/stack.sh"], cwd=ROOT, env=environment, stdout=log, stderr=log, start_new_session=True
    )
    url = f"http://127.0.0.1:{ports['PORT']}"
    try:
        if not healthy(url, seconds=120):
            raise RuntimeError("the stack's balancer did not answer within two minutes")
        workers = sum(int(environment.get(f"{backend}_WORKERS", 1)) for backend in ("TENSORFLOW", "JAX"))
        cluster.client(f"tcp://127.0.0.1:{ports['SCHEDULER_PORT']}").wait_for_workers(workers, timeout=180)
        yield url, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def replicas(pid: int) -> list[psutil.Process]:
    """The Streamlit servers the stack whose script is `pid` started."""
    return [child for child in psutil.Process(pid).children(recursive=True) if "streamlit" in " ".join(child.cmdline())]


class ScriptRuns:
    """The script runs a page's server reports finished (Streamlit's `script_finished` message on
    the page's websocket): when a rerun is over, whether or not anything on the page showed it;
    and how many charts the server has sent the page (`charts`)."""

    def __init__(self, page):
        self.page, self.finished, self.charts = page, 0, 0
        page.on("websocket", lambda socket: socket.on("framereceived", self._received))

    def _received(self, payload) -> None:
        if isinstance(payload, bytes):
            message = ForwardMsg()
            message.ParseFromString(payload)
            kind = message.WhichOneof("type")
            if kind == "script_finished" and message.script_finished == SCRIPT_FINISHED:
                self.finished += 1
            elif kind == "delta" and message.delta.new_element.WhichOneof("type") == "vega_lite_chart":
                self.charts += 1

    def after(self, action, timeout_s: float = 600) -> float:
        """Seconds from `action()` to the end of the next script run it starts."""
        before, started = self.finished, time.perf_counter()
        action()
        while self.finished == before:
            if time.perf_counter() - started > timeout_s:
                raise TimeoutError("no script run finished")
            self.page.wait_for_timeout(20)  # Playwright delivers the frames while it waits
        return time.perf_counter() - started

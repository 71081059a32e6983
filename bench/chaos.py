"""The stack (`sh deploy/stack.sh`, serve.stack) under faults: with visitors' pages open, each
kind of process killed with -9 in turn (a replica; the TensorFlow Dask worker mid-run, not its
nanny; the scheduler mid-run, kept down a while, then started again by the stack's supervisor), and
how long every page takes to come back by itself. Shared by tests/test_stack.py (which asserts
what must hold) and bench/bench_chaos.py (which prints the seconds)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from bench.bench_phone import shown as words_shown
from bench.serve import CHROMIUM, CHROMIUM_ARGS, ScriptRuns, healthy
from explainer.store.cache import RunStore
from ui.reachable import UNREACHABLE  # what a page waiting for the cluster says while it is away

STORED = "num_epochs=1&train_subset=200"  # a view every page opens first: trained once, then stored
SHOWN = "Download the histories (CSV)"  # the end of a view's answer: it is shown
CSV_HEADER = "source,learning_rate,epoch"
VISITORS = 3
SECONDS = 300  # the longest any step may take before the run fails
LEFT_SECONDS = 1.0  # a temporary file still there this long after it was seen was left by a write that never ended


def untrained(seed: int) -> str:
    """A view nothing has trained yet: the answer's six runs, two epochs of half the images each
    (four of them in the TensorFlow worker, back to back: time enough to be killed mid-run)."""
    return f"seed={seed}&num_epochs=2&train_subset=30000"


def quiet(directory: Path, seconds: float = 2) -> None:
    """Until no run has trained for `seconds` (the replicas' head start on the landing page, or a
    prefetch, is over): what is measured then is what a fault costs, not a busy machine."""
    deadline, calm = time.monotonic() + SECONDS, time.monotonic() + seconds
    while time.monotonic() < calm:
        if any((directory / "progress").glob("*.json")):
            calm = time.monotonic() + seconds
        if time.monotonic() > deadline:
            raise TimeoutError("the stack never stopped training")
        time.sleep(0.1)


@dataclasses.dataclass
class Figures:
    stored_view_s: float = 0.0  # a visitor opening the stored view with nothing killed: what the others compare with
    untrained_view_s: float = 0.0  # a view trained with nothing killed: what the worker's and scheduler's compare with
    replica_back_s: list[float] = dataclasses.field(default_factory=list)  # each page open on the killed replica
    new_visitor_s: float = 0.0  # a visitor arriving right after the replica was killed, to the view shown
    worker_back_s: float = 0.0  # the worker killed mid-run, to its page's view shown
    unreachable_said_s: float = 0.0  # the scheduler killed, to its waiting page saying so
    scheduler_return_to_shown_s: float = 0.0  # the scheduler answering again, to its waiting page's view shown
    downloads_lost: int = 0  # pages back from the killed replica whose CSV download then fails
    exceptions: int = 0  # tracebacks on any page, at the end
    written_twice: list[str] = dataclasses.field(default_factory=list)
    unreadable: list[str] = dataclasses.field(default_factory=list)  # entries that do not load, and temporary files left


class Visitor:
    """A browser page open on the stack at `query`, its script runs counted."""

    def __init__(self, browser, url: str, query: str):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.runs = ScriptRuns(self.page)
        self.page.goto(f"{url}/?{query}")

    @property
    def replica(self) -> str:
        return next(cookie["value"] for cookie in self.context.cookies() if cookie["name"] == "EXPLAINER_REPLICA")

    def shown(self, since: float) -> float:
        """Seconds from `since` (perf_counter) until the page shows its view."""
        return self.says(SHOWN, since)

    def idle(self) -> int:
        """Once the page's script run has ended (a page still running is run again on any
        reconnection; an idle one only if it asks for it): how many have ended."""
        deadline = time.perf_counter() + SECONDS
        while not self.runs.finished:
            if time.perf_counter() > deadline:
                raise TimeoutError("the page's script run never ended")
            self.page.wait_for_timeout(20)
        return self.runs.finished

    def back(self, finished: int) -> bool:
        """Whether a script run after the first `finished` has ended and the page shows its view."""
        return self.runs.finished > finished and self.page.get_by_text(SHOWN).is_visible()

    def downloads(self) -> bool:
        """Whether the view's CSV download reaches the replica that holds it (in its memory)."""
        with self.page.expect_download() as download:
            self.page.get_by_text(SHOWN).click()
        path = download.value.path()
        return path is not None and Path(path).read_text().startswith(CSV_HEADER)

    def says(self, text: str, since: float) -> float:
        """Seconds from `since` until the page shows `text`; TimeoutError with what it shows
        instead after SECONDS."""
        try:
            self.page.get_by_text(text).first.wait_for(timeout=SECONDS * 1000)
        except PlaywrightTimeout:
            raise TimeoutError(f"{text!r} not shown in {SECONDS} s; the page shows: {words_shown(self.page)}") from None
        return time.perf_counter() - since

    def exceptions(self) -> int:
        return self.page.locator("[data-testid='stException']").count()


class Writes:
    """Every store entry's file from now on, looked at every 50 ms: an entry is written whole into
    a new file renamed into place, so a key written twice shows as two files (inodes)."""

    def __init__(self, directory: Path):
        self.directory, self.files, self._done = directory, {}, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            for path in [*self.directory.glob("*.npz"), *self.directory.glob("derived/*.npz")]:
                with contextlib.suppress(FileNotFoundError):  # discarded meanwhile
                    self.files.setdefault(path.name, set()).add(path.stat().st_ino)

    def twice(self) -> list[str]:
        self._done.set()
        self._thread.join()
        return sorted(name for name, inodes in self.files.items() if len(inodes) > 1)


def unreadable(directory: Path) -> list[str]:
    """Entries that do not load whole, and temporary files left by a write that never ended: a
    write names its file only for the moment before its rename (RunStore), so one still there
    LEFT_SECONDS later was left (a prefetch may be writing as this looks)."""
    store = RunStore(directory)
    temporary = set(directory.glob("**/*.tmp"))
    broken = [path.name for path in directory.glob("*.npz") if store.load(path.stem) is None]
    broken += [f"derived/{path.name}" for path in directory.glob("derived/*.npz") if store.read_arrays(path.stem) is None]
    time.sleep(LEFT_SECONDS)
    return broken + sorted(str(path.relative_to(directory)) for path in temporary if path.exists())


def times(conditions: list[Callable[[], bool]], since: float, page) -> list[float]:
    """Seconds from `since` until each condition first held, all of them watched together (pages
    come back side by side: timed one after another, each would wait for those before it), while
    `page` waits (Playwright's sync API delivers every page's frames then)."""
    held: list[float | None] = [None] * len(conditions)
    while None in held:
        for index, condition in enumerate(conditions):
            if held[index] is None and condition():
                held[index] = time.perf_counter() - since
        if time.perf_counter() - since > SECONDS:
            raise TimeoutError("a page did not come back")
        page.wait_for_timeout(20)
    return held


def descendants(pid: int, *words: str) -> list[psutil.Process]:
    """The stack's processes whose command line holds every one of `words`."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            if all(word in child.cmdline() for word in words):
                found.append(child)
    return found


def replica(pid: int, name: str) -> psutil.Process:
    """The Streamlit replica the balancer calls `name` (replica1, replica2: its port's order)."""
    replicas = sorted(descendants(pid, "streamlit", "run"), key=lambda process: option(process, "--server.port"))
    return replicas[int(name.removeprefix("replica")) - 1]


def option(process: psutil.Process, name: str) -> int:
    """The number after `name` on the process's command line."""
    words = process.cmdline()
    return int(words[words.index(name) + 1])


def worker(pid: int, backend: str) -> psutil.Process:
    """The Dask worker process of `backend` (the nanny's child: the nanny starts it again)."""
    (nanny,) = descendants(pid, "worker", backend)
    (process,) = [child for child in nanny.children() if "spawn_main" in " ".join(child.cmdline())]
    return process


def mid_run(directory: Path, since: float) -> None:
    """Until a run has reported progress after `since` (time.time()): a run is training."""
    deadline = time.monotonic() + SECONDS
    while not any(path.stat().st_mtime > since for path in (directory / "progress").glob("*.json") if path.exists()):
        if time.monotonic() > deadline:
            raise TimeoutError("no run started training")
        time.sleep(0.05)


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def run(url: str, pid: int, directory: Path, seed: int = 101, reference: bool = False) -> Figures:
    """Every kind of kill in turn under open pages; raises TimeoutError when a page never comes back.
    `reference`: first, on a quiet stack, the same visits with nothing killed (what to compare with)."""
    figures, writes = Figures(), Writes(directory)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        visitors = []
        for _ in range(VISITORS):  # one after another: the first waits for the view to train, the others read it
            visitors.append(Visitor(browser, url, STORED))  # (a page waiting costs its browser about half a core)
            visitors[-1].shown(time.perf_counter())
        if reference:
            quiet(directory)
            figures.stored_view_s = Visitor(browser, url, STORED).shown(time.perf_counter())
            figures.untrained_view_s = Visitor(browser, url, untrained(seed + 2)).shown(time.perf_counter())
            quiet(directory)

        # a replica: every page open on it comes back on the other one, and a new visitor is served
        killed = visitors[0].replica
        on_it = [(visitor, visitor.idle()) for visitor in visitors if visitor.replica == killed]
        process = replica(pid, killed)
        port = option(process, "--server.port")
        since = time.perf_counter()
        process.send_signal(signal.SIGKILL)
        newcomer = Visitor(browser, url, STORED)
        conditions = [functools.partial(visitor.back, finished) for visitor, finished in on_it]
        arrived = newcomer.page.get_by_text(SHOWN).is_visible
        *figures.replica_back_s, figures.new_visitor_s = times([*conditions, arrived], since, newcomer.page)
        figures.downloads_lost = sum(not visitor.downloads() for visitor, _ in on_it)
        visitors.append(newcomer)
        if not healthy(f"http://127.0.0.1:{port}", seconds=SECONDS):  # started again by the supervisor
            raise TimeoutError("the killed replica was not started again")

        # the TensorFlow worker, mid-run: its nanny starts it again and the run is given again
        started = time.time()
        training = Visitor(browser, url, untrained(seed))
        mid_run(directory, started)
        since = time.perf_counter()
        worker(pid, "tensorflow").send_signal(signal.SIGKILL)
        figures.worker_back_s = training.shown(since)
        visitors.append(training)

        # the scheduler, mid-run, kept down (its supervisor paused) until the waiting page says so,
        # then started again by the supervisor: the page goes on by itself
        started = time.time()
        waiting = Visitor(browser, url, untrained(seed + 1))
        mid_run(directory, started)
        (scheduler,) = descendants(pid, "scheduler")
        scheduler_port = option(scheduler, "--port")
        supervisor = psutil.Process(scheduler.ppid())
        supervisor.suspend()
        since = time.perf_counter()
        scheduler.send_signal(signal.SIGKILL)
        figures.unreachable_said_s = waiting.says(UNREACHABLE, since)
        supervisor.resume()
        while not answers(scheduler_port):
            time.sleep(0.05)
        figures.scheduler_return_to_shown_s = waiting.shown(time.perf_counter())
        visitors.append(waiting)

        figures.exceptions = sum(visitor.exceptions() for visitor in visitors)
        browser.close()
    figures.written_twice = writes.twice()
    figures.unreadable = unreadable(directory)
    return figures

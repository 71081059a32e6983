"""The app as visitors use it: a real `streamlit run app.py` on an empty private cache, driven by
Playwright in Debian's chromium. Prints `name: value` lines:

server_rss_mb      the server's resident memory after 20 sidebar toggles to untrained views (1 epoch)
worker_peak_mb     the largest resident memory of any worker process, sampled throughout
toggle_cold_s      one toggle (to x / 255) at the default run length: its 4 runs trained and shown
toggle_cold_page_s the same toggle until the whole page is done (the 7-run sweep included)
toggle_warm_s      a toggle back to the trained view
single_s           one session opening an untrained view (1 epoch)
concurrent_8_s     8 sessions opening another untrained view at once; then the CPU seconds it took
                   in the server, its workers and the browser, the exception boxes shown, and
                   trained_once: no cache entry was written twice during the whole benchmark
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import tempfile
import threading
import time
from pathlib import Path

import psutil
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from bench.serve import CHROMIUM, CHROMIUM_ARGS, streamlit_server

ROOT = Path(__file__).parents[1]
RUNNING = "[data-testid='stStatusWidgetRunningIcon']"
EXCEPTION = "[data-testid='stException']"
# sidebar labels (app.LABELS, or a unique part of one) to click through: every combination is a
# view nobody has trained
TOGGLES = {
    "Input scaling": ["raw pixels 0-255 (question)", "x / 255", "standardized per pixel"],
    "Optimizer": ["SGD (question)", "RMSprop", "Adam"],
    "Output activation": ["sigmoid (question)", "softmax"],
    "Keras engine": ["tf.keras 2", "Keras 3"],
}
TIMEOUT_MS = 600_000


class Sampler(threading.Thread):
    """Twice a second: the resident memory of every process under the server, the CPU time of
    the server, of its workers and of the browser (per process, so that workers replaced in
    between are counted), and which file each cache entry is (written twice: trained twice)."""

    def __init__(self, pid: int, cache: Path):
        super().__init__(daemon=True)
        self.server, self.cache, self.stopped = psutil.Process(pid), cache, threading.Event()
        self.peak_mb, self.cpu, self.files = 0.0, {}, {}

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            groups = {"server": [self.server], "workers": self.server.children(recursive=True)}
            groups["browser"] = psutil.Process().children(recursive=True)
            for group, processes in groups.items():
                for process in processes:
                    with contextlib.suppress(psutil.Error):  # a process may exit between the calls
                        times = process.cpu_times()
                        self.cpu[group, process.pid] = times.user + times.system
                        if group == "workers":
                            self.peak_mb = max(self.peak_mb, process.memory_info().rss / 2**20)
            for entry in self.cache.glob("*.npz"):
                with contextlib.suppress(OSError):
                    self.files.setdefault(entry.name, set()).add(entry.stat().st_ino)

    def cpu_seconds(self) -> dict[str, float]:
        totals = dict.fromkeys(("server", "workers", "browser"), 0.0)
        for (group, _), seconds in list(self.cpu.items()):
            totals[group] += seconds
        return totals

    def written_twice(self) -> int:
        return sum(len(inodes) > 1 for inodes in list(self.files.values()))


def settle(page) -> None:
    """Wait for the script run a click or a visit started to finish."""
    with contextlib.suppress(PlaywrightTimeout):  # a fast run may have finished before we looked
        page.locator(RUNNING).first.wait_for(state="visible", timeout=2000)
    page.locator(RUNNING).first.wait_for(state="hidden", timeout=TIMEOUT_MS)


def finished(page) -> bool:
    """The Reproduce page is done: its last section is drawn and no script is running."""
    return page.locator(RUNNING).count() == 0 and page.get_by_text("log-log slope").count() > 0


def all_finished(pages: list) -> None:
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not all(finished(page) for page in pages):
        if time.monotonic() > deadline:
            raise TimeoutError("the pages did not finish")
        time.sleep(0.1)


def loss_ratio_shown(page, condition: str) -> None:
    """Wait until the first loss ratio on the page (the bold figure after "Loss ratio, last epoch: ")
    satisfies `condition` (JS, on `r`): about 3 on raw pixels, below 2 on x / 255, so it tells
    which view is on screen."""
    page.wait_for_function(
        "() => { const m = [...document.querySelectorAll(\"[data-testid='stMarkdownContainer'] strong\")].find("
        "b => b.previousSibling && b.previousSibling.textContent.endsWith('Loss ratio, last epoch: ')); "
        f"const r = m && parseFloat(m.innerText); return m && ({condition}); }}",
        timeout=TIMEOUT_MS,
    )


def click(page, group: str, label: str) -> None:
    page.locator("[data-testid='stSidebar']").get_by_role("radiogroup", name=group).get_by_text(label).first.click()


def visit(browser, url: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(url, wait_until="commit")  # the script run starts with the session; don't wait for more
    return page


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--toggles", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache, sync_playwright() as playwright, contextlib.ExitStack() as stack:
        url, pid = stack.enter_context(streamlit_server({"EXPLAINER_CACHE_DIR": cache}))
        sampler = Sampler(pid, Path(cache))
        sampler.start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = visit(browser, url)  # the default view, trained first (not measured)
            settle(page)

            loss_ratio_shown(page, "r > 2")
            started = time.perf_counter()
            click(page, "Input scaling", "x / 255")
            loss_ratio_shown(page, "r < 2")
            print(f"toggle_cold_s: {time.perf_counter() - started:.1f}", flush=True)
            settle(page)
            print(f"toggle_cold_page_s: {time.perf_counter() - started:.1f}", flush=True)
            warm = timed(lambda: (click(page, "Input scaling", "raw pixels 0-255 (question)"), loss_ratio_shown(page, "r > 2")))
            print(f"toggle_warm_s: {warm:.2f}", flush=True)
            settle(page)

            page = visit(browser, f"{url}/?num_epochs=1")
            settle(page)
            views = itertools.islice(itertools.product(*TOGGLES.values()), 1, args.toggles + 1)
            for view in views:
                for group, label in zip(TOGGLES, view):
                    click(page, group, label)
                    settle(page)
                    if page.locator(EXCEPTION).count():
                        raise RuntimeError(f"{view}, after {label}: {page.locator(EXCEPTION).first.inner_text()}")
            if page.locator(EXCEPTION).count():
                raise RuntimeError(f"an exception box after the toggles: {page.locator(EXCEPTION).first.inner_text()}")
            print(f"server_rss_mb: {psutil.Process(pid).memory_info().rss / 2**20:.0f}", flush=True)

            single = timed(lambda: all_finished([visit(browser, f"{url}/?num_epochs=1&seed=101")]))
            print(f"single_s: {single:.1f}", flush=True)
            before = sampler.cpu_seconds()
            started = time.perf_counter()
            pages = [visit(browser, f"{url}/?num_epochs=1&seed=102") for _ in range(8)]
            all_finished(pages)
            print(f"concurrent_8_s: {time.perf_counter() - started:.1f}", flush=True)
            time.sleep(1)  # one more sample
            for name, seconds in sampler.cpu_seconds().items():
                print(f"concurrent_cpu_{name}_s: {seconds - before[name]:.1f}")
            print(f"concurrent_exceptions: {sum(each.locator(EXCEPTION).count() for each in pages)}")
            print(f"trained_once: {str(sampler.written_twice() == 0).lower()}")
            print(f"worker_peak_mb: {sampler.peak_mb:.0f}")
        finally:
            sampler.stopped.set()
            browser.close()


if __name__ == "__main__":
    main()

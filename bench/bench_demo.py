"""The shared demo as its visitors meet it: the app served as the container serves it
(deploy/serve.sh), in Chromium. Prints `name: value` lines:

warm_all_s           `python -m explainer warm --all` into the cache (only when it was not warm)
cache_mb             the warm cache's size on disk
first_page_s         per page, on a freshly started server over the warm cache, as a reader meets
                     them: the landing page from a link, then each page from the sidebar's
                     navigation, once the previous page's script run is over; until its last
                     section is drawn (goal <= 1.5)
shared_link_s        per page, on the same server: a new visitor (an empty browser cache) opening a
                     link to that page, until its last section is drawn
shared_link_frame_s  the same visit, until the browser has loaded and run Streamlit's own scripts
                     (the page's frame is up; nothing of the page's script run is drawn yet)
shared_link_charts_s the same visit, until every chart the server sent has drawn its marks
toggle_s             per single sidebar change from the default view, until the server reports its
                     script run finished (goal <= 1 each)
cold_first_page_s    an empty cache, the first visitor of the default page: until the page shows
                     something (its title and what it is training)
cold_answer_s        the same visit, until the answer's sentences are there

Usage: python -m bench.bench_demo --cache DIR (warmed with `warm --all` first if it is not).
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.bench_app import click, settle
from bench.serve import CHROMIUM, CHROMIUM_ARGS, ScriptRuns, streamlit_server
from ui import pages

ROOT = Path(__file__).parents[1]
VIEW_PAGES = [page for page in pages.PAGES if page.view]
LANDING = pages.PAGES[0]
# the single sidebar changes from the default view: (radio group, option label)
TOGGLES = [
    ("Keras engine", "Keras 3 (today"),
    ("Keras engine", "Keras 3 on JAX"),
    ("Input scaling", "x / 255"),
    ("Input scaling", "standardized per pixel"),
    ("Output activation", "softmax"),
    ("Output activation", "linear (logits)"),
    ("Cross-entropy", "on clipped probabilities"),
    ("Optimizer", "RMSprop"),
    ("Optimizer", "Adam"),
]
TIMEOUT_MS = 600_000


def shown(page, text: str) -> None:
    page.get_by_text(text).first.wait_for(timeout=TIMEOUT_MS)


def warm(cache: str) -> None:
    """Warm the cache with `warm --all` unless a previous run did; print what it took."""
    marker = Path(cache) / "warm-all.done"
    if not marker.exists():
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "explainer", "warm", "--all"], cwd=ROOT, check=True)
        print(f"warm_all_s: {time.perf_counter() - started:.0f}", flush=True)
        marker.touch()
    size = sum(path.stat().st_size for path in Path(cache).rglob("*.npz"))
    print(f"cache_mb: {size / 2**20:.0f}", flush=True)


def first_visit(page, runs: ScriptRuns, go, last: str) -> float:
    """Seconds from `go()` until the page draws its section `last`; returns once its script run
    is over, so that it does not share the server with the next page's."""
    started, seconds = time.perf_counter(), []

    def visit() -> None:
        go()
        shown(page, last)
        seconds.append(time.perf_counter() - started)

    runs.after(visit, timeout_s=TIMEOUT_MS / 1000)
    return seconds[0]


def link_opened(page, url: str, opened: dict[str, float]) -> None:
    """Open `url` in `page`, noting in `opened` when it "started" and when Streamlit's "frame" was up."""
    opened["started"] = time.perf_counter()
    page.goto(url)  # returns at the load event: Streamlit's scripts loaded and run
    page.locator("[data-testid='stApp']").first.wait_for(timeout=TIMEOUT_MS)
    opened["frame"] = time.perf_counter()


def charts_drawn(page, charts: int) -> None:
    """Wait until `charts` charts on the page have drawn their marks."""
    drawn = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg.marks"
    page.wait_for_function(f"document.querySelectorAll({drawn!r}).length >= {charts}", timeout=TIMEOUT_MS)


def open_page(page, url: str, record: pages.Page) -> None:
    """The landing page from a link; every other page from the sidebar's navigation."""
    if record.url_path:
        page.locator("[data-testid='stSidebarNav']").get_by_text(record.title, exact=True).click()
    else:
        page.goto(url)


def new_tab(browser):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    return page, ScriptRuns(page)


def warm_figures(browser, cache: str) -> None:
    with streamlit_server({"EXPLAINER_CACHE_DIR": cache}) as (url, _):
        page, runs = new_tab(browser)
        for record in VIEW_PAGES:
            seconds = first_visit(page, runs, functools.partial(open_page, page, url, record), record.last_section)
            print(f"first_page_s {record.name}: {seconds:.2f}", flush=True)
        for record in VIEW_PAGES:
            visitor, visitor_runs = new_tab(browser)
            opened = {}
            opening = functools.partial(link_opened, visitor, f"{url}/{record.url_path}", opened)
            seconds = first_visit(visitor, visitor_runs, opening, record.last_section)
            charts_drawn(visitor, visitor_runs.charts)
            print(f"shared_link_frame_s {record.name}: {opened['frame'] - opened['started']:.2f}", flush=True)
            print(f"shared_link_s {record.name}: {seconds:.2f}", flush=True)
            print(f"shared_link_charts_s {record.name}: {time.perf_counter() - opened['started']:.2f}", flush=True)
            visitor.context.close()
        page.goto(url)
        shown(page, LANDING.last_section)
        settle(page)
        for group, label in TOGGLES:
            seconds = runs.after(lambda: click(page, group, label))  # noqa: B023 (called at once)
            print(f"toggle_s {group} -> {label}: {seconds:.2f}", flush=True)
            page.goto(url)  # back to the default view for the next single change
            shown(page, LANDING.last_section)
            settle(page)


def cold_figures(browser) -> None:
    with tempfile.TemporaryDirectory() as empty, streamlit_server({"EXPLAINER_CACHE_DIR": empty}) as (url, _):
        page, _ = new_tab(browser)
        started = time.perf_counter()
        page.goto(url)
        shown(page, "Why does the loss grow with the learning rate?")
        page.locator("[data-testid='stStatusWidgetRunningIcon']").first.wait_for(timeout=TIMEOUT_MS)
        print(f"cold_first_page_s: {time.perf_counter() - started:.1f}", flush=True)
        shown(page, "Keras computes the cross-entropy")
        print(f"cold_answer_s: {time.perf_counter() - started:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", required=True, help="the cache directory to warm and serve from")
    args = parser.parse_args()
    os.environ["EXPLAINER_CACHE_DIR"] = args.cache
    warm(args.cache)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            warm_figures(browser, args.cache)
            cold_figures(browser)
        finally:
            browser.close()


if __name__ == "__main__":
    main()

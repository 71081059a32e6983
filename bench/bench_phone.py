"""Every page on a phone's screen (390 x 844, touch) in Debian's chromium against a real server:
prints, per page, `scroll_width_px` (the document's or the main area's scrolling width,
whichever is larger; the screen's when nothing scrolls sideways) and `widest_px` (how far right
the main area's widest element reaches), and the screen's width. The browser tests assert the
same measurement (tests/test_browser.py).

    python -m bench.bench_phone [--cache DIR] [--query "num_epochs=1&train_subset=2000"] [--page NAME ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from bench.serve import CHROMIUM, CHROMIUM_ARGS, streamlit_server
from ui.pages import PAGES, Page

# how long a page may take to render before the benchmark says what it shows and stops: a cold host
# renders the default view's pages in about 30 s on 2 cores; a test's run of this benchmark stops
# it after 600 s without a word
OPEN_SECONDS = 300
SHOWN_CHARACTERS = 600
LOG_CHARACTERS = 3000
# what a page shows instead of its content when it cannot: an error box, an exception
FAILED = "[data-testid='stAlertContentError'], [data-testid='stException']"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# the document's scroll width, and the right edge of the main area's element containers and of
# every chart drawn in them (an element inside its own scrolling box, a table's cells, is not
# past the screen: its box scrolls)
MEASURE = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  const boxes = main.querySelectorAll("[data-testid='stElementContainer'], .vega-embed svg, .vega-embed canvas");
  let widest = 0, what = "";
  for (const box of boxes) {
    const right = box.getBoundingClientRect().right;
    if (right > widest) { widest = right; what = box.getAttribute("data-testid") || box.tagName; }
  }
  return {
    scroll_width: Math.max(document.scrollingElement.scrollWidth, main.scrollWidth),
    width: window.innerWidth,
    widest: Math.ceil(widest),
    what,
  };
}"""


def opened(page, url: str, record: Page, query: str, timeout_s: float = OPEN_SECONDS) -> None:
    """The page of `record` opened by its link (its first action taken), until its last section
    and its charts have rendered and nothing runs. RuntimeError with the page's words when it
    shows an error or an exception instead, TimeoutError with what it shows after `timeout_s`."""
    page.goto(f"{url}/{record.url_path}?{query}")
    if record.first_action:
        page.get_by_role("button", name=record.first_action).click()
    failed = page.locator(FAILED)
    deadline = time.monotonic() + timeout_s
    for awaited, state in (
        (page.get_by_text(record.last_section).first.or_(failed), "visible"),
        (page.locator("[data-testid='stVegaLiteChart']").first.or_(failed), "visible"),
        (page.locator("[data-testid='stStatusWidgetRunningIcon']"), "hidden"),
    ):
        try:
            awaited.first.wait_for(state=state, timeout=max(1, (deadline - time.monotonic()) * 1000))
        except PlaywrightTimeout:
            raise TimeoutError(f"{record.name} not rendered in {timeout_s:.0f} s; it shows: {shown(page)}") from None
        if failed.count():
            raise RuntimeError(f"{record.name} shows: {' | '.join(failed.all_inner_texts())}")


def shown(page) -> str:
    """The end of the words on the page's main area: what it was doing."""
    main = page.locator("[data-testid='stMain']")
    return " ".join(main.inner_text().split())[-SHOWN_CHARACTERS:] if main.count() else "nothing of the app"


def measured(page, url: str, record: Page, query: str) -> dict:
    """MEASURE on the page of `record` once it is `opened`."""
    opened(page, url, record, query)
    page.wait_for_timeout(500)  # the charts' own layout after their data arrived
    return page.evaluate(MEASURE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help="the run cache to serve from (default: a new empty one)")
    parser.add_argument("--query", default="num_epochs=1&train_subset=2000", help="the view, as a link's query")
    parser.add_argument(
        "--page", nargs="+", choices=[record.name for record in PAGES], help="these pages only (default: every page)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryFile("w+") as log:
        env = {"EXPLAINER_CACHE_DIR": args.cache or empty, "MNIST_NPZ": os.environ.get("MNIST_NPZ", "")}
        with streamlit_server(env, log) as (url, _), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(**PHONE).new_page()
            print(f"screen_width_px: {PHONE['viewport']['width']}")
            for record in [record for record in PAGES if not args.page or record.name in args.page]:
                try:
                    found = measured(page, url, record, args.query)
                except (TimeoutError, RuntimeError):
                    log.seek(0)
                    sys.stderr.write(f"the server's last words:\n{log.read()[-LOG_CHARACTERS:]}\n")
                    raise
                print(f"scroll_width_px {record.name}: {found['scroll_width']}", flush=True)
                print(f"widest_px {record.name}: {found['widest']} ({found['what']})", flush=True)
            browser.close()


if __name__ == "__main__":
    main()

"""Every page on a phone's screen (390 x 844, touch) in Debian's chromium against a real server:
prints, per page, `scroll_width_px` (the document's or the main area's scrolling width,
whichever is larger; the screen's when nothing scrolls sideways) and `widest_px` (how far right
the main area's widest element reaches), and the screen's width. The browser tests assert the
same measurement (tests/test_browser.py).

    python -m bench.bench_phone [--cache DIR] [--query "num_epochs=1&train_subset=2000"]
"""

from __future__ import annotations

import argparse
import os
import tempfile

from bench.serve import CHROMIUM, CHROMIUM_ARGS, streamlit_server
from ui.pages import PAGES, Page

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


def opened(page, url: str, record: Page, query: str) -> None:
    """The page of `record` opened by its link (its first action taken), until its last section
    and its charts have rendered and nothing runs."""
    page.goto(f"{url}/{record.url_path}?{query}")
    if record.first_action:
        page.get_by_role("button", name=record.first_action).click()
    page.get_by_text(record.last_section).first.wait_for(timeout=600_000)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=600_000)
    page.locator("[data-testid='stStatusWidgetRunningIcon']").first.wait_for(state="hidden", timeout=600_000)


def measured(page, url: str, record: Page, query: str) -> dict:
    """MEASURE on the page of `record` once it is `opened`."""
    opened(page, url, record, query)
    page.wait_for_timeout(500)  # the charts' own layout after their data arrived
    return page.evaluate(MEASURE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help="the run cache to serve from (default: a new empty one)")
    parser.add_argument("--query", default="num_epochs=1&train_subset=2000", help="the view, as a link's query")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as empty:
        env = {"EXPLAINER_CACHE_DIR": args.cache or empty, "MNIST_NPZ": os.environ.get("MNIST_NPZ", "")}
        with streamlit_server(env) as (url, _), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(**PHONE).new_page()
            print(f"screen_width_px: {PHONE['viewport']['width']}")
            for record in PAGES:
                found = measured(page, url, record, args.query)
                print(f"scroll_width_px {record.name}: {found['scroll_width']}", flush=True)
                print(f"widest_px {record.name}: {found['widest']} ({found['what']})", flush=True)
            browser.close()


if __name__ == "__main__":
    main()

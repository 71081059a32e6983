"""Seconds to render each page through Streamlit's AppTest: cold (empty training cache, fresh
process caches) and warm (the same session again), for the default view or a smaller one. The
landing page comes first, always: every visit starts there."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bench.serve import app_test, empty_cache
from ui.pages import PAGES

VIEW_PAGES = [page.path for page in PAGES if page.view]


def render_seconds(test: AppTest, page: str | None = None) -> float:
    """Seconds for one run of `page` (None: the app's first run, which shows the default page)."""
    started = time.perf_counter()
    (test if page is None else test.switch_page(page)).run()
    if test.exception:
        raise RuntimeError(f"{page}: {test.exception[0].message}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=None, help="num_epochs in the URL (default: the app's 10)")
    parser.add_argument("--subset", type=int, default=None, help="train_subset in the URL (default: all 60,000)")
    parser.add_argument(
        "--page", nargs="+", choices=[Path(page).stem for page in VIEW_PAGES], help="these pages only, after the landing page"
    )
    args = parser.parse_args()
    query = {name: str(value) for name, value in (("num_epochs", args.epochs), ("train_subset", args.subset)) if value}
    with empty_cache():
        test = app_test(query, timeout_s=3600)
        for page in [page for page in VIEW_PAGES if page == PAGES[0].path or not args.page or Path(page).stem in args.page]:
            cold = render_seconds(test, None if page == PAGES[0].path else page)
            warm = render_seconds(test, page)
            name = Path(page).stem
            print(f"{name}_cold_s: {cold:.1f}")
            print(f"{name}_warm_s: {warm:.2f}")


if __name__ == "__main__":
    main()

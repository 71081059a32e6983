"""In a real browser: Debian's chromium, driven by Playwright, against `streamlit run`: every page,
a link's settings, and a server that trains in its workers without ever loading TensorFlow; and
twenty sessions at once on the same server, over Streamlit's own protocol."""

import asyncio
import dataclasses
import os
import shutil
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from axe_playwright_python.sync_playwright import Axe

from bench.bench_load import Visit
from bench.bench_phone import PHONE, measured, opened
from bench.serve import CHROMIUM, CHROMIUM_ARGS, streamlit_server
from ui.pages import PAGES

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SMALL = "num_epochs=1&train_subset=2000"
LINKED = f"{SMALL}&scaling=unit&optimizer=adam"  # opened by the link test, then the workers test: trained by the first


@dataclasses.dataclass(frozen=True)
class Server:
    url: str
    pid: int


def mapped(pid: int) -> set[str]:
    """Which of the workers' heavy libraries are mapped into the process: TensorFlow, JAX's XLA
    and numba's LLVM."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {library for library in ("libtensorflow", "jaxlib", "llvmlite") if library in maps}


@pytest.fixture(scope="module")
def server(mnist):
    # nothing trained ahead: the views one choice away from those the tests open (54 s of CPU in
    # this module, measured alone) are not what a browser shows, and the cores are the other tests'
    with streamlit_server({"EXPLAINER_PREFETCH": "off"}) as (url, pid):
        yield Server(url, pid)


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser):
    # tall enough that every element is in view: axe judges colour contrast only there
    return browser.new_page(viewport={"width": 1400, "height": 6000})


@pytest.fixture(scope="module")
def phone(browser):
    return browser.new_context(**PHONE).new_page()


def wait_for_app(page, last_text=PAGES[0].last_section, timeout_ms=300_000):
    page.get_by_text(last_text).first.wait_for(timeout=timeout_ms)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=timeout_ms)


# a chart drawn as SVG puts each of its marks into the page, which the browser lays out and axe
# (like a screen reader) goes through one by one: the plane's 2,601 cells took axe 9-11 s of CPU
# per visit; a chart of more marks is drawn on a canvas
CHART_ELEMENTS = 1000
LARGEST_CHART = """() => Math.max(0, ...Array.from(
  document.querySelectorAll("[data-testid='stVegaLiteChart'] svg.marks"), svg => svg.querySelectorAll("*").length))"""


@pytest.mark.parametrize("record", PAGES, ids=lambda record: record.name)
def test_every_page_in_a_browser_is_accessible(server, page, record):
    """Each page renders with its charts and no exception box, no chart puts more than
    CHART_ELEMENTS elements into the page, and axe-core finds no serious or critical violation in
    the app's own content (Streamlit's code blocks are its own: their syntax colours fail
    contrast, which the app cannot change). A screenshot per page is kept."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    opened(page, server.url, record, SMALL)
    assert page.locator("[data-testid='stVegaLiteChart']").count() >= 2
    assert page.evaluate(LARGEST_CHART) <= CHART_ELEMENTS
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=SCREENSHOTS / f"{record.name}.png", full_page=True)
    assert serious_violations(page) == []


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings in the app's own content (Streamlit's code blocks
    are its own: their syntax colours fail contrast, which the app cannot change)."""
    results = Axe().run(page, context={"exclude": [["[data-testid='stCode']"]]})
    return [
        f"{violation['id']}: {node['html'][:120]}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]


@pytest.mark.parametrize("query", ["", "&scaling=unit"], ids=["default", "fixed"])
@pytest.mark.parametrize("record", PAGES, ids=lambda record: record.name)
def test_every_page_reads_on_a_phone(server, phone, record, query):
    """At 390 x 844 nothing is wider than the screen (the document does not scroll sideways, no
    element or chart of the main area reaches past its right edge), the line that says where the
    settings are shows (the sidebar is folded away), and axe finds nothing serious."""
    found = measured(phone, server.url, record, SMALL + query)
    assert found["scroll_width"] == found["width"] == PHONE["viewport"]["width"]
    assert found["widest"] <= found["width"], f"{found['what']} reaches {found['widest']} px"
    assert phone.locator(".st-key-settings-hint").is_visible()
    assert phone.locator("[data-testid='stException']").count() == 0
    if not query:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        phone.screenshot(path=SCREENSHOTS / f"phone-{record.name}.png", full_page=True)
        assert serious_violations(phone) == []


def test_the_settings_line_shows_only_where_the_sidebar_is_folded(server, page):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/?{SMALL}")
    wait_for_app(page)
    expect(page.locator("[data-testid='stSidebar']").get_by_text("Learning rates to compare")).to_be_visible()
    expect(page.locator(".st-key-settings-hint")).to_be_attached()
    expect(page.locator(".st-key-settings-hint")).to_be_hidden()


def test_link_with_query_parameters_sets_the_sidebar(server, page):
    page.goto(f"{server.url}/?{LINKED}")
    wait_for_app(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.get_by_role("radio", name="x / 255").is_checked()
    assert sidebar.get_by_role("radio", name="Adam").is_checked()
    assert page.locator("[data-testid='stException']").count() == 0
    assert "scaling=unit" in page.url and "optimizer=adam" in page.url
    page.screenshot(path=SCREENSHOTS / "reproduce-unit-adam.png", full_page=True)


def test_training_happens_in_workers_never_in_the_server(server, page):
    """After every page above and the linked view (trained by the test before, or here when this
    test runs alone): the runs were trained in worker processes, which load TensorFlow, and the
    server process never mapped TensorFlow itself."""
    page.goto(f"{server.url}/?{LINKED}")
    wait_for_app(page)
    assert page.locator("[data-testid='stException']").count() == 0
    workers = psutil.Process(server.pid).children(recursive=True)
    assert set().union(*(mapped(worker.pid) for worker in workers)) == {"libtensorflow", "jaxlib", "llvmlite"}
    assert mapped(server.pid) == set()


def test_text_from_a_link_renders_as_text(server, page):
    """A link whose values are Markdown: no live link, no image, nothing fetched from elsewhere."""
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    query = urllib.parse.urlencode({"engine": "[click](http://example.invalid/x)", "loss": "![i](http://127.0.0.1:9/x.png)"})
    page.goto(f"{server.url}/?{SMALL}&{query}")
    wait_for_app(page)
    notices = page.locator("[data-testid='stAlertContentWarning']")
    assert "[click](http://example.invalid/x)" in notices.first.inner_text().replace("\u2060", "")  # an invisible joiner
    assert page.locator("a[href*='example.invalid'], img[src*='127.0.0.1:9']").count() == 0
    assert not [url for url in fetched if urllib.parse.urlsplit(url).netloc in ("127.0.0.1:9", "example.invalid")]


def test_twenty_sessions_at_once_all_finish_without_an_exception(server):
    """Twenty visitors open the same small view at once (Streamlit's own protocol, as
    bench/bench_load.py plays it): every script run finishes, and none draws an exception."""

    async def everyone() -> list[Visit]:
        return await asyncio.gather(*(Visit("", SMALL).run(server.url) for _ in range(20)))

    with ThreadPoolExecutor(1) as thread:  # Playwright's sync API holds this thread's event loop
        visits = thread.submit(lambda: asyncio.run(everyone())).result()
    assert [(visit.ok, visit.exceptions) for visit in visits] == [(True, 0)] * 20

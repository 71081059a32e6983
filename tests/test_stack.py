"""The whole stack as `sh deploy/stack.sh` starts it: a real Dask scheduler and one worker per
backend, two Streamlit replicas on one cache directory, HAProxy (Debian's) in front. Through the
balancer a page renders, trained on the cluster; every session's CSV download reaches the
replica that holds it (the affinity cookie), on any connection; the replicas never load
TensorFlow, JAX or numba. Under faults (bench/chaos.py): a replica, the TensorFlow worker and
the scheduler killed in turn under open pages, every page comes back by itself, and the store
holds every key once, whole."""

import shutil
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from bench import chaos, serve
from bench.serve import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.integration
VIEW = "num_epochs=1&train_subset=200"
SESSIONS = 4
REQUESTS = 4  # round robin without affinity sends every other request to the replica without the file
CSV_HEADER = chaos.CSV_HEADER
BACKEND_LIBRARIES = ("libtensorflow", "jaxlib", "numba")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, mnist):
    for program in ("haproxy", "dask"):
        if not shutil.which(program):
            pytest.skip(f"{program} is not installed (.ci/run installs it)")
    cache = tmp_path_factory.mktemp("stack-cache")
    # a piece that ends is started again at once (deploy/stack.sh's supervisor)
    environment = {"EXPLAINER_CACHE_DIR": str(cache), "MNIST_NPZ": str(mnist.source), "RESTART_SECONDS": "0.5"}
    # nothing trained ahead (the views one choice away from those opened below: 45 s of CPU in this
    # module, measured alone): what is checked here is what visitors ask for, and the cores are the other tests'
    environment["EXPLAINER_PREFETCH"] = "off"
    with open(tmp_path_factory.mktemp("stack") / "log", "w") as log, serve.stack(environment, log) as (url, pid):
        yield url, pid, cache


def test_through_the_balancer_pages_render_and_each_sessions_download_reaches_its_replica(stack):
    from playwright.sync_api import sync_playwright

    url, pid, _ = stack
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        cookies = set()
        for _ in range(SESSIONS):
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{url}/?{VIEW}")
            button = page.get_by_text(chaos.SHOWN)
            button.wait_for(timeout=300_000)  # the view's runs trained on the cluster
            assert page.locator("[data-testid='stException']").count() == 0
            with page.expect_download() as download:
                button.click()
            assert Path(download.value.path()).read_text().startswith(CSV_HEADER)
            # again on new connections, as a browser may open them: each one balanced anew, and only
            # the session's replica holds the file
            jar = "; ".join(f"{cookie['name']}={cookie['value']}" for cookie in context.cookies())
            for _ in range(REQUESTS):
                with urllib.request.urlopen(urllib.request.Request(download.value.url, headers={"Cookie": jar})) as answer:
                    assert answer.read().decode().startswith(CSV_HEADER)
            cookies |= {cookie["value"] for cookie in context.cookies() if cookie["name"] == "EXPLAINER_REPLICA"}
            context.close()
        browser.close()
    assert cookies == {"replica1", "replica2"}  # both replicas served sessions
    assert len(serve.replicas(pid)) == 2
    for replica in serve.replicas(pid):
        maps = Path(f"/proc/{replica.pid}/maps").read_text()
        assert not [library for library in BACKEND_LIBRARIES if library in maps], replica.cmdline()


def test_every_page_comes_back_by_itself_when_a_replica_the_worker_or_the_scheduler_is_killed(stack):
    figures = chaos.run(*stack)  # raises when a page never comes back, or never says the cluster is away
    print(figures)
    assert figures.replica_back_s and figures.downloads_lost == 0 and figures.exceptions == 0
    assert figures.written_twice == [] and figures.unreadable == []


def test_a_replica_whose_cluster_never_answers_starts_serves_what_is_stored_and_says_so(stack):
    from playwright.sync_api import sync_playwright

    _, _, cache = stack  # holds the stored view (the tests above trained it)
    nowhere = {"EXPLAINER_SCHEDULER": f"tcp://127.0.0.1:{serve.free_port()}", "EXPLAINER_CACHE_DIR": str(cache)}
    with serve.streamlit_server(nowhere) as (url, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stored = chaos.Visitor(browser, url, chaos.STORED)
        stored.shown(time.perf_counter())
        waiting = chaos.Visitor(browser, url, chaos.untrained(seed=7))
        waiting.says(chaos.UNREACHABLE, time.perf_counter())
        assert stored.exceptions() == waiting.exceptions() == 0
        browser.close()


def test_a_temporary_file_counts_as_left_only_when_it_stays(tmp_path):
    """A write's named file lives only until its rename: one renamed meanwhile was not left."""
    (tmp_path / "left.tmp").write_bytes(b"")
    renamed = tmp_path / "renamed.tmp"
    renamed.write_bytes(b"")
    threading.Timer(chaos.LEFT_SECONDS / 2, renamed.unlink).start()
    assert chaos.unreadable(tmp_path) == ["left.tmp"]


def test_a_page_that_never_shows_its_view_fails_with_what_it_shows(monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setattr(chaos, "SECONDS", 1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        visitor = chaos.Visitor(browser, "data:text/html,<div data-testid='stMain'>Training 6 runs</div>", "")
        with pytest.raises(TimeoutError, match="not shown in 1 s; the page shows: Training 6 runs"):
            visitor.shown(time.perf_counter())
        browser.close()

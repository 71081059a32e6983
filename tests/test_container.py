"""The Dockerfile, built and run by a container engine (podman; CONTAINER_ENGINE to change it) as
its comment says: the build bakes in MNIST and a warm cache, the container serves the app on its
port as a non-root user, its own health check passes, and the first visitor's page comes from the
baked cache: it never waits for a computation, and no baked entry is written again.
CONTAINER_BASE names the base image where Docker Hub is out of reach (.ci/run builds one with
deploy/base.sh)."""

import shutil
import subprocess
import uuid

import container_build
import pytest
from container_build import ENGINE, engine

from bench.bench_host import group_memory
from bench.serve import CHROMIUM, CHROMIUM_ARGS, free_port, healthy

pytestmark = pytest.mark.integration
VIEW = "?num_epochs=1&train_subset=200"  # the view container_build.WARM_ARGS bakes in
HOST_MB = 2700  # Streamlit Community Cloud's memory (bench/bench_host.py: a visitor training there)
GROUP_PEAK_MB = 2200  # the most the container's whole memory group may reach on it, leaving room


def cached_entries(container: str) -> set[str]:
    """Each cache entry's path, size and modification time."""
    listing = engine("exec", container, "find", "/home/app/cache", "-name", "*.npz", "-printf", "%p %s %T@\\n")
    return set(listing.splitlines())


# whether the page ever showed a training progress bar or a "computing" spinner
RECORD_WAITING = """
window.waitedFor = [];
new MutationObserver(() => {
  for (const id of ["stProgress", "stSpinner"])
    if (!window.waitedFor.includes(id) && document.querySelector(`[data-testid='${id}']`)) window.waitedFor.push(id);
}).observe(document, {childList: true, subtree: true});
"""


@pytest.fixture(scope="module")
def image(mnist):
    """The image, built from the repository's files with the MNIST file as a build argument (the
    build started when the session began, if conftest saw this module's tests were to run)."""
    if not container_build.engine_runs():
        pytest.skip(f"no container engine runs here ({ENGINE}; .ci/run installs podman)")
    build = container_build.start(str(mnist.source))
    yield build.image()
    build.remove()


@pytest.fixture(scope="module")
def served(image):
    """The container, started as `docker run -p PORT:8501 IMAGE` starts it, on a small host
    (Community Cloud's memory, one worker per backend); its URL and name."""
    name, port = f"explainer-test-{uuid.uuid4().hex[:8]}", free_port()
    host = ["--memory", f"{HOST_MB}m", "--memory-swap", f"{HOST_MB}m", "--env", "EXPLAINER_WORKERS=1"]
    engine("run", "--detach", "--name", name, *host, "--publish", f"127.0.0.1:{port}:8501", image)
    try:
        url = f"http://127.0.0.1:{port}"
        if not healthy(url, seconds=120):
            pytest.fail(f"the container never answered on /_stcore/health: {engine('logs', name)[-3000:]}")
        yield url, name
    finally:
        subprocess.run([ENGINE, "rm", "--force", name], capture_output=True)


def test_the_container_runs_as_a_user_and_its_health_check_passes(served):
    _, name = served
    assert engine("exec", name, "id", "-u").strip() == "1000"
    engine("healthcheck", "run", name)  # the Dockerfile's HEALTHCHECK command, run in the container


def test_the_first_visitor_is_served_from_the_baked_cache(served):
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    url, name = served
    baked = cached_entries(name)
    assert baked, "the build computed nothing into the cache"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.add_init_script(RECORD_WAITING)
        page.goto(f"{url}/{VIEW}")
        page.get_by_text("log-log slope").first.wait_for(timeout=120_000)
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.evaluate("window.waitedFor") == []
        browser.close()
    # what the visit adds is prefetch, for the next toggle; nothing baked was trained again
    assert baked <= cached_entries(name)


def test_the_container_fits_a_small_host(served):
    """After the visit, the group (server and workers) never went near the host's memory, and the
    kernel killed nothing in it."""
    peak_mb, oom_kills = group_memory(served[1])
    assert oom_kills == 0 and peak_mb <= GROUP_PEAK_MB, f"peak {peak_mb:.0f} MB, {oom_kills} processes killed"

"""The Dockerfile, built and run by a container engine (podman; CONTAINER_ENGINE to change it) as
its comment says: the build bakes in MNIST and a warm cache, the container serves the app on its
port as a non-root user, its own health check passes, and the first visitor's page comes from the
baked cache: it never waits for a computation, and no baked entry is written again.
CONTAINER_BASE names the base image where Docker Hub is out of reach (.ci/run builds one with
deploy/base.sh)."""

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from bench.serve import CHROMIUM, CHROMIUM_ARGS, free_port, healthy

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[1]
ENGINE = os.environ.get("CONTAINER_ENGINE", "podman")
WARM_ARGS = "--epochs 1 --subset 2000"  # a small view, baked in and visited
VIEW = "?num_epochs=1&train_subset=2000"
DEPENDENCIES = "localhost/keras-lr-explainer-test:dependencies"  # the requirements' layer, kept between runs


def engine(*args: str, timeout: float = 120) -> str:
    done = subprocess.run([ENGINE, *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{ENGINE} {args[0]}: {done.stderr[-3000:]}"
    return done.stdout


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
def image(mnist, tmp_path_factory):
    """The image, built from the repository's files with the MNIST file as a build argument."""
    if not shutil.which(ENGINE) or subprocess.run([ENGINE, "info"], capture_output=True).returncode:
        pytest.skip(f"no container engine runs here ({ENGINE}; .ci/run installs podman)")
    context = tmp_path_factory.mktemp("context")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (context / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, context / name)
    shutil.copy(mnist.source, context / "mnist.npz")
    tag = f"localhost/keras-lr-explainer-test:{uuid.uuid4().hex[:8]}"
    base = ["--build-arg", f"BASE={os.environ['CONTAINER_BASE']}"] if os.environ.get("CONTAINER_BASE") else []
    # the docker format keeps the HEALTHCHECK (OCI images have none)
    build = ["build", "--format", "docker", *base, "--build-arg", "MNIST_NPZ=mnist.npz"]
    engine(*build, "--build-arg", f"WARM_ARGS={WARM_ARGS}", "-t", tag, str(context), timeout=1500)
    yield tag
    keep_dependency_layer(tag)
    subprocess.run([ENGINE, "rmi", "-f", tag], capture_output=True)


def keep_dependency_layer(tag: str) -> None:
    """Tag the image's `pip install` layer before the image is removed, so that the next build on
    this machine starts from it, as a warm machine's build cache would (without it, removing the
    image removes its layers, and every run installs the requirements again: about 5 minutes)."""
    history = engine("history", "--format", "{{.ID}} {{.CreatedBy}}", tag)
    layers = [line.split()[0] for line in history.splitlines() if "pip install" in line]
    if layers and layers[0] != "<missing>":
        subprocess.run([ENGINE, "tag", layers[0], DEPENDENCIES], capture_output=True)
        subprocess.run([ENGINE, "image", "prune", "--force"], capture_output=True)  # the layer it replaces


@pytest.fixture(scope="module")
def served(image):
    """The container, started as `docker run -p PORT:8501 IMAGE` starts it; its URL and name."""
    name, port = f"explainer-test-{uuid.uuid4().hex[:8]}", free_port()
    engine("run", "--detach", "--name", name, "--publish", f"127.0.0.1:{port}:8501", image)
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

"""The container's two steps, run here as the Dockerfile runs them (no container engine runs on
this machine): the build warms the cache, the command serves the app from it on $PORT, healthy,
and the first visitor's page comes from the cache, nothing trained."""

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from bench.serve import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[1]
VIEW = ("--epochs", "1", "--subset", "2000")  # a small view, warmed and visited


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.usefixtures("mnist")
def test_the_build_warms_the_cache_and_the_command_serves_from_it(tmp_path):
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    env = {**os.environ, "EXPLAINER_CACHE_DIR": str(tmp_path), "WARM_ARGS": " ".join(VIEW), "PORT": str(free_port())}
    build = subprocess.run(["sh", "deploy/build.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stderr[-2000:]
    entries = sorted(tmp_path.rglob("*.npz"))
    assert "derived results of 1 view(s)" in build.stdout and entries
    server = subprocess.Popen(["sh", "deploy/serve.sh"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{env['PORT']}"
        for _ in range(240):  # the Dockerfile's health check, as it runs it
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            time.sleep(0.25)
        else:
            pytest.fail("the served app never became healthy")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"{url}/?num_epochs=1&train_subset=2000")
            page.get_by_text("log-log slope").first.wait_for(timeout=120_000)
            assert page.locator("[data-testid='stException']").count() == 0
            browser.close()
        assert sorted(tmp_path.rglob("*.npz")) == entries  # everything came from the warm cache
    finally:
        server.terminate()
        server.wait(timeout=60)

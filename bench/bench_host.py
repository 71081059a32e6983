"""A 2.7 GB host measured as one: the image run by podman under a memory limit (Streamlit
Community Cloud gives 2.7 GB) with EXPLAINER_WORKERS=1, and one visitor in Chromium opening every
page of views nobody has trained (their runs train, their loss surfaces and measurements are
computed) for a few minutes. Build the image first (`podman build --build-arg WARM_ARGS="" -t
keras-lr-explainer .`). Prints `name: value` lines:

limit_mb        the container's memory limit
views           views whose four pages were opened
group_peak_mb   the peak memory of the container's whole group: server and workers together, as
                the kernel counts it against the limit (goal <= 2,200)
oom_kills       processes the kernel killed in the group for memory (goal 0)
exceptions      exception boxes the visitor saw (goal 0)
"""

from __future__ import annotations

import argparse
import random
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.bench_app import EXCEPTION, TIMEOUT_MS, settle
from bench.bench_phone import PAGES
from bench.serve import CHROMIUM, CHROMIUM_ARGS, free_port, healthy
from explainer import plan
from explainer.view import View, to_query

CGROUP = Path("/sys/fs/cgroup")


def podman(*args: str) -> str:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=True, timeout=120).stdout.strip()


def group_memory(container: str) -> tuple[float, int]:
    """(peak MB, OOM kills) of the container's memory group, cgroup v2 or v1."""
    path = podman("inspect", "--format", "{{.State.CgroupPath}}", container).lstrip("/")
    if (CGROUP / path / "memory.peak").exists():  # v2
        events = dict(line.split() for line in (CGROUP / path / "memory.events").read_text().splitlines())
        return int((CGROUP / path / "memory.peak").read_text()) / 2**20, int(events["oom_kill"])
    group = CGROUP / "memory" / path
    control = dict(line.split() for line in (group / "memory.oom_control").read_text().splitlines())
    return int((group / "memory.max_usage_in_bytes").read_text()) / 2**20, int(control.get("oom_kill", 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default="keras-lr-explainer", help="the image to run (default: %(default)s)")
    parser.add_argument("--memory-mb", type=int, default=2700, help="the host's memory (default: %(default)s)")
    parser.add_argument("--minutes", type=float, default=5, help="how long the visitor goes on (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="which views, in which order")
    args = parser.parse_args()
    views = [View(config=view.config.replace(num_epochs=1)) for view in plan.all_views()]
    random.Random(args.seed).shuffle(views)
    name, port = f"bench-host-{uuid.uuid4().hex[:8]}", free_port()
    limit = f"{args.memory_mb}m"
    podman(
        "run", "--detach", "--name", name, "--memory", limit, "--memory-swap", limit, "--env", "EXPLAINER_WORKERS=1",
        "--publish", f"127.0.0.1:{port}:8501", args.image,
    )  # fmt: skip
    url, opened, exceptions = f"http://127.0.0.1:{port}", 0, 0
    try:
        if not healthy(url, seconds=180):
            raise RuntimeError(f"the container never answered: {podman('logs', name)[-2000:]}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            deadline = time.monotonic() + args.minutes * 60
            for view in views:
                if time.monotonic() > deadline:
                    break
                query = urllib.parse.urlencode(to_query(view))
                for path, _ in PAGES.values():
                    page.goto(f"{url}/{path}?{query}", timeout=TIMEOUT_MS)
                    settle(page)
                    exceptions += page.locator(EXCEPTION).count()
                opened += 1
                print(f"view {opened}: {query}", flush=True)
            browser.close()
        peak_mb, oom_kills = group_memory(name)
        print(f"limit_mb: {args.memory_mb}")
        print(f"views: {opened}")
        print(f"group_peak_mb: {peak_mb:.0f}")
        print(f"oom_kills: {oom_kills}")
        print(f"exceptions: {exceptions}")
    finally:
        subprocess.run(["podman", "rm", "--force", name], capture_output=True)


if __name__ == "__main__":
    main()

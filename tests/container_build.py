"""The test image's build, started as soon as the session knows it will run the container tests
(conftest's `pytest_collection_finish`) and joined by their fixture: on a machine without the
requirements' layer the build spends minutes downloading and unpacking wheels, time the other
tests can use (measured on 2 cores: the cold build about 390 s, most of it waiting on the network
and the disk)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

ROOT = Path(__file__).parents[1]
ENGINE = os.environ.get("CONTAINER_ENGINE", "podman")
# a small view, baked in and visited: what the test checks does not depend on its size, and the
# build trains all of it (2,000 images took 117 s on 2 cores, beside the tests that train)
WARM_ARGS = "--epochs 1 --subset 200"
DEPENDENCIES = "localhost/keras-lr-explainer-test:dependencies"  # the requirements' layer, kept between runs
BUILD_SECONDS = 1500


def engine(*args: str, timeout: float = 120) -> str:
    done = subprocess.run([ENGINE, *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{ENGINE} {args[0]}: {done.stderr[-3000:]}"
    return done.stdout


def engine_runs() -> bool:
    return bool(shutil.which(ENGINE)) and subprocess.run([ENGINE, "info"], capture_output=True).returncode == 0


class Build:
    """`podman build` of the repository's tracked files, with the MNIST file as a build argument,
    in a thread; `image()` waits for it and returns the tag (or raises what the build raised)."""

    def __init__(self, mnist_npz: str):
        self.tag = f"localhost/keras-lr-explainer-test:{uuid.uuid4().hex[:8]}"
        self._mnist, self._error, self._process = mnist_npz, None, None
        self._thread = threading.Thread(target=self._run, name="container-build", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with tempfile.TemporaryDirectory(prefix="context-") as context:
                self._build(Path(context))
        except BaseException as error:  # raised again in the test that waits for it
            self._error = error

    def _build(self, context: Path) -> None:
        tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        for name in tracked.decode().split("\0"):
            if name and (ROOT / name).is_file():
                (context / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, context / name)
        shutil.copy(self._mnist, context / "mnist.npz")
        base = ["--build-arg", f"BASE={os.environ['CONTAINER_BASE']}"] if os.environ.get("CONTAINER_BASE") else []
        # the docker format keeps the HEALTHCHECK (OCI images have none)
        build = ["build", "--format", "docker", *base, "--build-arg", "MNIST_NPZ=mnist.npz"]
        command = [ENGINE, *build, "--build-arg", f"WARM_ARGS={WARM_ARGS}", "-t", self.tag, str(context)]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _, errors = self._process.communicate(timeout=BUILD_SECONDS)
        assert self._process.returncode == 0, f"{ENGINE} build: {errors[-3000:]}"

    def image(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.tag

    def stop(self) -> None:
        """The build ended with the session, if the session ends first (a failure with -x)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()

    def remove(self) -> None:
        keep_dependency_layer(self.tag)
        subprocess.run([ENGINE, "rmi", "-f", self.tag], capture_output=True)


def keep_dependency_layer(tag: str) -> None:
    """Tag the image's `pip install` layer before the image is removed, so that the next build on
    this machine starts from it, as a warm machine's build cache would (without it, removing the
    image removes its layers, and every run installs the requirements again: about 5 minutes)."""
    history = engine("history", "--format", "{{.ID}} {{.CreatedBy}}", tag)
    layers = [line.split()[0] for line in history.splitlines() if "pip install" in line]
    if layers and layers[0] != "<missing>":
        subprocess.run([ENGINE, "tag", layers[0], DEPENDENCIES], capture_output=True)
        subprocess.run([ENGINE, "image", "prune", "--force"], capture_output=True)  # the layer it replaces


started: Build | None = None


def start(mnist_npz: str) -> Build:
    """The session's build: started once, by whoever asks first."""
    global started
    if started is None:
        started = Build(mnist_npz)
    return started

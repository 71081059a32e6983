"""Shared fixtures: the real MNIST file, small synthetic data, and a private training cache."""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

import container_build
import pytest
import service_jobs
import streamlit as st
from service_jobs import synthetic_mnist

from explainer.data import Mnist, MnistUnavailable, load_mnist
from explainer.pools import process_worker
from explainer.service import TrainingService
from explainer.store.cache import RunStore
from ui import source

# pytest-xdist's worker processes of one run (pyproject's addopts run two): each is a session of its own
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def shared_directory(tmp_path_factory, name: str) -> Path:
    """A directory of this test run, the same for all of its xdist workers: a run or a derived
    result any of them trains is trained once (the store's lock per key) and read by all."""
    base = tmp_path_factory.getbasetemp()
    directory = (base.parent if XDIST_WORKER else base) / name
    directory.mkdir(exist_ok=True)
    return directory


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Every test run trains into its own cache, never the user's; shared within the run."""
    directory = shared_directory(tmp_path_factory, "run-cache")
    previous = os.environ.get("EXPLAINER_CACHE_DIR")
    os.environ["EXPLAINER_CACHE_DIR"] = str(directory)
    yield directory
    if previous is None:
        os.environ.pop("EXPLAINER_CACHE_DIR", None)
    else:
        os.environ["EXPLAINER_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def mnist() -> Mnist:
    """Real MNIST. Fails (never skips) when MNIST_NPZ is set but unreadable."""
    try:
        return load_mnist()
    except MnistUnavailable as error:
        if os.environ.get("MNIST_NPZ"):
            pytest.fail(str(error))
        pytest.skip(f"real MNIST not available: {error}")


@pytest.fixture(scope="session")
def synthetic() -> Mnist:
    """A small learnable stand-in for MNIST (see service_jobs.synthetic_mnist)."""
    return synthetic_mnist()


@pytest.fixture(scope="session")
def synthetic_cache(tmp_path_factory):
    """One cache of synthetic runs for every module's AppTests, and one service training into it
    (its workers start once): a run is trained once."""
    directory = shared_directory(tmp_path_factory, "pages")
    yield directory
    source._services.clear()  # shuts nothing down by itself
    for service in _started:
        service.shutdown()


_started: list[TrainingService] = []


def _synthetic_service(store: RunStore) -> TrainingService:
    """The app's service on synthetic data, without prefetch (see _pages_service)."""
    jobs = {"job": service_jobs.train_synthetic, "derive": service_jobs.derive_synthetic}
    service = TrainingService(store, session_workers, prefetching=False, **jobs)
    _started.append(service)
    return _started[-1]


def _pages_service(store: RunStore) -> TrainingService:
    """The app's own service, on the session's workers, without prefetch: a page test asks for
    its own runs, and what prefetch would train meanwhile takes the cores it waits for (measured:
    15% of the real-MNIST page tests). Pages still ask for it (tests/test_pages.py checks that)."""
    return TrainingService(store, session_workers, session_alive=source._session_alive, prefetching=False)


@pytest.fixture(scope="module")
def store(synthetic, synthetic_cache):
    """The app on synthetic data, for a module's AppTests: its store, trained by worker processes
    on the synthetic data through the real service. As in the app, training never shares the
    page's process (there it would fight AppTest's polling thread for the GIL: measured, 20x
    slower)."""
    directory = synthetic_cache
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXPLAINER_CACHE_DIR", str(directory))
        patch.setattr(source, "SOURCE", source.Source(service=_synthetic_service, mnist=lambda: synthetic))
        st.cache_data.clear()  # measurements cached by config alone must not come from another module's data
        yield RunStore(directory)
        st.cache_data.clear()


_pools: dict[str, ProcessPoolExecutor] = {}


class _Lent(Executor):
    """The session's pool for a backend, lent to one service: its shutdown leaves the workers to
    the next service."""

    def __init__(self, pool: ProcessPoolExecutor):
        self._pool = pool

    def submit(self, function, /, *args, **kwargs):
        return self._pool.submit(function, *args, **kwargs)

    def shutdown(self, wait=True, *, cancel_futures=False):
        pass


def session_workers(backend: str) -> Executor:
    """The app's own workers for `backend` (pools.process_worker), started once and lent to every
    service of the session that trains from this process: a TensorFlow worker takes 5-6 s of CPU
    to import its engines, and a new one traces every model again. One per backend and xdist
    worker: the cores are busy with the other xdist worker's."""
    if backend not in _pools or _pools[backend]._broken:
        _pools[backend] = process_worker(backend)
    return _Lent(_pools[backend])


@pytest.fixture(scope="session", autouse=True)
def _shared_pools():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(source, "SOURCE", source.Source(service=_pages_service))
        yield
    for pool in _pools.values():
        pool.shutdown(cancel_futures=True)


def pytest_collection_modifyitems(items):
    """The container's tests first: under xdist, the worker that runs them builds the image
    (minutes, mostly waiting on the network and the disk) while the other one trains."""
    items.sort(key=lambda item: item.module.__name__ != "test_container")  # a stable sort keeps the rest in order


def pytest_collection_finish(session):
    """The container image's build starts now if its tests are to run: it mostly waits on the
    network and the disk, while the tests before it train (tests/container_build.py). Each xdist
    worker collects every test, so there the build starts with the test, while the other worker
    goes on with the rest."""
    container = any(item.module.__name__ == "test_container" for item in session.items)
    if container and not XDIST_WORKER and container_build.engine_runs():
        # without MNIST the container tests fail or skip on their own, as the mnist fixture says
        with contextlib.suppress(MnistUnavailable):
            container_build.start(str(load_mnist().source))


def pytest_sessionfinish(session):
    if container_build.started is not None:
        container_build.started.stop()

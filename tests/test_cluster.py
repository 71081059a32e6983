"""Training on a real Dask cluster (a `dask scheduler` and one TensorFlow and one JAX `dask worker`,
each its own process, started as explainer/cluster.py says): the service's runs go to the worker
of their backend and equal the local pool's to the bit; two services on one store train a key
once; a worker killed mid-run is retried; a worker that does not see the store says so; the
caller imports no TensorFlow, JAX or numba."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import service_jobs
from conftest import session_workers

from bench.serve import free_port
from explainer import cluster
from explainer.config import RunConfig
from explainer.pools import SCHEDULER_VARIABLE
from explainer.service import TrainingService
from explainer.store.cache import RunStore, StoreNotShared, run_key

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[1]
# two threads (the app's workers take one), yet a backend's resource (1) lets a worker run one job
# of it at a time: two services' jobs for one key meet in the store's lock only across workers
WORKER = ["--nthreads", "2", "--no-dashboard", "--preload", "explainer.worker.dask_start", "--death-timeout", "60"]


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """The scheduler's address, with one worker per backend (the tests' jobs importable there)."""
    port = free_port()
    address, logs = f"tcp://127.0.0.1:{port}", tmp_path_factory.mktemp("dask")
    environment = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    commands = {
        "scheduler": (["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], {}),
        **{
            backend: (
                ["dask", "worker", address, "--resources", f"{backend}=1", "--name", backend, *WORKER],
                {"KERAS_BACKEND": backend},
            )
            for backend in ("tensorflow", "jax")
        },
    }
    with contextlib.ExitStack() as files:
        started = [
            subprocess.Popen(
                command, env=environment | extra, stdout=subprocess.DEVNULL, stderr=files.enter_context(open(logs / name, "w"))
            )
            for name, (command, extra) in commands.items()
        ]
        try:
            cluster.client(address).wait_for_workers(2, timeout=180)
            yield address
        finally:  # the process's connection to it is kept by its own thread (cluster.Connection): not closed here
            for process in reversed(started):
                process.send_signal(signal.SIGINT)
            for process in started:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def cluster_service(address: str, store: RunStore, job=service_jobs.train_synthetic) -> TrainingService:
    return TrainingService(store, cluster.executors(address), job=job, derive=service_jobs.derive_synthetic, prefetching=False)


def test_runs_on_the_cluster_equal_the_local_pools(scheduler, synthetic, tmp_path):
    configs = [RunConfig(engine=engine, num_epochs=2) for engine in ("tf_keras", "keras3", "keras3_jax")]
    stores = RunStore(tmp_path / "cluster"), RunStore(tmp_path / "local")
    services = (
        cluster_service(scheduler, stores[0]),
        TrainingService(stores[1], session_workers, job=service_jobs.train_synthetic),
    )
    for service in services:
        for run in [service.request(config, synthetic) for config in configs]:
            run.future.result(timeout=300)  # keras3_jax on a TensorFlow worker would raise: it needs jax
    for config in configs:
        on_cluster, local = (store.load(run_key(config, synthetic.fingerprint)) for store in stores)
        assert on_cluster.history == local.history, config.engine
        np.testing.assert_array_equal(on_cluster.kernels, local.kernels)
    for service in services:
        service.shutdown()


def test_two_services_on_one_store_train_a_key_once(scheduler, synthetic, tmp_path):
    store = RunStore(tmp_path)
    replicas = [cluster_service(scheduler, store, job=service_jobs.counted_job) for _ in range(2)]
    runs = [replica.request(RunConfig(seed=7), synthetic) for replica in replicas]  # both at once
    assert [run.future.result(timeout=60) for run in runs] == [runs[0].key] * 2
    assert len((tmp_path / "trained").read_text().splitlines()) == 1


def test_a_worker_killed_mid_run_is_retried(scheduler, synthetic, tmp_path):
    store = RunStore(tmp_path)
    (tmp_path / "hold").touch()
    run = cluster_service(scheduler, store, job=service_jobs.held_job).request(RunConfig(seed=8), synthetic)
    running = tmp_path / "running"
    deadline = time.monotonic() + 60
    while not running.exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    killed = int(running.read_text())
    running.unlink()
    os.kill(killed, signal.SIGKILL)  # its nanny starts a new worker; the scheduler gives it the run again
    while not running.exists():
        assert time.monotonic() < deadline + 120, "the run was never retried"
        time.sleep(0.1)
    (tmp_path / "hold").unlink()
    assert run.future.result(timeout=60) == run.key and store.has(run.key)
    assert int(running.read_text()) != killed


def test_a_worker_that_does_not_see_the_store_says_so(scheduler, synthetic, tmp_path):
    store = RunStore(tmp_path / "here only")
    service = TrainingService(store, cluster.executors(scheduler), prefetching=False)  # the app's own jobs
    shutil.rmtree(store.directory)  # as on a machine without the shared volume
    error = service.request(RunConfig(seed=9), synthetic).future.exception(timeout=60)
    assert isinstance(error, StoreNotShared) and "every replica and worker must see one store" in str(error)


CALLER = """
import sys
from pathlib import Path
from explainer.config import RunConfig
from explainer.data import read_mnist
from explainer.service import TrainingService
from explainer.store.cache import RunStore
service = TrainingService(RunStore(Path(sys.argv[1])))
run = service.request(RunConfig(num_epochs=1, train_subset=200), read_mnist(sys.argv[2]))
run.future.result(timeout=300)
import multiprocessing
# stored, trained by none of this process's children, through Dask's client, with no backend loaded here
print(service.store.has(run.key), len(multiprocessing.active_children()), "distributed" in sys.modules,
      *sorted({"tensorflow", "jax", "numba", "keras"} & set(sys.modules)))
"""


def test_the_caller_trains_real_mnist_on_the_cluster_and_imports_no_backend(scheduler, mnist, tmp_path):
    environment = os.environ | {SCHEDULER_VARIABLE: scheduler}
    done = subprocess.run(
        [sys.executable, "-c", CALLER, str(tmp_path), str(mnist.source)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["True", "0", "True"]


def test_a_prefetch_gives_its_worker_up_to_what_another_replica_waits_for(scheduler, synthetic, tmp_path):
    """Replicas share no count of waited jobs; the worker's own queue tells a running prefetch
    that somebody waits, and what it went back for runs first."""
    store = RunStore(tmp_path)
    (tmp_path / "hold").touch()
    ahead_replica, asking_replica = (
        TrainingService(store, cluster.executors(scheduler), job=service_jobs.courteous_job) for _ in range(2)
    )
    ahead = ahead_replica.request(RunConfig(seed=1), synthetic, prefetch=True)  # holds the TensorFlow worker until released
    deadline = time.monotonic() + 60
    while not (tmp_path / "starts").exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    asked = asking_replica.request(RunConfig(seed=2), synthetic, "a")
    asked.future.result(timeout=60)  # without giving way, it would wait for the prefetch's release
    assert not ahead.future.done()
    while (tmp_path / "starts").read_text().count("started") < 2:  # queued again, started again
        assert time.monotonic() < deadline + 60
        time.sleep(0.1)
    (tmp_path / "hold").unlink()
    assert ahead.future.result(timeout=60) == ahead.key and store.has(ahead.key)
    for replica in (ahead_replica, asking_replica):
        replica.shutdown()

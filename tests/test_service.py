"""The training service: one run per key (threads, processes), pools recycled, dead workers and
raising runs reported, and no TensorFlow on the caller's side."""

import ast
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import pytest
import service_jobs
from streamlit.testing.v1 import AppTest

from explainer import pools
from explainer import service as service_module
from explainer.config import RunConfig
from explainer.derivations import StepQuality
from explainer.jobs import Unreachable, failure
from explainer.pools import worker_count
from explainer.run import RunResult
from explainer.service import TrainingService
from explainer.store.cache import RunStore
from explainer.worker import process
from ui import source

ROOT = Path(__file__).parents[1]


def one_process(backend: str) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))


@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path)


@pytest.fixture(autouse=True)
def one_worker(monkeypatch):
    monkeypatch.setenv("EXPLAINER_WORKERS", "1")


def wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_concurrent_requests_share_one_run(store, synthetic):
    calls = []

    def counted(job):
        calls.append(job.key)
        time.sleep(0.3)  # long enough for every other request to arrive meanwhile
        return service_jobs.pid_job(job)

    service = TrainingService(store, lambda backend: ThreadPoolExecutor(4), job=counted)
    runs = []
    threads = [threading.Thread(target=lambda: runs.append(service.request(RunConfig(), synthetic))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(run.future) for run in runs}) == 1
    runs[0].future.result()
    assert len(calls) == 1 and store.has(runs[0].key)
    again = service.request(RunConfig(), synthetic)  # from the store now: already done, no new job
    assert again.future.done() and len(calls) == 1


@pytest.mark.integration
def test_two_processes_on_one_store_train_a_key_once(tmp_path):
    log = tmp_path / "trained.log"
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        seconds = list(pool.map(service_jobs.train_through_the_lock, [str(tmp_path)] * 2, ["abc"] * 2, [str(log)] * 2))
    assert len(log.read_text().split()) == 1  # one process trained; the other waited on the lock
    assert seconds[0] == seconds[1]  # and read the very entry the first one stored


@pytest.mark.integration
def test_a_pool_that_served_its_runs_serves_until_its_successor_is_up_then_exits(store, synthetic, tmp_path):
    """Nobody waits for a pool's start (a TensorFlow worker's takes seconds): the next pool starts
    beside the one that served its runs, which goes on serving until then."""
    gate = tmp_path / "workers may start"
    gate.touch()

    def gated_process(backend: str) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(1, mp_context=context, initializer=service_jobs.start_when_present, initargs=(str(gate),))

    service = TrainingService(store, gated_process, runs_per_worker=2, job=service_jobs.pid_job)
    try:
        pids = [service.request(RunConfig(seed=seed), synthetic).future.result(timeout=120) for seed in range(2)]
        gate.unlink()  # the next pool's worker cannot start
        pids += [service.request(RunConfig(seed=seed), synthetic).future.result(timeout=60) for seed in range(2, 5)]
        assert set(pids) == {pids[0]} and service.pools.started == 2
        gate.touch()
        wait_for(lambda: not psutil.pid_exists(pids[0]))  # retired once its successor was up: its memory given back
        assert service.request(RunConfig(seed=5), synthetic).future.result(timeout=60) != pids[0]
        assert service.pools.started == 2
    finally:
        gate.touch()
        service.shutdown()


@pytest.mark.integration
def test_derived_results_do_not_use_up_a_pools_runs(store, synthetic):
    """A pool is replaced for what training leaves in its workers; a derived result leaves nothing."""
    service = TrainingService(store, one_process, runs_per_worker=1, derive=service_jobs.pid_derived)
    try:
        futures = [service.derive(StepQuality(RunConfig(seed=seed)), synthetic)[1] for seed in range(3)]
        assert len({future.result(timeout=120) for future in futures}) == 1 and service.pools.started == 1
    finally:
        service.shutdown()


@pytest.mark.integration
def test_a_killed_worker_leaves_no_entry_and_the_next_request_trains(store, synthetic):
    (store.directory / "hold").touch()
    service = TrainingService(store, one_process, job=service_jobs.held_job)
    run = service.request(RunConfig(), synthetic)
    wait_for(lambda: (store.directory / "running").exists())
    os.kill(int((store.directory / "running").read_text()), signal.SIGKILL)
    error = run.future.exception(timeout=60)
    assert "worker process training it stopped" in failure(error)
    assert not store.has(run.key)
    (store.directory / "hold").unlink()
    retry = service.request(RunConfig(), synthetic)
    assert retry.future is not run.future
    retry.future.result(timeout=120)
    assert store.has(retry.key) and service.pools.started == 2
    service.shutdown()


@pytest.mark.integration
def test_a_raising_run_returns_its_message(store, synthetic):
    service = TrainingService(store, one_process, job=service_jobs.raising_job)
    run = service.request(RunConfig(learning_rate=0.5), synthetic)
    assert failure(run.future.exception(timeout=120)) == "learning rate 0.5 is not allowed here"
    assert not store.has(run.key)
    service.shutdown()


def test_shutdown_returns_while_a_run_finishes_and_starts_nothing_more(store, synthetic):
    started, release = threading.Event(), threading.Event()

    def slow(job):
        started.set()
        release.wait(30)
        return service_jobs.pid_job(job)

    service = TrainingService(store, lambda backend: ThreadPoolExecutor(1), job=slow)
    first, queued = (service.request(RunConfig(seed=seed), synthetic) for seed in (0, 1))
    assert started.wait(30)
    stopper = threading.Thread(target=service.shutdown)
    stopper.start()
    time.sleep(0.3)  # shutdown is waiting for the pool by now
    release.set()  # the run finishes meanwhile: its callback takes the service's lock
    stopper.join(timeout=30)
    assert not stopper.is_alive(), "shutdown deadlocked with a finishing run"
    assert first.future.result() and queued.future.cancelled() and not service.pools.active


def test_prefetching_comes_from_the_environment(monkeypatch, tmp_path, synthetic):
    """Off: a prefetch is refused at once and no worker starts; asked for, the same run trains."""
    monkeypatch.setenv("EXPLAINER_PREFETCH", "off")
    service = TrainingService(RunStore(tmp_path), lambda backend: ThreadPoolExecutor(1), job=service_jobs.pid_job)
    try:
        assert service.request(RunConfig(seed=1), synthetic, prefetch=True).future.cancelled()
        assert not service.pools.active
        assert service.request(RunConfig(seed=1), synthetic).future.result(timeout=30)
    finally:
        service.shutdown()
    monkeypatch.setenv("EXPLAINER_PREFETCH", " On ")
    assert TrainingService(RunStore(tmp_path), lambda backend: ThreadPoolExecutor(1)).prefetching
    monkeypatch.setenv("EXPLAINER_PREFETCH", "no")
    with pytest.raises(ValueError, match='EXPLAINER_PREFETCH must be "on" or "off"'):
        TrainingService(RunStore(tmp_path), lambda backend: ThreadPoolExecutor(1))


def test_worker_count_comes_from_the_environment(monkeypatch):
    assert worker_count() == 1
    monkeypatch.delenv("EXPLAINER_WORKERS")
    assert worker_count() == (os.cpu_count() or 1)
    monkeypatch.setenv("EXPLAINER_WORKERS", "two")
    with pytest.raises(ValueError, match="EXPLAINER_WORKERS must be a whole number"):
        worker_count()


def page_imports() -> str:
    """Every import statement of app.py and the pages, as source (app.py's are under its `if`s)."""
    found = []
    for path in [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]:
        tree = ast.parse(path.read_text())
        found += [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "; ".join(found)


def test_the_server_side_never_imports_tensorflow():
    """What app.py and the pages import, without TensorFlow, Keras, JAX or the compiled kernels
    (numba)."""
    code = (
        f"import sys; {page_imports()}; "
        "print(all(name in sys.modules for name in ('altair', 'ui.runs', 'ui.boot', 'explainer.reader.charts', "
        "'explainer.plan')), "
        "sorted(name for name in ('tensorflow', 'keras', 'tf_keras', 'jax', 'numba') if name in sys.modules))"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "True []"


def test_a_worker_started_by_a_page_never_runs_the_app(store, synthetic, monkeypatch):
    """While a page runs, Streamlit makes app.py the process's __main__, and a spawned worker
    imports its parent's __main__ again before any job: there, app.py must do nothing and import
    nothing (before: every worker drew the sidebar in bare mode and imported Streamlit)."""
    service = TrainingService(store, one_process, job=service_jobs.raising_job)  # the page stops at its first run
    monkeypatch.setattr(source, "SOURCE", source.Source(service=lambda _: service, mnist=lambda: synthetic))
    monkeypatch.setattr(source, "_services", {})
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(store.directory))
    try:
        AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()  # its first request starts the pools
        assert service.pools.started >= 1
        main, streamlit_imported = service.submit(service_jobs.what_the_worker_ran).result(timeout=60)
        assert main == str(ROOT / "app.py") and not streamlit_imported
    finally:
        service.shutdown()


@pytest.mark.integration
def test_a_workers_start_is_its_imports_only():
    """The first job, which a visitor usually waits for, waits for nothing but the imports: no
    engine's first traces, no compiled kernels (8 s to compile on a fresh clone), nothing it never
    needs; and the worker leaves the cores to the server's script runs first, and the other
    worker's its own (NumPy's and SciPy's BLAS on one thread)."""
    with pools.process_worker("tensorflow") as pool:
        held = pool.submit(service_jobs.what_a_started_worker_holds).result(timeout=120)
    assert held == {
        "engines imported": True,
        "models traced": 0,
        "kernels loaded": False,
        "kept out": ["jax", "pandas", "matplotlib", "IPython"],
        "niceness above its parent's": min(process.WORKER_NICENESS, 19 - os.getpriority(os.PRIO_PROCESS, 0)),
        "BLAS libraries": 2,
        "threads of each": [1],
    }


@pytest.mark.integration
def test_a_jax_worker_keeps_out_what_only_tensorflow_needs():
    """A JAX worker never imports TensorFlow, which Keras 3 imports merely to seed it, nor
    requests, which it imports for a callback that posts to a server (0.27 s of its import)."""
    with pools.process_worker("jax") as pool:
        assert pool.submit(service_jobs.kept_out, ["tensorflow", "requests"]).result(timeout=120) == ["tensorflow", "requests"]


@pytest.mark.integration
def test_a_jax_worker_trains_on_one_core_and_computes_on_every_one():
    """XLA's CPU client keeps threads of its own whatever its flags say: a run keeps every thread
    of the worker on one core, as a TensorFlow worker keeps itself; after it, a derived result's
    compiled kernels may use every core again."""
    with pools.process_worker("jax") as worker:
        during, after = worker.submit(service_jobs.cores_during_a_run_and_after).result(timeout=120)
    assert during == {1} and after == {len(os.sched_getaffinity(0))}


def test_a_new_jax_worker_loads_what_an_earlier_one_compiled(tmp_path, monkeypatch):
    """XLA's programs are kept on disk: a new JAX worker loads every program of a run that an
    earlier worker compiled (each took 0.5-1.4 s to compile), compiles anew each one whose entry
    is damaged, and trains the same numbers."""
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path))
    config = RunConfig(engine="keras3_jax", num_epochs=1, batch_size=48, train_subset=200)

    def in_a_new_worker() -> tuple[int, int, RunResult]:
        with pools.process_worker("jax") as worker:
            return worker.submit(service_jobs.compiles_loaded, config).result(timeout=120)

    asked, loaded, first = in_a_new_worker()
    assert asked > 0 and loaded == 0
    damaged = sorted(tmp_path.glob("*-cache"))[::2]
    for entry in damaged:
        entry.write_bytes(entry.read_bytes()[:100])
    asked_again, loaded_again, again = in_a_new_worker()
    assert asked_again == asked and loaded_again == asked - len(damaged) > 0
    assert again.history == first.history
    np.testing.assert_array_equal(again.kernels, first.kernels)


def test_a_pool_that_cannot_start_fails_the_run_not_the_caller(store, synthetic):
    def unstartable(backend):
        raise OSError("cannot start a worker process")

    run = TrainingService(store, unstartable).request(RunConfig(), synthetic)
    assert failure(run.future.exception()) == "cannot start a worker process"


class Recorder:
    """A job for threads: records which configs started, in order; the first one waits until
    `release` is set, so that every other request queues behind it."""

    def __init__(self):
        self.started, self.release = [], threading.Event()

    def __call__(self, job):
        self.started.append(job.config)
        if len(self.started) == 1:
            assert self.release.wait(30)
        return service_jobs.pid_job(job)


def test_a_small_run_does_not_wait_behind_another_sessions_long_ones(store, synthetic):
    recorder = Recorder()
    service = TrainingService(store, lambda backend: ThreadPoolExecutor(1), job=recorder)
    long_runs = [service.request(RunConfig(num_epochs=20, seed=seed), synthetic, "a") for seed in range(3)]
    small = service.request(RunConfig(num_epochs=1), synthetic, "b")
    recorder.release.set()
    small.future.result(timeout=30)
    for run in long_runs:
        run.future.result(timeout=30)
    assert recorder.started[1] == RunConfig(num_epochs=1)  # right after the run that was training
    assert [config.seed for config in recorder.started[2:]] == [1, 2]


def test_runs_of_a_session_that_left_are_dropped_before_they_start(store, synthetic):
    recorder, present = Recorder(), {"a", "b"}
    service = TrainingService(store, lambda backend: ThreadPoolExecutor(1), job=recorder, session_alive=present.__contains__)
    first = service.request(RunConfig(seed=0), synthetic, "a")
    left = service.request(RunConfig(seed=1), synthetic, "a")
    shared = service.request(RunConfig(seed=2), synthetic, "a")
    assert service.request(RunConfig(seed=2), synthetic, "b").future is shared.future
    present.discard("a")
    recorder.release.set()
    first.future.result(timeout=30)  # it had started: it finishes
    shared.future.result(timeout=30)  # "b" still waits for it
    assert left.future.cancelled() and not store.has(left.key)
    assert [config.seed for config in recorder.started] == [0, 2]


def test_a_session_may_not_queue_without_bound(store, synthetic, monkeypatch):
    monkeypatch.setattr(service_module, "MAX_QUEUED_STEPS_PER_SESSION", 3 * RunConfig().training_steps)
    recorder = Recorder()
    service = TrainingService(store, lambda backend: ThreadPoolExecutor(1), job=recorder)
    runs = [service.request(RunConfig(seed=seed), synthetic, "a") for seed in range(5)]
    # one is training, three wait: the fifth would make four waiting
    assert "may have at most 56,250" in failure(runs[4].future.exception(timeout=1))
    other = service.request(RunConfig(seed=9), synthetic, "b")  # another session is not affected
    recorder.release.set()
    assert other.future.result(timeout=30) and all(run.future.result(timeout=30) for run in runs[:4])


class Held:
    """A job for threads: the runs of the given seeds wait until their release; each answers
    which thread ran it."""

    def __init__(self, *seeds):
        self.release = {seed: threading.Event() for seed in seeds}

    def __call__(self, job):
        if job.config.seed in self.release:
            assert self.release[job.config.seed].wait(30)
        job.store.store(job.key, service_jobs.fake_result(job.config))
        return threading.get_ident()


def thread_workers(made: list[str]):
    """A factory of workers of a thread each, which lists in `made` the backend of each it makes."""

    def worker(backend: str) -> ThreadPoolExecutor:
        made.append(backend)
        return ThreadPoolExecutor(1)

    return worker


def test_a_pool_starts_a_worker_only_while_every_other_one_is_busy(store, synthetic, monkeypatch):
    """A worker's start costs seconds of CPU (a TensorFlow worker imports its engines, a JAX worker
    compiles each new model): a run handed on as another one ends, from that one's callback, goes
    to the worker it leaves idle; a second worker starts for two runs at once."""
    monkeypatch.setenv("EXPLAINER_WORKERS", "2")
    made, held = [], Held(0, 3)
    service = TrainingService(store, thread_workers(made), job=held)
    try:
        other = service.request(RunConfig(engine="keras3_jax", seed=0), synthetic)  # holds one of the two
        handed_on = [service.request(RunConfig(seed=seed), synthetic) for seed in (1, 2)]  # the second waits for the first
        assert len({run.future.result(timeout=30) for run in handed_on}) == 1
        assert made == ["jax", "tensorflow"]
        held.release[0].set()
        other.future.result(timeout=30)
        at_once = [service.request(RunConfig(seed=seed), synthetic) for seed in (3, 4)]
        beside = at_once[1].future.result(timeout=30)  # while the first still runs
        held.release[3].set()
        assert at_once[0].future.result(timeout=30) != beside and made == ["jax", "tensorflow", "tensorflow"]
    finally:
        for release in held.release.values():
            release.set()
        service.shutdown()


def test_a_run_somebody_waits_for_goes_to_the_worker_of_a_prefetch_rather_than_a_new_one(store, synthetic, monkeypatch):
    """A prefetch gives its worker up within a moment of somebody waiting (jobs.give_way); a new
    worker's start takes seconds. Here the prefetch is held instead, until the asked run is queued
    behind it on the same worker."""
    monkeypatch.setenv("EXPLAINER_WORKERS", "2")
    made, held = [], Held(0)
    service = TrainingService(store, thread_workers(made), job=held)
    try:
        ahead = service.request(RunConfig(seed=0), synthetic, prefetch=True)
        asked = service.request(RunConfig(seed=1), synthetic, "a")
        held.release[0].set()
        assert asked.future.result(timeout=30) == ahead.future.result(timeout=30) and made == ["tensorflow"]
    finally:
        held.release[0].set()
        service.shutdown()


def test_a_derived_result_goes_to_an_idle_worker_of_any_backend(store, synthetic, monkeypatch):
    """Derived results are NumPy and numba only: one asked for while the TensorFlow worker trains
    goes to the idle JAX worker rather than starting a TensorFlow worker (seconds of imports)."""
    monkeypatch.setenv("EXPLAINER_WORKERS", "2")
    made, held = [], Held(1)
    service = TrainingService(store, thread_workers(made), job=held, derive=lambda job: threading.get_ident())
    try:
        jax = service.request(RunConfig(engine="keras3_jax"), synthetic).future.result(timeout=30)
        training = service.request(RunConfig(seed=1), synthetic)  # holds the TensorFlow worker
        assert service.derive(StepQuality(RunConfig()), synthetic)[1].result(timeout=30) == jax
        held.release[1].set()
        assert training.future.result(timeout=30) != jax and made == ["jax", "tensorflow"]
    finally:
        held.release[1].set()
        service.shutdown()


def test_of_equally_small_runs_one_on_a_backend_with_nothing_running_goes_first(store, synthetic, monkeypatch):
    """A cold host's answer: its JAX runs start beside its first TensorFlow run and follow each
    other (on one worker, its model compiled), rather than all after the TensorFlow ones."""
    monkeypatch.setenv("EXPLAINER_WORKERS", "2")
    recorder = Recorder()  # the first run waits for its release
    service = TrainingService(store, lambda backend: ThreadPoolExecutor(1), job=recorder)
    configs = [RunConfig(seed=0), RunConfig(seed=1), *(RunConfig(engine="keras3_jax", seed=seed) for seed in (2, 3))]
    service.request_all(configs, synthetic, prefetch=True)  # at the server's start: one prefetch runs, the rest wait
    while not recorder.started:  # its thread has taken it (on a busy machine, after the visitor's first run would)
        time.sleep(0.01)
    runs = service.request_all(configs, synthetic, "a")  # the first visitor
    runs[3].future.result(timeout=30)
    recorder.release.set()
    for run in runs:
        run.future.result(timeout=30)
    assert [config.seed for config in recorder.started] == [0, 2, 3, 1]


def test_prefetch_leaves_a_worker_free_for_what_somebody_asks_next(store, synthetic, monkeypatch):
    monkeypatch.setenv("EXPLAINER_WORKERS", "2")
    recorder = Recorder()
    service = TrainingService(store, lambda backend: ThreadPoolExecutor(2), job=recorder)
    ahead = [service.request(RunConfig(num_epochs=1, seed=seed), synthetic, prefetch=True) for seed in (1, 2)]
    asked = service.request(RunConfig(seed=5), synthetic, "a")
    asked.future.result(timeout=30)  # while the first prefetched run still holds its worker
    assert [config.seed for config in recorder.started] == [1, 5]
    recorder.release.set()
    for run in ahead:
        run.future.result(timeout=30)
    assert [config.seed for config in recorder.started] == [1, 5, 2]


def test_prefetch_never_goes_before_a_run_somebody_waits_for(store, synthetic):
    recorder = Recorder()
    service = TrainingService(store, lambda backend: ThreadPoolExecutor(1), job=recorder)
    first = service.request(RunConfig(seed=0), synthetic, "a")  # holds the one worker
    ahead = [service.request(RunConfig(num_epochs=1, seed=seed), synthetic, prefetch=True) for seed in (1, 2, 3)]
    waited = service.request(RunConfig(num_epochs=20, seed=4), synthetic, "b")  # larger, but somebody waits
    promoted = service.request(RunConfig(num_epochs=1, seed=3), synthetic, "c")  # asked for now: no longer a prefetch
    assert promoted.future is ahead[2].future
    recorder.release.set()
    for run in (first, waited, *ahead):
        run.future.result(timeout=30)
    assert [config.seed for config in recorder.started] == [0, 3, 4, 1, 2]  # waited-for ones first, smallest first


def courteous_pool(backend: str) -> ProcessPoolExecutor:
    """One worker that gives way as process_worker's do, without Keras."""
    return ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn"), initializer=service_jobs.courteous, initargs=(pools.WAITED,)
    )


@pytest.fixture
def held_prefetch(store, synthetic):
    """(service, run): a service on one courteous worker, running a prefetch (seed 1) that holds
    the worker, giving way when it must, until `<store>/hold` goes."""
    (store.directory / "hold").touch()
    service = TrainingService(store, courteous_pool, job=service_jobs.courteous_job)
    ahead = service.request(RunConfig(seed=1), synthetic, prefetch=True)
    wait_for(lambda: (store.directory / "starts").exists())
    yield service, ahead
    service.shutdown()


@pytest.mark.integration
def test_a_running_prefetch_gives_its_worker_up_to_what_somebody_waits_for(store, synthetic, held_prefetch):
    service, ahead = held_prefetch
    asked = service.request(RunConfig(seed=2), synthetic, "a")
    asked.future.result(timeout=30)  # without giving way, it would wait for the prefetch's release
    assert not ahead.future.done()
    wait_for(lambda: (store.directory / "starts").read_text().count("started") == 2)  # queued again, started again
    (store.directory / "hold").unlink()
    assert ahead.future.result(timeout=30) == ahead.key and store.has(ahead.key)
    assert pools.WAITED.value == 0


@pytest.mark.integration
def test_a_running_prefetch_somebody_starts_waiting_for_goes_on_instead_of_giving_way(store, synthetic, held_prefetch):
    """It is what somebody waits for now: giving way would start it again from nothing."""
    service, ahead = held_prefetch
    claimed = service.request(RunConfig(seed=1), synthetic, "a")
    other = service.request(RunConfig(seed=2), synthetic, "b")  # somebody waits: a prefetch would give way now
    time.sleep(1)  # the held job checks every 0.05 s
    assert claimed.future is ahead.future and not other.future.done()
    (store.directory / "hold").unlink()
    assert ahead.future.result(timeout=30) and other.future.result(timeout=30)
    assert (store.directory / "starts").read_text().count("started") == 1  # never started again
    assert pools.WAITED.value == 0 and not store.claimed_path(ahead.key).exists()


class Cluster:
    """Workers behind a scheduler that goes away and comes back, as Dask's client shows it to an
    executor: while away, submitting raises Unreachable, and what the scheduler had is cancelled."""

    def __init__(self):
        self.away, self.handed, self.threads = False, [], ThreadPoolExecutor(2)

    def executor(self, backend: str):
        if self.away:
            raise Unreachable("the scheduler is away")
        return self

    def submit(self, function, *args) -> Future:
        if self.away:
            raise Unreachable("the scheduler is away")
        future = Future()
        self.handed.append(future)

        def run() -> None:
            result = function(*args)
            if future.set_running_or_notify_cancel():  # a cancelled one's result goes nowhere
                future.set_result(result)

        self.threads.submit(run)
        return future

    def go_away(self) -> None:
        self.away = True
        for future in self.handed:
            future.cancel()


# how long the scheduler stays away: about an even and an odd number of offers at RETRY_SECONDS
# 0.1 (a lost run that took a new place at each failed offer swapped with the later one each time)
@pytest.mark.parametrize("away_seconds", [0.45, 0.55])
def test_a_run_lost_with_its_scheduler_waits_for_its_return_then_finishes(store, synthetic, monkeypatch, away_seconds):
    monkeypatch.setattr(service_module, "RETRY_SECONDS", 0.1)
    cluster, recorder = Cluster(), Recorder()
    service = TrainingService(store, cluster.executor, job=recorder)
    training = service.request(RunConfig(seed=0), synthetic, "a")
    wait_for(lambda: recorder.started)
    assert service.unreachable_for is None
    cluster.go_away()
    asked_meanwhile = service.request(RunConfig(seed=1), synthetic, "b")
    time.sleep(away_seconds)  # offered again a few times meanwhile
    assert not training.future.done() and not asked_meanwhile.future.done()
    assert service.unreachable_for is not None
    cluster.away = False
    recorder.release.set()
    for run in (training, asked_meanwhile):
        assert run.future.exception(timeout=10) is None and store.has(run.key)
    assert service.unreachable_for is None
    assert [config.seed for config in recorder.started] == [0, 0, 1]  # the lost run, given again

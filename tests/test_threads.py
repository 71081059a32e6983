"""The compiled kernels' parts on threads: small work stays on the calling thread, larger work
goes to as many threads as numba may use, and runs of rows cover every row once."""

import threading

import numba
import pytest

from explainer.worker.threads import THREADED_EVALUATIONS, on_row_runs, on_threads


@pytest.fixture
def two_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one core: numba uses one thread")
    threads = numba.get_num_threads()
    numba.set_num_threads(2)
    yield
    numba.set_num_threads(threads)


def threads_of(parts: int, evaluations: int) -> list[str]:
    names = [""] * parts

    def work(part: int) -> None:
        names[part] = threading.current_thread().name

    on_threads(work, parts, evaluations)
    return names


def test_work_below_the_threshold_stays_on_the_calling_thread(two_threads):
    assert set(threads_of(8, THREADED_EVALUATIONS - 1)) == {threading.current_thread().name}


def test_work_at_the_threshold_goes_to_the_kernels_threads(two_threads):
    names = threads_of(8, THREADED_EVALUATIONS)
    assert all(name.startswith("kernel") for name in names)


def test_one_thread_keeps_all_work_on_the_calling_thread(two_threads):
    numba.set_num_threads(1)
    assert set(threads_of(8, 10 * THREADED_EVALUATIONS)) == {threading.current_thread().name}


@pytest.mark.parametrize("rows", [0, 1, 2, 3, 7, 1000])
def test_runs_of_rows_cover_every_row_once_in_one_run_per_thread(two_threads, rows):
    runs = []
    lock = threading.Lock()

    def work(start: int, stop: int) -> None:
        with lock:
            runs.append((start, stop))

    on_row_runs(work, rows, THREADED_EVALUATIONS)
    assert sorted(row for start, stop in runs for row in range(start, stop)) == list(range(rows))
    assert len(runs) == min(2, rows) and all(start < stop for start, stop in runs)

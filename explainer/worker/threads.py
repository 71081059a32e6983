"""How the compiled kernels run in parallel: each kernel compiled for one part of its work (a
group of samples, a tile, a run of rows) with numba's `nogil`, and its parts run on Python
threads. Not numba's parallel loops (`prange`): numba compiles a parallel loop's body several
times slower, and a host that wakes with an empty disk has no numba cache, so its first loss
surface waits for that. Measured on empty caches, side by side: every kernel of a surface
compiled in 28.8-29.8 s with parallel loops, 7.0-7.3 s as parts (bench_surface's
kernels_compile_s); each computes the same bits at the same speed or faster. Threads that wait
sleep: nothing spins on a core between one small kernel and the next, as OpenMP's threads did."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba

# work of fewer (sample, point) evaluations than this runs on the calling thread: handing parts to
# threads costs about what 10,000 take (measured, the line of one step's quality, 81 points, on 2
# threads against 1: 32 samples 0.53 against 0.22 ms, 128 0.58 against 0.51, 512 1.35 against 1.8)
THREADED_EVALUATIONS = 20_000


@functools.cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(threads, thread_name_prefix="kernel")


def on_threads(work: Callable[[int], None], parts: int, evaluations: int) -> None:
    """work(0), ..., work(parts - 1), in no particular order, on numba's count of threads
    (numba.get_num_threads(): NUMBA_NUM_THREADS, set_num_threads) once they add up to at least
    THREADED_EVALUATIONS evaluations."""
    threads = numba.get_num_threads()
    if threads == 1 or parts == 1 or evaluations < THREADED_EVALUATIONS:
        for part in range(parts):
            work(part)
    else:
        list(_pool(threads).map(work, range(parts)))


def on_row_runs(work: Callable[[int, int], None], rows: int, evaluations: int) -> None:
    """work(start, stop) over range(rows), in one contiguous run per thread (on_threads)."""
    runs = min(numba.get_num_threads(), rows)
    on_threads(lambda run: work(run * rows // runs, (run + 1) * rows // runs), runs, evaluations)

"""The libraries Keras computes with, one record each. Keras 3 picks its backend once per process,
at import, so each backend has its own workers (a pool, or a Dask worker group with the backend's
resource). Adding one is a record here, its loops on the worker side, and its packages in
requirements.txt; an engine names its backend (explainer/engines.py)."""

from __future__ import annotations

import dataclasses

# what no backend's worker needs, kept out of it: Keras imports pandas (to accept DataFrames),
# matplotlib's pyplot (for its image gallery) and IPython (to tell whether it runs in a notebook);
# each import guards against its module missing. Measured on 2 cores (python -X importtime;
# IPython: medians of 8 starts): JAX and pandas took 1.8 s of a TensorFlow worker's 8.5 s import,
# pyplot 0.6 s more, IPython 0.45 s of the remaining 4.7 s
NEVER_IN_A_WORKER = ("pandas", "matplotlib", "IPython")


# how much lower a worker's CPU priority is than its server's: a page's script run takes a core
# before training does, and training takes every core the server leaves idle. Measured on 2 cores,
# a cold host's first visitor (bench_demo's cold figures): the page's first paint 2.4-2.5 s while
# the workers imported TensorFlow at the same priority, 1.8-2.1 s at this one
WORKER_NICENESS = 10
# and a JAX worker's below TensorFlow's: the question's own engine (tf.keras 2) states the
# answer's first sentences, and a JAX worker's first compiles take more than a core. Measured on
# 2 cores, five cold hosts' first visits (bench_load --cold 5, medians): the first sentence 6.0 s
# with both at WORKER_NICENESS, 4.6 s with JAX's here; the whole answer 21.1 s and 18.7 s
LAST_NICENESS = 19  # the lowest priority there is


@dataclasses.dataclass(frozen=True)
class Backend:
    """code: KERAS_BACKEND's value, the name of its pool and of its Dask resource. loops: its
    module on the worker side (explainer/worker/<loops>.py: its graph options, its compiled loops,
    its arrays on the device, its threads). kept_out: what its workers never import, beside
    NEVER_IN_A_WORKER. niceness: how much lower its workers' CPU priority is than their parent's."""

    code: str
    loops: str
    kept_out: tuple[str, ...] = ()
    niceness: int = WORKER_NICENESS

    @property
    def never_imported(self) -> tuple[str, ...]:
        return (*self.kept_out, *NEVER_IN_A_WORKER)


BACKENDS: dict[str, Backend] = {
    backend.code: backend
    for backend in (
        # TensorFlow imports JAX where it is installed (TF Lite jits with it)
        Backend("tensorflow", "tf_loops", kept_out=("jax",)),
        # Keras 3 imports TensorFlow merely to seed it (400 MB)
        Backend("jax", "jax_loops", kept_out=("tensorflow",), niceness=LAST_NICENESS),
    )
}

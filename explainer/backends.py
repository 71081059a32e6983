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


@dataclasses.dataclass(frozen=True)
class Backend:
    """code: KERAS_BACKEND's value, the name of its pool and of its Dask resource. loops: its
    module on the worker side (explainer/worker/<loops>.py: its graph options, its compiled loops,
    its arrays on the device, its threads). kept_out: what its workers never import, beside
    NEVER_IN_A_WORKER."""

    code: str
    loops: str
    kept_out: tuple[str, ...] = ()

    @property
    def never_imported(self) -> tuple[str, ...]:
        return (*self.kept_out, *NEVER_IN_A_WORKER)


BACKENDS: dict[str, Backend] = {
    backend.code: backend
    for backend in (
        # TensorFlow imports JAX where it is installed (TF Lite jits with it)
        Backend("tensorflow", "tf_loops", kept_out=("jax",)),
        # Keras 3 imports TensorFlow merely to seed it (400 MB), and requests for a callback that
        # posts to a server (0.27 s of a JAX worker's 1.9 s import; TensorFlow's needs it)
        Backend("jax", "jax_loops", kept_out=("tensorflow", "requests")),
    )
}

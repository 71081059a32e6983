"""Where the pages' runs come from: one training service per cache directory for the whole
server, and MNIST. The app's are the real ones; tests put synthetic data and their own workers
here (`SOURCE`)."""

from __future__ import annotations

import dataclasses
import pickle
import threading
from collections.abc import Callable
from pathlib import Path

import streamlit as st
from streamlit.runtime import Runtime

from explainer.config import RunConfig
from explainer.data import Mnist, MnistUnavailable, load_mnist
from explainer.findings import surface
from explainer.obtain import find_mnist
from explainer.service import TrainingService
from explainer.store.cache import RunStore, cache_dir
from explainer.view import View


def _session_alive(session: str) -> bool:
    """Whether a browser session is still connected (always, outside a running server)."""
    return not Runtime.exists() or Runtime.instance().is_active_session(session)


@dataclasses.dataclass(frozen=True)
class Source:
    """The service made for a store, and MNIST."""

    service: Callable[[RunStore], TrainingService] = lambda store: TrainingService(store, session_alive=_session_alive)
    mnist: Callable[[], Mnist] = load_mnist


SOURCE = Source()
_services: dict[str, TrainingService] = {}
_services_lock = threading.Lock()


def service() -> TrainingService:
    """One service per cache directory for the whole server: every session shares its runs. A
    plain dict, not st.cache_resource: a page asks for it dozens of times, and Streamlit's cache
    inspects and hashes its arguments on every call (measured: 15% of the server's CPU)."""
    directory = str(cache_dir())
    with _services_lock:
        if directory not in _services:
            _services[directory] = SOURCE.service(RunStore(Path(directory)))
        return _services[directory]


def where() -> tuple[str, str]:
    """The store and the data a page's results come from: part of every per-process cache key
    of what a page shows, so that another store or data set never shares an entry."""
    return str(service().store.directory), SOURCE.mnist().fingerprint


# how the per-process caches of what pages show hash the records in their keys (st.cache_resource's
# hash_funcs): Streamlit hashes a dataclass through dataclasses.asdict, 0.26 ms for a View, and a
# page asks those caches about 20 times; pickled, 7 us. Unequal records never pickle alike, so no
# view is ever given another's entry
RECORDS = {View: pickle.dumps, RunConfig: pickle.dumps, surface.SurfaceRequest: pickle.dumps}


def mnist() -> Mnist:
    """MNIST, downloaded once by a worker if Keras' cache lacks it; when it cannot be had, the
    page says why and stops."""
    try:
        return find_mnist(service(), SOURCE.mnist, lambda: st.spinner("Downloading MNIST (11 MB) once with Keras' own loader..."))
    except MnistUnavailable as error:
        st.error(f"MNIST could not be loaded, so nothing can be trained. {error}")
        st.stop()

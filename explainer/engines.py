"""The Keras engines: one record each (its library, its backend, the packages its numbers depend
on, its words, its imports in a notebook). Adding an engine is a record here; on a new backend,
that backend's record (explainer/backends.py) with its loops, and its packages in requirements.txt."""

from __future__ import annotations

import dataclasses
import functools
from importlib import metadata

from explainer.backends import BACKENDS


@dataclasses.dataclass(frozen=True)
class Engine:
    """code: in URLs, JSON and the CLI. module: what `import` gives its Keras. backend: the
    library it computes with (Keras 3 picks it once per process, at import; a worker runs one).
    packages: the distributions whose versions decide its numbers (part of every cache key).
    name: short, for charts and headings. label: for the sidebar's control. imports: how a
    notebook gets its Keras, chosen before it is imported."""

    code: str
    module: str
    backend: str
    packages: tuple[str, ...]
    name: str
    label: str
    imports: str

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"engine {self.code}: no backend {self.backend!r} in explainer/backends.py")


ENGINES: dict[str, Engine] = {
    engine.code: engine
    for engine in (
        Engine(
            "tf_keras",
            "tf_keras",
            "tensorflow",
            ("tensorflow", "tf-keras"),
            "tf.keras 2",
            "tf.keras 2 (tf-keras: what the question ran)",
            "import tf_keras as keras  # legacy tf.keras 2, what the question ran (pip install tf-keras)",
        ),
        Engine(
            "keras3",
            "keras",
            "tensorflow",
            ("tensorflow", "keras"),
            "Keras 3",
            "Keras 3 (today's `import keras`)",
            'os.environ["KERAS_BACKEND"] = "tensorflow"\nimport keras',
        ),
        Engine(
            "keras3_jax",
            "keras",
            "jax",
            ("jax", "jaxlib", "keras"),
            "Keras 3 on JAX",
            "Keras 3 on JAX (`KERAS_BACKEND=jax`)",
            'os.environ["KERAS_BACKEND"] = "jax"\nimport keras',
        ),
    )
}


@functools.cache
def _installed(package: str) -> str:
    # a lookup reads the installed distributions' metadata (about 0.25 ms): a page asks for
    # hundreds of keys with its prefetch, and what a process has imported does not change
    return metadata.version(package)


def engine_versions(engine: str) -> dict[str, str]:
    """The installed versions of the engine's libraries (its backend, its Keras)."""
    return {package: _installed(package) for package in ENGINES[engine].packages}

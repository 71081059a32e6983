"""Results derived from stored runs, one class per kind (a loss surface, step quality through an
epoch, the mechanism's measurements, the answer's saturation), stored on disk like runs: keyed by
what determines them (what is asked, the keys of the runs read, which already carry the config,
the libraries and the data), written atomically, computed in the worker processes
(worker/compute.py, by kind) and read by the pages."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import ClassVar

import numpy as np

from explainer.config import RunConfig
from explainer.findings import mechanism, surface
from explainer.store.cache import RunStore, run_key

FORMAT = 2  # bump when a derivation's computation or what it stores changes
UNDEFINED = "undefined"  # the one field of a result that does not exist at its point


@dataclasses.dataclass(frozen=True)
class Derivation:
    """What to derive: a kind (the subclass) and its arguments (its fields)."""

    kind: ClassVar[str]

    def runs(self) -> list[RunConfig]:
        """The runs it reads (they must be trained first)."""
        raise NotImplementedError

    @classmethod
    def read(cls, fields: dict):
        """The result from its stored fields (KeyError or TypeError if stored by other code)."""
        return fields["rows"]

    def key(self, fingerprint: str) -> str:
        described = {
            "format": FORMAT,
            "kind": self.kind,
            **dataclasses.asdict(self),
            "runs": [run_key(config, fingerprint) for config in self.runs()],
        }
        return "derived-" + hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:32]


@dataclasses.dataclass(frozen=True)
class Surface(Derivation):
    """The loss-surface page's slices and plane for one request, marked at `learning_rates`."""

    kind = "surface"
    request: surface.SurfaceRequest
    learning_rates: tuple[float, ...]

    def runs(self) -> list[RunConfig]:
        return [self.request.config]

    @classmethod
    def read(cls, fields: dict) -> surface.Slices:
        return surface.Slices(**fields)


@dataclasses.dataclass(frozen=True)
class StepQuality(Derivation):
    """How good each SGD step of epoch 1 is (rows, one per step)."""

    kind = "step_quality"
    config: RunConfig

    def runs(self) -> list[RunConfig]:
        return [self.config]


@dataclasses.dataclass(frozen=True)
class Saturation(Derivation):
    """The answer's share of saturated images after epoch 1 (a number)."""

    kind = "saturation"
    config: RunConfig

    def runs(self) -> list[RunConfig]:
        return [self.config]


@dataclasses.dataclass(frozen=True)
class MechanismMeasured(Derivation):
    """The Why page's measurements for a view's config and learning rates."""

    kind = "mechanism"
    config: RunConfig
    learning_rates: tuple[float, ...]

    def runs(self) -> list[RunConfig]:
        return mechanism.runs_needed(self.config, self.learning_rates)

    @classmethod
    def read(cls, fields: dict) -> mechanism.Mechanism:
        return mechanism.Mechanism(**fields)


@dataclasses.dataclass(frozen=True)
class DerivedJob:
    """A derivation for a worker, by value and by path, like a training Job."""

    derivation: Derivation
    key: str
    mnist_path: str
    store: RunStore


def save(store: RunStore, key: str, result) -> None:
    """Write a derived result: its arrays as arrays, everything else as JSON."""
    fields = dataclasses.asdict(result) if dataclasses.is_dataclass(result) else {"rows": result}
    arrays = {name: value for name, value in fields.items() if isinstance(value, np.ndarray)}
    meta = {name: value for name, value in fields.items() if name not in arrays}
    store.write_arrays(key, {"meta": np.array(json.dumps(meta)), **arrays})


def save_undefined(store: RunStore, key: str, reason: str) -> None:
    """Record that the result does not exist at its point (surface.Undefined), and why: a fact
    about its runs, stored like a result so that no visit computes it again."""
    store.write_arrays(key, {"meta": np.array(json.dumps({UNDEFINED: reason}))})


def load(store: RunStore, key: str, kind: type[Derivation]):
    """The derived result of `kind` stored under `key`, or None (absent, or unreadable and
    removed); raises surface.Undefined for a result stored as undefined."""
    stored = store.read_arrays(key)
    if stored is None:
        return None
    fields = {**json.loads(str(stored.pop("meta"))), **stored}
    if UNDEFINED in fields:
        raise surface.Undefined(fields[UNDEFINED])
    try:
        return kind.read(fields)
    except (TypeError, KeyError):  # stored by another version of the code
        store.discard(key)
        return None

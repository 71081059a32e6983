"""Results derived from stored runs (a loss surface, step quality through an epoch, the
mechanism's measurements, the answer's saturation), stored on disk like runs: keyed by what
determines them (what is asked, the keys of the runs read, which already carry the config, the
libraries and the data), written atomically, computed in the worker processes (`compute`) and
read by the pages."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np

from explainer.config import RunConfig
from explainer.findings import mechanism, surface
from explainer.store.cache import RunStore, run_key

FORMAT = 1  # bump when a derivation's computation or what it stores changes
UNDEFINED = "undefined"  # the one field of a result that does not exist at its point


@dataclasses.dataclass(frozen=True)
class Derivation:
    """What to derive: `kind` ("surface", "step_quality", "mechanism" or "saturation", the
    answer's share of saturated images) and its arguments."""

    kind: str
    request: surface.SurfaceRequest | None = None
    config: RunConfig | None = None
    learning_rates: tuple[float, ...] = ()
    every: int = 1

    def runs(self) -> list[RunConfig]:
        """The runs it reads (they must be trained first)."""
        if self.kind == "surface":
            return [self.request.config]
        if self.kind in ("step_quality", "saturation"):
            return [self.config]
        return mechanism.runs_needed(self.config, self.learning_rates)

    def key(self, fingerprint: str) -> str:
        described = {
            "format": FORMAT,
            "kind": self.kind,
            "request": dataclasses.asdict(self.request) if self.request else None,
            "learning_rates": list(self.learning_rates),
            "every": self.every,
            "runs": [run_key(config, fingerprint) for config in self.runs()],
        }
        return "derived-" + hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:32]


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


def load(store: RunStore, key: str, kind: str):
    """The derived result stored under `key`, or None (absent, or unreadable and removed); raises
    surface.Undefined for a result stored as undefined."""
    stored = store.read_arrays(key)
    if stored is None:
        return None
    fields = {**json.loads(str(stored.pop("meta"))), **stored}
    if UNDEFINED in fields:
        raise surface.Undefined(fields[UNDEFINED])
    try:
        if kind == "surface":
            return surface.Slices(**fields)
        if kind == "mechanism":
            return mechanism.Mechanism(**fields)
        return fields["rows"]
    except (TypeError, KeyError):  # stored by another version of the code
        store.discard(key)
        return None

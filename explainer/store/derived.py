"""Results derived from stored runs, stored on disk like runs: keyed by what determines them (what
is asked, the keys of the runs read, which already carry the config, the libraries and the data),
written atomically, computed in the worker processes (worker/compute.py, by kind) and read by the
pages. The kinds are in explainer/derivations.py; this is their storage only."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import ClassVar

import numpy as np

from explainer.config import RunConfig
from explainer.store.cache import RunStore, run_key

FORMAT = 2  # bump when a derivation's computation or what it stores changes
UNDEFINED = "undefined"  # the one field of a result that does not exist at its point


class Undefined(ValueError):
    """The result asked for does not exist at its point (a slice with no gradient to follow, no
    curvature): a fact about the run, which the page states, not a failure."""


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
    """Record that the result does not exist at its point (Undefined), and why: a fact
    about its runs, stored like a result so that no visit computes it again."""
    store.write_arrays(key, {"meta": np.array(json.dumps({UNDEFINED: reason}))})


def load(store: RunStore, key: str, kind: type[Derivation]):
    """The derived result of `kind` stored under `key`, or None (absent, or unreadable and
    removed); raises Undefined for a result stored as undefined."""
    stored = store.read_arrays(key)
    if stored is None:
        return None
    fields = {**json.loads(str(stored.pop("meta"))), **stored}
    if UNDEFINED in fields:
        raise Undefined(fields[UNDEFINED])
    try:
        return kind.read(fields)
    except (TypeError, KeyError):  # stored by another version of the code
        store.discard(key)
        return None

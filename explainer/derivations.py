"""What can be derived from stored runs, one class per kind (a loss surface, step quality through
an epoch, the answer's saturation, the mechanism's measurements): what it is asked with, the runs
it reads, and how its stored fields read back. Adding a kind is a class here and its computation
in worker/compute.COMPUTE."""

from __future__ import annotations

import dataclasses

from explainer.config import RunConfig
from explainer.findings import mechanism, surface
from explainer.store.derived import Derivation


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

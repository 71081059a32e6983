"""The values the reading of a program follows besides its records (explainer/code/values.py):
numbers and strings with the line that writes them, tuples, a functional model's tensors, the
program's own functions and classes, data sets, generators, encoders, activations by reference;
UNKNOWN for everything the code does not show."""

from __future__ import annotations

import ast
import dataclasses

from explainer.code.values import Data, Layer


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
SCHEDULE = object()  # a learning-rate schedule: the rate changes as training goes
MODEL = object()  # what a model's constructor makes: the reader builds it from its layers
LOADED = object()  # a model loaded from a file: its layers are not in the code
EYE = object()  # np.eye(n): indexed by labels, one-hot rows
ONE_HOT = Data("array", labels="one_hot")


@dataclasses.dataclass(frozen=True)
class Const:
    value: object
    line: int


@dataclasses.dataclass(frozen=True)
class Many:
    items: tuple


@dataclasses.dataclass(frozen=True)
class Tensor:
    """A functional model's tensor: the layers from its input (None: not known)."""

    layers: tuple[Layer, ...] | None


@dataclasses.dataclass(frozen=True)
class Function:
    node: ast.FunctionDef | ast.AsyncFunctionDef


@dataclasses.dataclass(frozen=True)
class ClassRef:
    model: bool  # a subclass of Keras' Model: its layers are not read


@dataclasses.dataclass(frozen=True)
class DatasetRef:
    name: str


@dataclasses.dataclass(frozen=True)
class Generator:
    """An ImageDataGenerator: how it scales what it yields (None: it does not)."""

    scaled: str | None
    line: int


@dataclasses.dataclass(frozen=True)
class Flow:
    x: object
    y: object


@dataclasses.dataclass(frozen=True)
class Encoder:
    """A scaler ("scaled") or a label encoder ("one_hot", "integer") before its fit_transform."""

    makes: str


@dataclasses.dataclass(frozen=True)
class Activation:
    name: str

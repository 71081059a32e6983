"""The models a program builds and the trainings it runs: each model with its layers and its
compile calls, and each fit a Training with the compile before it; a model compiled but never fit
is a training too (what the code says of it still counts)."""

from __future__ import annotations

import ast

from explainer.code import makers
from explainer.code.followed import UNKNOWN, Flow, Many, Tensor
from explainer.code.source import Source
from explainer.code.values import Data, Layer, Model, Training


def _as_layer(value: object, line: int) -> Layer:
    """A model's layer as given: an Input is no layer of its own; anything else not shown is not known."""
    if isinstance(value, Layer):
        return value
    return Layer("Input" if isinstance(value, Tensor) else "unknown", line)


def layers_of(name: str, args: list, kwargs: dict) -> list[Layer] | None:
    """The layers a model constructor is given: a Sequential's list, a functional model's output
    chain; None where they are not known."""
    if name.split(".")[-1] == "Sequential":
        given = kwargs.get("layers", args[0] if args else Many(()))
        if not isinstance(given, Many):
            return None
        return [_as_layer(item, 0) for item in given.items]
    if name.split(".")[-1] in ("Model", "Functional"):
        outputs = kwargs.get("outputs", args[1] if len(args) > 1 else UNKNOWN)
        return list(outputs.layers) if isinstance(outputs, Tensor) and outputs.layers is not None else None
    return None


class Built:
    """What one reading has built so far (see the module's docstring)."""

    def __init__(self, source: Source):
        self.source = source
        self.models: list[Model] = []
        self.fits: list[Training] = []

    def model(self, layers: list[Layer] | None, line: int) -> Model:
        made = Model(layers, line)
        self.models.append(made)
        return made

    def trainings(self) -> list[Training]:
        fit = {id(training.model) for training in self.fits}
        compiled = [model for model in self.models if id(model) not in fit and model.compiles]
        return [*self.fits, *(Training(m, *m.compiles[-1], None, None, None) for m in compiled)]

    def method(self, model: Model, node: ast.Call, args: list, kwargs: dict) -> object:
        """A model's method as called: add, compile, fit (and its likes); anything else changes nothing."""
        method, line = node.func.attr, node.lineno
        if method == "add" and model.layers is not None:
            layer = args[0] if args else UNKNOWN
            model.layers.append(_as_layer(layer, line))
        elif method == "compile":
            loss = makers.loss(kwargs.get("loss", args[1] if len(args) > 1 else UNKNOWN))
            optimizer = makers.optimizer(kwargs.get("optimizer", args[0] if args else UNKNOWN))
            model.compiles.append((loss, optimizer, line))
        elif method in ("fit", "fit_generator", "train_on_batch"):
            x, y = kwargs.get("x", args[0] if args else UNKNOWN), kwargs.get("y", args[1] if len(args) > 1 else UNKNOWN)
            if isinstance(x, Flow):
                x, y = x.x, x.y
            loss, optimizer, compiled = model.compiles[-1] if model.compiles else (None, None, None)
            batch = makers.number(kwargs.get("batch_size", args[2] if len(args) > 2 and method == "fit" else UNKNOWN))
            epochs = makers.number(kwargs.get("epochs", kwargs.get("nb_epoch", args[3] if len(args) > 3 else UNKNOWN)))
            segment = self.source.segment(node)
            self.fits.append(
                Training(
                    model,
                    loss,
                    optimizer,
                    compiled,
                    x if isinstance(x, Data) else None,
                    y if isinstance(y, Data) else None,
                    line,
                    segment,
                    int(batch.value) if batch else None,
                    int(epochs.value) if epochs else None,
                )
            )
        return UNKNOWN

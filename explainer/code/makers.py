"""What a call or an operation in a reader's program makes, as far as its name and its arguments
say: Keras' layers, models, losses and optimizers, the data sets and file readers, what scales
an array (a division, a scaler, a generator's rescale) and what encodes labels. Anything else is
UNKNOWN."""

from __future__ import annotations

import ast

from explainer.code.followed import (
    EYE,
    LOADED,
    MODEL,
    SCHEDULE,
    UNKNOWN,
    Activation,
    Const,
    DatasetRef,
    Encoder,
    Flow,
    Generator,
    Many,
    Tensor,
)
from explainer.code.values import KERAS_ACTIVATIONS, LOSS_CODES, OPTIMIZER_CODES, PIXEL_DATASETS, Data, Layer, Loss, Optimizer

# "the inputs are scaled": their 0-255 range divided by at least this (or multiplied by at most
# its inverse), so that they reach at most 2: x / 255, x / 127.5 - 1; dividing by 10 is not enough
MIN_SCALING_DIVISOR = 127.5
SCALERS = ("StandardScaler", "MinMaxScaler", "RobustScaler", "MaxAbsScaler", "Normalizer", "QuantileTransformer")
SCALING_FUNCTIONS = ("normalize", "scale", "minmax_scale", "robust_scale", "maxabs_scale", "per_image_standardization")
SCALING_FUNCTIONS += ("standardize", "preprocess_input", "l2_normalize", "convert_image_dtype")
FILE_READERS = ("read_csv", "read_table", "loadtxt", "genfromtxt", "read_excel", "read_parquet", "fromfile", "load")
IMAGE_READERS = ("image_dataset_from_directory", "load_img", "imread", "img_to_array")
ONE_HOT_ENCODERS = ("to_categorical", "one_hot", "get_dummies")
SCHEDULES = ("ExponentialDecay", "PiecewiseConstantDecay", "CosineDecay", "InverseTimeDecay", "PolynomialDecay")
# calls that hand their first argument on with its range: conversions, reshapes, copies
PASSING_CALLS = ("array", "asarray", "float32", "cast", "convert_to_tensor", "expand_dims", "reshape", "stack")
PASSING_CALLS += ("concatenate", "vstack", "squeeze", "copy", "from_tensor_slices", "resize")


def number(value: object) -> Const | None:
    return (
        value if isinstance(value, Const) and isinstance(value.value, int | float) and not isinstance(value.value, bool) else None
    )


def arithmetic(left: object, op: ast.operator, right: object, line: int) -> object:
    """`left op right`: numbers computed; an array divided (or multiplied) into a small range is
    scaled, divided by a value the code computes (a standard deviation, a maximum) standardized."""
    if number(left) and number(right):
        try:
            return Const(_OPERATIONS[type(op)](left.value, right.value), line)
        except (KeyError, ArithmeticError, ValueError):
            return UNKNOWN
    data = left if isinstance(left, Data) else right if isinstance(right, Data) else None
    other = right if data is left else left
    if isinstance(op, ast.Div) and not isinstance(right, Data):
        if number(right):
            small = abs(right.value) >= MIN_SCALING_DIVISOR
            return (data or Data()).changed(line, scaled="unit" if small else (data.scaled if data else None))
        return (data or Data()).changed(line, scaled="standardized") if data or right is not UNKNOWN else UNKNOWN
    if isinstance(op, ast.Mult) and number(other) and 0 < abs(other.value) <= 1 / MIN_SCALING_DIVISOR:
        return (data or Data()).changed(line, scaled="unit")
    return data.changed(line) if data else UNKNOWN


_OPERATIONS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b if abs(b) < 400 else float("nan"),
}


def activation(value: object) -> str | None:
    """An activation as written ('sigmoid', tf.nn.sigmoid, keras.activations.sigmoid); "linear"
    for None; the name as written for another."""
    if isinstance(value, Const):
        return "linear" if value.value is None else str(value.value).lower()
    if isinstance(value, Activation):
        return value.name
    return "unknown" if value is not UNKNOWN else None


def reference(name: str, line: int) -> object:
    """What a dotted name refers to without a call: a loss function, an activation, a data set."""
    last = name.split(".")[-1]
    if last.lower() in LOSS_CODES and not last[0].isupper():
        return Loss(LOSS_CODES[last.lower()], line, from_logits=True if "logits" in last else None)
    if last in KERAS_ACTIVATIONS and ("activations" in name or "nn" in name.split(".")):
        return Activation(last)
    if last in PIXEL_DATASETS and "datasets" in name:
        return DatasetRef(last)
    return UNKNOWN


def loss(value: object) -> Loss | None:
    """A compile's loss as written: a string, a function, a loss object; None if not known."""
    if isinstance(value, Loss):
        return value
    if isinstance(value, Const) and isinstance(value.value, str):  # on the line that names it
        return Loss(LOSS_CODES.get(value.value.lower(), value.value), value.line)
    return None


def optimizer(value: object) -> Optimizer | None:
    if isinstance(value, Optimizer):
        return value
    if isinstance(value, Const) and isinstance(value.value, str):
        return Optimizer(OPTIMIZER_CODES.get(value.value.lower()), value.line)
    return None


def _units(args: list, kwargs: dict) -> int | None:
    # Keras 1 named them output_dim and nb_filter
    named = next((kwargs[name] for name in ("units", "filters", "output_dim", "nb_filter") if name in kwargs), None)
    given = number(named if named is not None else args[0] if args else UNKNOWN)
    return int(given.value) if given else None


def made(name: str, args: list, kwargs: dict, line: int) -> object:
    """What a call of `name` makes (see the module's docstring)."""
    last = name.split(".")[-1]
    first = args[0] if args else UNKNOWN
    if last in ("Sequential", "Model", "Functional"):
        return MODEL
    if last == "load_model" or ("applications" in name.split(".") and last[:1].isupper()):
        return LOADED  # a model whose layers are not in the code: loaded, or one of Keras' applications
    if last in ("Input", "InputLayer"):
        return Tensor(())
    if last == "Activation":
        return Layer(last, line, activation=activation(kwargs.get("activation", first)))
    if last in ("Softmax", "ReLU"):
        return Layer("Activation", line, activation=last.lower())
    if last == "Rescaling":
        scale = number(kwargs.get("scale", first))
        return Layer(last, line, scale=float(scale.value) if scale else None)
    if last in ("Dense", "Conv1D", "Conv2D", "Conv3D", "LSTM", "GRU", "SimpleRNN"):
        # Dense(units, activation) and the recurrent layers take it second; a convolution its kernel
        second = args[1] if len(args) > 1 and last[:4] != "Conv" else Const(None, line)
        return Layer(last, line, units=_units(args, kwargs), activation=activation(kwargs.get("activation", second)))
    if last[:1].isupper() and ("layers" in name.split(".") or last in _OTHER_LAYERS):
        return Layer(last, line)
    if last.lower() in OPTIMIZER_CODES and last[:1].isupper():
        rate = kwargs.get("learning_rate", kwargs.get("lr", first))
        given, written = number(rate), bool(args) or "learning_rate" in kwargs or "lr" in kwargs
        value, at = (given.value, given.line) if given else (None, None)
        return Optimizer(OPTIMIZER_CODES[last.lower()], line, value, at, rate is SCHEDULE, written)
    if last in SCHEDULES:
        return SCHEDULE
    if last.lower() in LOSS_CODES and last[:1].isupper():
        logits = kwargs.get("from_logits")
        return Loss(LOSS_CODES[last.lower()], line, from_logits=bool(logits.value) if isinstance(logits, Const) else None)
    if last.lower() in LOSS_CODES:  # a loss function called on tensors: a custom loss
        return UNKNOWN
    if last == "load_data":
        return _loaded(name, line)
    if last in FILE_READERS and name.split(".")[0] in ("pd", "pandas", "np", "numpy"):
        return Data("file", lines=(line,))
    if last == "fetch_openml":
        pixels = any(isinstance(arg, Const) and "mnist" in str(arg.value).lower() for arg in (*args, *kwargs.values()))
        return Data("pixels" if pixels else "file", lines=(line,))
    if last in IMAGE_READERS:
        mode = kwargs.get("label_mode")
        return Data(
            "pixels", labels="one_hot" if isinstance(mode, Const) and mode.value == "categorical" else None, lines=(line,)
        )
    if last in ONE_HOT_ENCODERS:
        return _encoded(first, "one_hot", line)
    if last == "eye":
        return EYE
    if last in SCALERS:
        return Encoder("scaled")
    if last in ("LabelBinarizer", "OneHotEncoder"):
        return Encoder("one_hot")
    if last == "LabelEncoder":
        return Encoder("integer")
    if last in SCALING_FUNCTIONS:
        return (first if isinstance(first, Data) else Data()).changed(line, scaled="standardized")
    if last == "ImageDataGenerator":
        return _generator(kwargs, line)
    if last == "train_test_split":
        return Many(tuple(part for arg in args for part in (arg, arg)))
    if last in PASSING_CALLS and isinstance(first, Data | Many):
        data = first if isinstance(first, Data) else next((i for i in first.items if isinstance(i, Data)), None)
        return data.changed(line) if data else UNKNOWN
    return UNKNOWN


_OTHER_LAYERS = ("Flatten", "Dropout", "Reshape", "BatchNormalization", "Normalization", "MaxPooling2D", "Lambda")


def _loaded(name: str, line: int) -> object:
    """`<data set>.load_data()`: ((x, y), (x, y)), pixels and integer labels for an image set."""
    parts = name.split(".")
    source = "pixels" if any(part in PIXEL_DATASETS for part in parts) else "array"
    split = Many((Data(source, lines=(line,)), Data(source, labels="integer", lines=(line,))))
    return Many((split, split))


def _encoded(labels: object, makes: str, line: int) -> Data:
    base = labels if isinstance(labels, Data) else Data("array")
    return base.changed(line, labels=makes)


def _generator(kwargs: dict, line: int) -> Generator:
    rescale = number(kwargs.get("rescale"))
    if rescale and 0 < abs(rescale.value) <= 1 / MIN_SCALING_DIVISOR:
        return Generator("unit", line)
    standardizing = ("featurewise_std_normalization", "samplewise_std_normalization", "preprocessing_function")
    if any(isinstance(kwargs.get(key), Const) and kwargs[key].value for key in standardizing[:2]) or standardizing[2] in kwargs:
        return Generator("standardized", line)
    return Generator(None, line)


def method(receiver: object, name: str, args: list, kwargs: dict, line: int) -> object:
    """A method called on something the reading follows: a generator's flow, a data set's
    load_data, an encoder's fit_transform, an array's own methods (its range kept)."""
    first = args[0] if args else UNKNOWN
    if isinstance(receiver, Generator):
        if name == "flow":
            x = kwargs.get("x", first)
            scaled = (x if isinstance(x, Data) else Data()).changed(line, scaled=receiver.scaled or getattr(x, "scaled", None))
            return Flow(scaled, kwargs.get("y", args[1] if len(args) > 1 else UNKNOWN))
        if name.startswith("flow_from"):
            mode = kwargs.get("class_mode")
            labels = "integer" if isinstance(mode, Const) and mode.value in ("sparse", "binary") else "one_hot"
            return Flow(Data("pixels", scaled=receiver.scaled, lines=(receiver.line, line)), Data("array", labels=labels))
        return UNKNOWN
    if isinstance(receiver, DatasetRef):
        return _loaded(receiver.name, line) if name == "load_data" else UNKNOWN
    if isinstance(receiver, Encoder):
        if name not in ("fit_transform", "transform"):
            return receiver
        if receiver.makes == "scaled":
            return (first if isinstance(first, Data) else Data()).changed(line, scaled="standardized")
        return _encoded(first, receiver.makes, line)
    if isinstance(receiver, Data):
        if name in ("mean", "std", "max", "min", "sum", "shape", "nunique"):
            return UNKNOWN
        return receiver.changed(line)
    return UNKNOWN

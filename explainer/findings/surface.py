"""What the loss-surface page asks (where to stand, which way to look) and what it reads back
(the Slices a worker computed, see `slicing`), with the page's judgements and sentences."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping

import contourpy
import numpy as np

from explainer.config import MNIST_TRAIN_SIZE, RunConfig
from explainer.findings.rules import loglog_slope
from explainer.labels import figure

COMPARED_SCALINGS = ("raw", "unit")  # the page sets raw pixels beside x / 255
POINTS = ("init", "step", "epoch")
DIRECTIONS = ("minibatch", "fullbatch")
SECOND_DIRECTIONS = ("next_minibatch", "random", "hessian")
EVALUATE_ON = ("minibatch", "train", "test")
# the plane's grid points per axis: what its heat map shows (measured: a 101 x 101 plane took
# 1.3 s of a 3.4 s surface on x / 255, and the chart showed every other point of it)
PLANE_POINTS = 51
LANDING_SPAN, LANDING_POINTS = 100.0, 41  # the learning-rate slider: the view's rates / 100 to x 100, log-spaced


@dataclasses.dataclass(frozen=True)
class SurfaceRequest:
    """Where to stand and which way to look.

    point: "init", "step" (after `index` SGD steps of epoch 1) or "epoch" (end of epoch `index`).
    direction: the gradient of the next mini-batch (the step SGD takes) or of the full training set.
    second: the plane's other axis: the following mini-batch's gradient, a filter-normalised random
        direction (Li et al. 2018) or the top Hessian eigenvector; orthogonalised, scaled like the first.
    evaluate_on: the data the loss is averaged over.
    """

    config: RunConfig
    point: str = "epoch"
    index: int = 1
    direction: str = "minibatch"
    second: str = "next_minibatch"
    evaluate_on: str = "train"

    def __post_init__(self) -> None:
        for name, allowed in (
            ("point", POINTS),
            ("direction", DIRECTIONS),
            ("second", SECOND_DIRECTIONS),
            ("evaluate_on", EVALUATE_ON),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        if self.config.optimizer != "sgd":
            raise ValueError("the loss surface follows SGD steps: choose the SGD optimizer")
        lowest, highest = index_range(self.config, self.point)
        if not lowest <= self.index <= highest:
            raise ValueError(f"index {self.index} is out of range for point {self.point!r} ({lowest} to {highest})")


DEFAULT_INDEX = {"init": 0, "step": 100, "epoch": 1}  # where the page stands first


def index_range(config: RunConfig, point: str) -> tuple[int, int]:
    """The indices a point allows: none at init, a step of epoch 1, or an epoch of the run."""
    steps = math.ceil((config.train_subset or MNIST_TRAIN_SIZE) / config.batch_size)
    return {"init": (0, 0), "step": (0, steps), "epoch": (1, config.num_epochs)}[point]


def default_index(config: RunConfig, point: str) -> int:
    """DEFAULT_INDEX for the point, within what the run allows."""
    lowest, highest = index_range(config, point)
    return min(max(DEFAULT_INDEX[point], lowest), highest)


@dataclasses.dataclass(frozen=True)
class Slices:
    """One point's slices: the line along -d1 with each learning rate's landing point marked,
    and the plane of d1 and d2 with the next SGD iterates projected onto it."""

    t: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    best_t: float
    best_loss: float
    markers: list[dict]
    plane_a: np.ndarray
    plane_b: np.ndarray
    plane_loss: np.ndarray
    iterates: list[dict]
    landing_rates: np.ndarray
    landing_loss: np.ndarray

    @property
    def start_loss(self) -> float:
        """The loss where we stand (t = 0)."""
        return float(self.loss[self.t == 0][0])

    @property
    def minimum_at_edge(self) -> bool:
        """The lowest loss is at the far end of the range: the line's minimum may lie further."""
        return self.best_t == self.t.max()

    def landing(self, learning_rate: float) -> float:
        """The loss where an SGD step of `learning_rate` lands (one of `landing_rates`)."""
        return float(self.landing_loss[np.searchsorted(self.landing_rates, learning_rate)])


def landing_rates(learning_rates: tuple[float, ...]) -> np.ndarray:
    """The slider's learning rates: log-spaced from the lowest / LANDING_SPAN to the highest x
    LANDING_SPAN, with the view's own rates among them."""
    grid = np.geomspace(min(learning_rates) / LANDING_SPAN, max(learning_rates) * LANDING_SPAN, LANDING_POINTS)
    return np.unique(np.r_[np.float64([float(f"{rate:.3g}") for rate in grid]), learning_rates])


def quality_rows(qualities: Mapping[tuple[str, float], list[dict]], names: Mapping[str, str]) -> list[dict]:
    """The step-quality rows of every (input scaling, learning rate), each naming its scaling in words."""
    return [dict(row, scaling=names[scaling]) for (scaling, _), quality in qualities.items() for row in quality]


def median_alphas(rows: list[dict]) -> dict[tuple[str, float], float]:
    """Median step quality per (scaling, learning rate) over `alpha_over_epoch` rows, leaving out
    the steps where alpha is undefined (NaN); NaN where every step is."""
    groups: dict[tuple[str, float], list[float]] = {}
    for row in rows:
        groups.setdefault((row["scaling"], row["learning_rate"]), []).append(row["alpha"])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN groups are reported as NaN
        return {key: float(np.nanmedian(values)) for key, values in sorted(groups.items())}


# what the step-quality scale means, for a reader
# alpha's marks (ALPHA_SCALE): past OVERSHOOT_ALPHA a step lands higher than it started; past
# LINE_MINIMUM_ALPHA it passed the line's minimum
OVERSHOOT_ALPHA, LINE_MINIMUM_ALPHA = 1.0, 0.0
ALPHA_SCALE = "-1 no progress, 0 the line's minimum, +1 the same loss on the far side, above 1 an overshoot"


def medians_sentence(rows: list[dict]) -> str:
    """The median step quality of every (scaling, learning rate), as the page states them."""
    return "; ".join(f"{scaling}, learning rate {lr:g}: {figure(m, '.3g')}" for (scaling, lr), m in median_alphas(rows).items())


def describe_alpha(alpha: float) -> str:
    """What an alpha value says about a step, in words."""
    if math.isnan(alpha):
        return "the loss does not decrease along this line, so alpha is undefined"
    if alpha > OVERSHOOT_ALPHA:
        return "overshoots: it lands higher than where it started"
    if alpha > LINE_MINIMUM_ALPHA:
        return "passes the line's minimum but lands below the start"
    return "stops short of the line's minimum"


def landing_growth(slices: Slices) -> float:
    """How the landing loss grows with the learning rate past the line's minimum: the log-log
    slope (1: in proportion, as on raw pixels; NaN when too few rates lie past the minimum)."""
    past = slices.landing_rates > slices.best_t
    return loglog_slope(list(slices.landing_rates[past]), list(slices.landing_loss[past]))


def landing_rows(slices: dict[str, Slices], names: dict[str, str]) -> list[dict]:
    """The landing loss per learning rate of each scaling's slices, for `surface_charts.landing_chart`."""
    return [
        {"scaling": names[scaling], "learning_rate": float(rate), "loss": float(loss), "start": line.start_loss}
        for scaling, line in slices.items()
        for rate, loss in zip(line.landing_rates, line.landing_loss)
    ]


def line_sentence(line: Slices) -> str:
    """What the slice says about the view's steps, in words, with its figures."""
    landing = "; ".join(
        f"the step of learning rate {m['learning_rate']:g} lands at {figure(m['loss'], '.4g')} and {describe_alpha(m['alpha'])}"
        for m in line.markers
    )
    edge = " (the edge of the range: the minimum may lie further)" if line.minimum_at_edge else ""
    return (
        f"The loss is {figure(line.start_loss, '.4g')} where we stand and lowest, {figure(line.best_loss, '.4g')}, at a "
        f"step length of {figure(line.best_t, '.3g')}{edge}; {landing}."
    )


def landing_sentence(slices: dict[str, Slices], learning_rate: float, names: dict[str, str]) -> str:
    """Where a step of `learning_rate` lands on each scaling's slice, and how the landing loss
    grows with the rate past the minimum."""
    parts = []
    for scaling, line in slices.items():
        growth = landing_growth(line)
        parts.append(
            f"on {names[scaling]} it lands at {figure(line.landing(learning_rate), '.4g')} "
            f"({figure(line.landing(learning_rate) / line.start_loss, '.3g')} times the loss before the step), and past the "
            f"minimum the landing loss grows as the learning rate to the power {figure(growth, '.2f')}"
        )
    return f"A step of learning rate {learning_rate:g}: " + "; ".join(parts) + "."


def contours(slices: Slices, levels: int = 8) -> list[dict]:
    """Contour lines of the plane's loss at `levels` quantiles, as rows of points (level, line,
    order, a, b) for the plane chart."""
    generator = contourpy.contour_generator(x=slices.plane_a, y=slices.plane_b, z=slices.plane_loss.T)
    rows, line = [], 0
    for level in np.quantile(slices.plane_loss, np.linspace(0, 1, levels + 2)[1:-1]).tolist():
        for points in generator.lines(float(level)):
            rows += [
                {"level": float(level), "line": line, "order": k, "a": float(x), "b": float(y)} for k, (x, y) in enumerate(points)
            ]
            line += 1
    return rows


def neighbours(request: SurfaceRequest) -> list[SurfaceRequest]:
    """The requests one control away (where to stand, either direction, the data): what a
    reader picks next on the page, so what idle workers compute ahead."""
    found = []
    for name, options in (
        ("point", POINTS),
        ("direction", DIRECTIONS),
        ("second", SECOND_DIRECTIONS),
        ("evaluate_on", EVALUATE_ON),
    ):
        for option in options:
            if option != getattr(request, name):
                index = default_index(request.config, option) if name == "point" else request.index
                found.append(dataclasses.replace(request, **{name: option, "index": index}))
    return found

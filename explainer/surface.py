"""The loss along directions in weight space, evaluated exactly: a linear model's logits are
affine along any line or plane, so they are computed once and the grid costs no model calls."""

from __future__ import annotations

import dataclasses
import math
import warnings

import contourpy
import numpy as np

from explainer import linear
from explainer.config import MNIST_TRAIN_SIZE, RunConfig
from explainer.data import Prepared
from explainer.labels import figure
from explainer.plane_kernels import clipped_sum, logsumexp_sum
from explainer.report import loglog_slope
from explainer.train import RunResult, epoch_order

SCALINGS = ("raw", "unit")  # the page sets raw pixels beside x / 255
POINTS = ("init", "step", "epoch")
DIRECTIONS = ("minibatch", "fullbatch")
SECOND_DIRECTIONS = ("next_minibatch", "random", "hessian")
EVALUATE_ON = ("minibatch", "train", "test")
CLIPPED_PLANE_POINTS = 41  # the plane's side for the clipped-outputs loss (measured: ~7 s over 60,000 images)
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


# ---------------------------------------------------------------- SGD replayed
def epoch_orders(config: RunConfig, n: int, epochs: int) -> list[np.ndarray]:
    """The sample order of each epoch, drawn exactly as the trainer draws them."""
    rng = np.random.default_rng(config.seed)
    return [epoch_order(rng, n) for _ in range(epochs)]


def batches_from(config: RunConfig, n: int, epoch: int, step: int, count: int) -> list[np.ndarray]:
    """`count` consecutive mini-batches from `step` (0-based) of `epoch` (1-based) on, as trained."""
    size, steps = config.batch_size, math.ceil(n / config.batch_size)
    orders = epoch_orders(config, n, epoch + (step + count - 1) // steps)
    return [orders[epoch - 1 + s // steps][(s % steps) * size : (s % steps + 1) * size] for s in range(step, step + count)]


def sgd_iterates(theta: np.ndarray, batches: list[np.ndarray], data: Prepared, config: RunConfig) -> list[np.ndarray]:
    """theta and the weights after each SGD step on `batches` (Keras' update: theta - lr * g)."""
    iterates = [theta]
    for batch in batches:
        iterates.append(
            iterates[-1] - config.learning_rate * linear.gradient(iterates[-1], data.x_train[batch], data.y_train[batch], config)
        )
    return iterates


def position(request: SurfaceRequest, result: RunResult, data: Prepared) -> tuple[np.ndarray, int, int]:
    """The weights at the requested point, and where training goes next: (theta, epoch, step)."""
    if request.point == "epoch":
        return linear.flatten(result.kernels[request.index], result.biases[request.index]), request.index + 1, 0
    theta = linear.flatten(result.kernels[0], result.biases[0])
    if request.point == "init" or request.index == 0:
        return theta, 1, 0
    batches = batches_from(request.config, len(data.x_train), 1, 0, request.index)
    return sgd_iterates(theta, batches, data, request.config)[-1], 1, request.index


def directions(
    request: SurfaceRequest, theta: np.ndarray, data: Prepared, epoch: int, step: int
) -> tuple[np.ndarray, np.ndarray]:
    """The step direction d1 (a gradient: SGD moves along -d1) and the plane's second axis d2,
    orthogonal to d1 and of the same length."""
    config, n = request.config, len(data.x_train)
    first, second = batches_from(config, n, epoch, step, 2)
    if request.direction == "minibatch":
        d1 = linear.gradient(theta, data.x_train[first], data.y_train[first], config)
    else:
        d1 = linear.gradient(theta, data.x_train, data.y_train, config)
    if not np.any(d1):
        raise ValueError(
            "the gradient is exactly zero at this point (every sample fitted, or every probability clipped), "
            "so there is no step to follow"
        )
    if request.second == "next_minibatch":
        d2 = linear.gradient(theta, data.x_train[second], data.y_train[second], config)
    elif request.second == "random":
        d2 = _filter_normalised(theta, config.seed)
    else:
        x, y = evaluation_data(request, data, first)
        d2 = top_hessian_direction(theta, x, y, config)
    d2 = d2 - (d2 @ d1) / (d1 @ d1) * d1
    return d1, d2 * np.linalg.norm(d1) / max(np.linalg.norm(d2), 1e-300)


def _filter_normalised(theta: np.ndarray, seed: int) -> np.ndarray:
    """Li et al. (2018): a Gaussian direction whose every filter (one output unit's incoming
    weights) has the norm of that filter in theta; biases left at zero."""
    kernel, _ = linear.unflatten(theta)
    random = np.random.default_rng(seed).normal(size=kernel.shape)
    random *= np.linalg.norm(kernel, axis=0) / np.linalg.norm(random, axis=0)
    return linear.flatten(random, np.zeros(10))


def top_hessian_direction(theta: np.ndarray, x: np.ndarray, y: np.ndarray, config: RunConfig, iterations: int = 30) -> np.ndarray:
    """The Hessian's top eigenvector by power iteration on Hessian-vector products."""
    vector = np.random.default_rng(config.seed).normal(size=theta.shape)
    for _ in range(iterations):
        product = linear.hessian_vector(theta, vector / np.linalg.norm(vector), x, y, config)
        if not np.all(np.isfinite(product)) or not np.any(product):
            raise ValueError("the loss has no usable curvature here (saturated or clipped): choose another second direction")
        vector = product
    return vector


def evaluation_data(request: SurfaceRequest, data: Prepared, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if request.evaluate_on == "minibatch":
        return data.x_train[batch], data.y_train[batch]
    if request.evaluate_on == "test":
        return data.x_test, data.y_test
    return data.x_train, data.y_train


# ---------------------------------------------------------------- slices
def line(
    theta: np.ndarray, d: np.ndarray, x: np.ndarray, y: np.ndarray, config: RunConfig, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean loss and accuracy at theta - t*d for each t."""
    loss = plane(theta, d, np.zeros_like(d), x, y, config, t, np.zeros(1))[:, 0]
    z0, dz = linear.logits_along(x, theta, d)
    return loss, accuracy_along(z0, dz, y, t)


def accuracy_along(z0: np.ndarray, dz: np.ndarray, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Accuracy of argmax(z0 - t dz) for each t, a few t at a time (the full product is large)."""
    labels, z0, dz = y.argmax(axis=1), z0.astype(np.float32), dz.astype(np.float32)
    steps = t.astype(np.float32)
    return np.concatenate(
        [
            ((z0[None] - steps[k : k + 8, None, None] * dz[None]).argmax(axis=2) == labels).mean(axis=1)
            for k in range(0, len(t), 8)
        ]
    )


def plane(theta, d1, d2, x, y, config: RunConfig, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean loss at theta - a_i*d1 - b_j*d2 on the grid (len(a), len(b))."""
    logits = linear.logits_along(x, theta, d1, d2)
    if config.loss == "probabilities":
        return clipped_sum(*logits, y.argmax(axis=1), a, b, config.activation) / len(x)
    return plane_of_logits(logits, y, a, b)


def plane_of_logits(logits: list[np.ndarray], y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean softmax cross-entropy at z0 - a_i dz1 - b_j dz2, for logits (z0, dz1, dz2) of the
    samples whose one-hot labels are y: logsumexp(z) - z_label, the label term affine in (a, b)."""
    z0, dz1, dz2 = logits
    label = [float((v * y).sum(axis=1).mean()) for v in (z0, dz1, dz2)]
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return logsumexp_sum(z0, dz1, dz2, a, b) / len(z0) - (label[0] - a[:, None] * label[1] - b[None, :] * label[2])


def step_quality(t: np.ndarray, loss: np.ndarray, t_step: float) -> float:
    """Cockpit's alpha (f-dangel/cockpit), read off the slice: -1 = no progress, 0 = the minimum
    along the line, +1 = the same loss as the start on the far side, > 1 = overshoot. Before the
    minimum it is -(L(t) - L*)/(L(0) - L*), after it +(L(t) - L*)/(L(0) - L*); t must include 0."""
    forward = t >= 0
    ts, ls = t[forward], loss[forward]
    best = int(np.argmin(ls))
    start = float(np.interp(0.0, ts, ls))
    at_step = float(np.interp(t_step, ts, ls))
    drop = start - ls[best]
    if drop <= 0:
        return math.nan  # no descent along this line: alpha is undefined
    sign = -1.0 if t_step <= ts[best] else 1.0
    return sign * (at_step - ls[best]) / drop


# ---------------------------------------------------------------- what a page or the CLI asks for
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


def median_alphas(rows: list[dict]) -> dict[tuple[str, float], float]:
    """Median step quality per (scaling, learning rate) over `alpha_over_epoch` rows, leaving out
    the steps where alpha is undefined (NaN); NaN where every step is."""
    groups: dict[tuple[str, float], list[float]] = {}
    for row in rows:
        groups.setdefault((row["scaling"], row["learning_rate"]), []).append(row["alpha"])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN groups are reported as NaN
        return {key: float(np.nanmedian(values)) for key, values in sorted(groups.items())}


def compute(
    request: SurfaceRequest, result: RunResult, data: Prepared, learning_rates: tuple[float, ...], plane_points: int = 101
) -> Slices:
    """Everything the loss-surface page draws for one run at one point (exact, from logits)."""
    theta, epoch, step = position(request, result, data)
    d1, d2 = directions(request, theta, data, epoch, step)
    batch = batches_from(request.config, len(data.x_train), epoch, step, 1)[0]
    x, y = evaluation_data(request, data, batch)
    logits = linear.logits_along(x, theta, d1, d2)  # once: every slice below is read off them

    def loss_at(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if request.config.loss == "probabilities":
            return clipped_sum(*logits, y.argmax(axis=1), a, b, request.config.activation) / len(x)
        return plane_of_logits(logits, y, a, b)

    reach = max(learning_rates)
    t = np.unique(np.r_[np.linspace(-0.5 * reach, _far_end(loss_at, 3 * reach), 101), 0.0, learning_rates])
    loss, accuracy = loss_at(t, np.zeros(1))[:, 0], accuracy_along(logits[0], logits[1], y, t)
    best = int(np.argmin(loss))
    markers = [
        {
            "learning_rate": lr,
            "t": lr,
            "loss": float(loss[t == lr][0]),
            "accuracy": float(accuracy[t == lr][0]),
            "alpha": step_quality(t, loss, lr),
        }
        for lr in learning_rates
    ]
    if request.config.loss == "probabilities":  # no log-sum-exp to prune: every cell costs all its samples
        plane_points = min(plane_points, CLIPPED_PLANE_POINTS)
    a = np.linspace(-0.5 * reach, 3 * reach, plane_points)
    b = np.linspace(-1.75 * reach, 1.75 * reach, plane_points)
    iterates = sgd_iterates(theta, batches_from(request.config, len(data.x_train), epoch, step, 5), data, request.config)
    rates = landing_rates(learning_rates)
    return Slices(
        t=t,
        loss=loss,
        accuracy=accuracy,
        best_t=float(t[best]),
        best_loss=float(loss[best]),
        markers=markers,
        plane_a=a,
        plane_b=b,
        plane_loss=loss_at(a, b),
        iterates=[
            {"step": k, "a": float(-(v - theta) @ d1 / (d1 @ d1)), "b": float(-(v - theta) @ d2 / (d2 @ d2))}
            for k, v in enumerate(iterates)
        ],
        landing_rates=rates,
        landing_loss=loss_at(rates, np.zeros(1))[:, 0],
    )


def _far_end(loss_at, end: float, growth: float = 4.0, tries: int = 5) -> float:
    """How far the line must reach to contain its minimum: `end`, grown until the loss turns up."""
    for _ in range(tries):
        t = np.linspace(0, end, 41)
        if np.argmin(loss_at(t, np.zeros(1))[:, 0]) < len(t) - 1:
            break
        end *= growth
    return end


def alpha_over_epoch(result: RunResult, data: Prepared, every: int = 1) -> list[dict]:
    """Step quality of every `every`-th SGD step of epoch 1, replayed from the run's initial
    weights: at each step the slice is the mini-batch loss along that step's own gradient, for t
    up to 4 lr (where the line's minimum lies further, alpha is measured against that range)."""
    config = result.config
    batches = batches_from(config, len(data.x_train), 1, 0, math.ceil(len(data.x_train) / config.batch_size))
    theta = linear.flatten(result.kernels[0], result.biases[0])
    t = np.linspace(0, 4 * config.learning_rate, 81)
    rows = []
    for k, batch in enumerate(batches):
        x, y = data.x_train[batch], data.y_train[batch]
        d = linear.gradient(theta, x, y, config)
        if k % every == 0:
            loss, _ = line(theta, d, x, y, config, t)
            rows.append(
                {
                    "learning_rate": config.learning_rate,
                    "step": k + 1,
                    "alpha": step_quality(t, loss, config.learning_rate),
                    "loss": float(loss[0]),
                }
            )
        theta = theta - config.learning_rate * d
    return rows


def describe_alpha(alpha: float) -> str:
    """What an alpha value says about a step, in words."""
    if math.isnan(alpha):
        return "the loss does not decrease along this line, so alpha is undefined"
    if alpha > 1:
        return "overshoots: it lands higher than where it started"
    if alpha > 0:
        return "passes the line's minimum but lands below the start"
    return "stops short of the line's minimum"


def landing_growth(slices: Slices) -> float:
    """How the landing loss grows with the learning rate past the line's minimum: the log-log
    slope (1: in proportion, as on raw pixels; NaN when too few rates lie past the minimum)."""
    past = slices.landing_rates > slices.best_t
    return loglog_slope(list(slices.landing_rates[past]), list(slices.landing_loss[past]))


def landing_rows(slices: dict[str, Slices], names: dict[str, str]) -> list[dict]:
    """The landing loss per learning rate of each scaling's slices, for `charts.landing_chart`."""
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

"""Altair chart builders: rows in, alt.Chart out."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from explainer.findings import surface
from explainer.labels import FIX_NAMES, HEADERS, NAMES, OPTIMIZER_NAMES, VERDICT_WORDS

LR_DASHES = [[1, 0], [6, 3]]  # the lower learning rate solid, the higher dashed
# points one line of a chart may carry: a chart is at most about 600 px wide, so more points than
# this are more than a reader can see; a longer line keeps each stretch's lowest and highest point
MAX_LINE_POINTS = 500
METRIC_TITLES = {"loss": "loss (log scale)", "accuracy": "reported accuracy"}


def _lr_labels(frame: pd.DataFrame) -> pd.Series:
    return frame["learning_rate"].map("lr {:g}".format)


def _stroke_legend(title: str) -> alt.Legend:
    """A legend whose symbols are line segments, so that a dash pattern shows in it."""
    return alt.Legend(title=title, symbolType="stroke", symbolStrokeWidth=2, symbolSize=400)


SPLITS = ("training", "validation")  # the two panels of an epoch chart, side by side where there is room


def epoch_chart(rows: list[dict], metric: str, split: str, log_scale: bool = False) -> alt.Chart:
    """`metric` per epoch on one split (training or validation); colour says where the numbers
    come from (an engine, the question, a fix), the dash which learning rate."""
    frame = pd.DataFrame([row for row in rows if row["metric"] == metric and row["split"] == split])
    frame["lr"] = _lr_labels(frame)
    scale = alt.Scale(type="log") if log_scale else alt.Scale(zero=False)
    title = METRIC_TITLES[metric] if log_scale or metric != "loss" else "loss"
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1), title="epoch"),
            y=alt.Y("value:Q", scale=scale, title=title),
            color=alt.Color("source:N", title="numbers from", sort=None),
            strokeDash=alt.StrokeDash(
                "lr:N", title="learning rate", scale=alt.Scale(range=LR_DASHES), legend=_stroke_legend("learning rate")
            ),
            tooltip=["source", "lr", "split", "epoch", alt.Tooltip("value:Q", format=".4g", title=metric)],
        )
        .properties(width=300, height=240, title=split)
    )


def log_chart(rows: list[dict], metric: str) -> alt.Chart:
    """A reader's own logs: `metric` per epoch (log scale for the loss), colour the log, the dash
    training or validation."""
    frame = pd.DataFrame([row for row in rows if row["metric"] == metric])
    scale = alt.Scale(type="log") if metric == "loss" else alt.Scale(zero=False)
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1), title="epoch"),
            y=alt.Y("value:Q", scale=scale, title=METRIC_TITLES[metric] if metric == "loss" else metric),
            color=alt.Color("log:N", title="log", sort=None),
            strokeDash=alt.StrokeDash("split:N", title="split", scale=alt.Scale(range=LR_DASHES), legend=_stroke_legend("split")),
            tooltip=["log", "split", "epoch", alt.Tooltip("value:Q", format=".4g", title=metric)],
        )
        .properties(width=300, height=240)
        .configure_legend(orient="bottom")  # as every chart of the app (ui/figures): a phone keeps the plot's width
    )


def live_loss(rows: list[dict]) -> alt.Chart:
    """Training loss per finished epoch of runs still training, one line per run (log scale)."""
    return (
        alt.Chart(pd.DataFrame(rows))
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1), title="epoch"),
            y=alt.Y("loss:Q", scale=alt.Scale(type="log"), title="training loss"),
            color=alt.Color("run:N", title="run"),
            tooltip=["run", "epoch", alt.Tooltip("loss:Q", format=".4g")],
        )
        .properties(width=520, height=220)
    )


def sweep_chart(rows: list[dict], measure: str) -> alt.Chart:
    """Final loss (log-log) or final accuracy against learning rate."""
    frame = pd.DataFrame(rows)
    base = alt.Chart(frame).encode(
        x=alt.X("learning_rate:Q", scale=alt.Scale(type="log"), title="learning rate"),
        tooltip=[
            alt.Tooltip("learning_rate:Q", format="g"),
            alt.Tooltip("loss:Q", format=".4f"),
            alt.Tooltip("accuracy:Q", format=".4f"),
        ],
    )
    if measure == "loss":
        chart = base.mark_line(point=True).encode(y=alt.Y("loss:Q", scale=alt.Scale(type="log"), title="final training loss"))
    else:
        chart = base.mark_line(point=True, color="#e45756").encode(
            y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="final reported accuracy")
        )
    return chart.properties(width=300, height=260)


def lines(rows: list[dict], x: str, y: str, color: str, log_y: bool = False, y_title: str | None = None) -> alt.Chart:
    """A line per `color` value of `y` against `x` (an epoch), with tooltips; rows are plain
    dicts. A learning rate or an optimizer as the colour reads in words."""
    frame = pd.DataFrame(rows)
    legend = {"learning_rate": "learning rate", "optimizer": "optimizer"}.get(color, color)
    frame[legend] = _lr_labels(frame) if color == "learning_rate" else frame[color].map(lambda v: OPTIMIZER_NAMES.get(v, v))
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:Q", axis=alt.Axis(tickMinStep=1), title=x),
            y=alt.Y(f"{y}:Q", scale=alt.Scale(type="log") if log_y else alt.Scale(zero=False), title=y_title or y),
            color=alt.Color(f"{legend}:N"),
            tooltip=[legend, x, alt.Tooltip(f"{y}:Q", format=".4g", title=y_title or y)],
        )
        .properties(width=360, height=260)
    )


def fix_matrix(rows: list[dict], value: str, log_color: bool = False) -> alt.Chart:
    """Fix by learning rate, coloured by `value`, with the number written in each cell; fixes,
    verdicts and the value's name in words."""
    frame = pd.DataFrame(rows)
    frame["lr"] = frame["learning_rate"].map("{:g}".format)
    frame["fix"], frame["verdict"] = frame["fix"].map(FIX_NAMES), frame["verdict"].map(VERDICT_WORDS)
    title = HEADERS[value]
    base = alt.Chart(frame).encode(
        x=alt.X("lr:N", title="learning rate", sort=None),
        y=alt.Y("fix:N", sort=None, title=None),
        tooltip=["fix", "lr", alt.Tooltip(f"{value}:Q", format=".4g", title=title), "verdict"],
    )
    scale = alt.Scale(type="log" if log_color else "linear", scheme="viridis")
    cells = base.mark_rect().encode(color=alt.Color(f"{value}:Q", scale=scale, title=None, legend=alt.Legend(format=".3~g")))
    text = base.mark_text(color="white").encode(text=alt.Text(f"{value}:Q", format=".4g"))
    return (cells + text).properties(width=260, height=28 * frame["fix"].nunique(), title=title)


def histogram(rows: list[dict]) -> alt.Chart:
    """Counts per log10 bin, one colour per learning rate."""
    frame = pd.DataFrame(rows)
    frame["lr"] = _lr_labels(frame)
    return (
        alt.Chart(frame)
        .mark_bar(opacity=0.6)
        .encode(
            x=alt.X("log10_loss:Q", bin="binned", title="log10 of an image's loss (test set; the first bar: 1e-8 or less)"),
            x2="log10_loss_end:Q",
            y=alt.Y("samples:Q", stack=None, title="test images"),
            color=alt.Color("lr:N", title="learning rate"),
            tooltip=["lr", alt.Tooltip("log10_loss:Q", format=".1f"), "samples"],
        )
        .properties(width=520, height=260)
    )


def slice_chart(t, loss, markers: list[dict], best_t: float, best_loss: float) -> alt.LayerChart:
    """Loss along -d: the curve, a rule where each learning rate's step lands, the best point."""
    curve = pd.DataFrame({"t": t, "loss": loss})
    landing = pd.DataFrame(markers).assign(lr=_lr_labels)
    line = (
        alt.Chart(curve)
        .mark_line()
        .encode(
            x=alt.X("t:Q", title="step length t along -gradient"),
            y=alt.Y("loss:Q", scale=alt.Scale(zero=False)),
            tooltip=[alt.Tooltip("t:Q", format=".4g"), alt.Tooltip("loss:Q", format=".6g")],
        )
    )
    rules = (
        alt.Chart(landing)
        .mark_rule(strokeDash=[4, 3])
        .encode(
            x="t:Q",
            color=alt.Color("lr:N", title="SGD lands at"),
            tooltip=["lr", alt.Tooltip("loss:Q", format=".6g"), alt.Tooltip("alpha:Q", format=".3g")],
        )
    )
    best = (
        alt.Chart(pd.DataFrame({"t": [best_t], "loss": [best_loss]}))
        .mark_point(shape="diamond", size=120, filled=True, color="black")
        .encode(
            x="t:Q", y="loss:Q", tooltip=[alt.Tooltip("t:Q", format=".4g", title="best t"), alt.Tooltip("loss:Q", format=".6g")]
        )
    )
    return (line + rules + best).properties(width=380, height=260)


def thinned(frame: pd.DataFrame, x: str, y: str, lines: list[str], points: int = MAX_LINE_POINTS) -> pd.DataFrame:
    """At most `points` rows per line (a combination of `lines`): a longer line is cut into
    stretches of consecutive `x` and keeps the lowest and the highest `y` of each, in order, so
    that every spike still shows (NaN `y` counts as neither)."""
    kept = []
    for _, line in frame.sort_values(x, kind="stable").groupby(lines, sort=False):
        if len(line) <= points:
            kept.append(line)
            continue
        stretch = np.arange(len(line)) * (points // 2) // len(line)
        values = line[y].to_numpy(dtype=float)
        ends = [
            index
            for part in np.split(np.arange(len(line)), np.flatnonzero(np.diff(stretch)) + 1)
            if not np.isnan(values[part]).all()
            for index in sorted({part[np.nanargmin(values[part])], part[np.nanargmax(values[part])]})
        ]
        kept.append(line.iloc[ends])
    return pd.concat(kept, ignore_index=True) if kept else frame


def alpha_chart(rows: list[dict], scaling: str) -> alt.Chart:
    """Step quality alpha per SGD step of epoch 1 on one input scaling (symmetric-log scale:
    overshoots reach hundreds), each line `thinned` to what a reader can see."""
    frame = thinned(pd.DataFrame([row for row in rows if row["scaling"] == scaling]), "step", "alpha", ["learning_rate"])
    frame["lr"] = _lr_labels(frame)
    return (
        alt.Chart(frame)
        .mark_line(opacity=0.7)
        .encode(
            x=alt.X("step:Q", title="SGD step of epoch 1"),
            y=alt.Y("alpha:Q", scale=alt.Scale(type="symlog"), title="alpha"),
            color=alt.Color("lr:N", title="learning rate"),
            tooltip=["lr", "step", alt.Tooltip("alpha:Q", format=".3g")],
        )
        .properties(width=380, height=240, title=scaling)
    )


# cells per axis the plane's heat map shows: on its 380 px a cell is then 7-8 px, about what an
# eye tells apart; more only costs the browser (with 10,201 rectangles a chart, headless Chromium
# on 2 cores drew the page in 6.5 s; 3.7 s with 2,601). The contour lines and the tooltips'
# losses still come from the exact plane.
PLANE_CELLS_SHOWN = surface.PLANE_POINTS


def shown_points(count: int, most: int = PLANE_CELLS_SHOWN) -> np.ndarray:
    """Indices of the grid points the heat map shows: every k-th from the first, for the smallest
    k that keeps at most `most` (of 101: 51, its ends and its centre, the step's start)."""
    stride = max(1, -(-(count - 1) // max(1, most - 1)))
    return np.arange(0, count, stride)


def plane_chart(a, b, loss, iterates: list[dict], contours: list[dict]) -> alt.LayerChart:
    """Loss on the plane as a heat map (log colour) at `PLANE_CELLS_SHOWN` cells per axis at
    most, its contour lines, and the next SGD iterates on top."""
    rows, columns = shown_points(len(a)), shown_points(len(b))
    a, b, loss = np.asarray(a)[rows], np.asarray(b)[columns], np.asarray(loss)[np.ix_(rows, columns)]
    grid_a, grid_b = np.meshgrid(a, b, indexing="ij")
    # float32 and three columns: each cell's edges are computed in the browser (half a grid step
    # either side)
    cells = pd.DataFrame({"a": grid_a.ravel(), "b": grid_b.ravel(), "loss": np.asarray(loss).ravel()}).astype(np.float32)
    half_a, half_b = float(a[1] - a[0]) / 2, float(b[1] - b[0]) / 2
    heat = (
        alt.Chart(cells)
        .transform_calculate(
            a0=f"datum.a - {half_a!r}", a1=f"datum.a + {half_a!r}", b0=f"datum.b - {half_b!r}", b1=f"datum.b + {half_b!r}"
        )
        .mark_rect()
        .encode(
            x=alt.X("a0:Q", title="along -d1 (the step)"),
            x2="a1:Q",
            y=alt.Y("b0:Q", title="along -d2"),
            y2="b1:Q",
            color=alt.Color("loss:Q", scale=alt.Scale(type="log", scheme="viridis"), title="loss"),
            tooltip=[alt.Tooltip("a:Q", format=".4g"), alt.Tooltip("b:Q", format=".4g"), alt.Tooltip("loss:Q", format=".6g")],
        )
    )
    path = (
        alt.Chart(pd.DataFrame(iterates))
        .mark_line(point=True, color="white")
        .encode(
            x="a:Q", y="b:Q", order="step:Q", tooltip=["step", alt.Tooltip("a:Q", format=".4g"), alt.Tooltip("b:Q", format=".4g")]
        )
    )
    lines = (
        alt.Chart(pd.DataFrame(contours, columns=["level", "line", "order", "a", "b"]))
        .mark_line(color="white", opacity=0.55, strokeWidth=1)
        .encode(x="a:Q", y="b:Q", detail="line:N", order="order:Q", tooltip=[alt.Tooltip("level:Q", format=".4g", title="loss")])
    )
    return (heat + lines + path).properties(width=380, height=320)


def surface_plane(plane: surface.Slices) -> alt.LayerChart:
    """The loss-surface page's plane for one input scaling: `plane_chart` of its grid, with its
    contour lines and the path of the next SGD steps."""
    return plane_chart(plane.plane_a, plane.plane_b, plane.plane_loss, plane.iterates, surface.contours(plane))


def landing_chart(rows: list[dict], learning_rate: float) -> alt.LayerChart:
    """Where SGD's step lands, against the learning rate (log-log), one line per input scaling;
    the chosen rate marked, each line's starting loss as a dotted rule."""
    frame = pd.DataFrame(rows)
    scale = alt.Scale(type="log")
    x = alt.X("learning_rate:Q", scale=scale, title="learning rate (the step's length along the gradient)")
    colour = alt.Color("scaling:N", title="inputs")
    tooltip = ["scaling", alt.Tooltip("learning_rate:Q", format=".3g"), alt.Tooltip("loss:Q", format=".4g")]
    lines = (
        alt.Chart(frame)
        .mark_line()
        .encode(x=x, y=alt.Y("loss:Q", scale=scale, title="loss where the step lands"), color=colour, tooltip=tooltip)
    )
    start = (
        alt.Chart(frame)
        .mark_rule(strokeDash=[2, 2])
        .encode(y="start:Q", color=colour, tooltip=[alt.Tooltip("start:Q", title="loss before the step", format=".4g")])
    )
    chosen = frame[frame["learning_rate"] == learning_rate]
    points = alt.Chart(chosen).mark_point(size=120, filled=True).encode(x=x, y="loss:Q", color=colour, tooltip=tooltip)
    rule = alt.Chart(pd.DataFrame({"learning_rate": [learning_rate]})).mark_rule(color="gray").encode(x="learning_rate:Q")
    return (lines + start + rule + points).properties(width=620, height=300)


def divergence_chart(rows: list[dict]) -> alt.LayerChart:
    """Final loss against learning rate (log-log), one line per scaling; a dashed rule where a
    run's loss became infinite or NaN."""
    frame = pd.DataFrame(rows).assign(inputs=lambda f: f["scaling"].map(NAMES))
    x = alt.X("learning_rate:Q", scale=alt.Scale(type="log"), title="learning rate")
    colour = alt.Color("inputs:N", title="inputs")
    tooltip = ["inputs", alt.Tooltip("learning_rate:Q", format="g"), alt.Tooltip("loss:Q", format=".4g", title="final loss")]
    finite = (
        alt.Chart(frame[frame["finite"]])
        .mark_line(point=True)
        .encode(x=x, y=alt.Y("loss:Q", scale=alt.Scale(type="log"), title="final training loss"), color=colour, tooltip=tooltip)
    )
    overflow = frame[~frame["finite"]].assign(what="infinite or NaN")
    rules = (
        alt.Chart(overflow).mark_rule(strokeDash=[4, 3]).encode(x=x, color=colour, tooltip=["inputs", "learning_rate", "what"])
    )
    return (finite + rules).properties(width=620, height=280)

"""Altair chart builders: rows in, alt.Chart out. Every encoding is one of Altair's channel
objects (alt.X("t:Q"), alt.Tooltip("lr")), never a shorthand string (x="t:Q", "lr"): Altair
turns each string into its channel by hashing all of its schema's classes again, 8 ms a string
(measured: the loss plane's chart built in 66 ms with strings, 18 ms without; the same spec)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from explainer.labels import FIX_NAMES, HEADERS, NAMES, OPTIMIZER_NAMES, VERDICT_WORDS

LR_DASHES = [[1, 0], [6, 3]]  # the lower learning rate solid, the higher dashed
# points one line of a chart may carry: a chart is at most about 600 px wide, so more points than
# this are more than a reader can see; a longer line keeps each stretch's lowest and highest point
MAX_LINE_POINTS = 500
METRIC_TITLES = {"loss": "loss (log scale)", "accuracy": "reported accuracy"}


def lr_labels(frame: pd.DataFrame) -> pd.Series:
    return frame["learning_rate"].map("lr {:g}".format)


def _stroke_legend(title: str) -> alt.Legend:
    """A legend whose symbols are line segments, so that a dash pattern shows in it."""
    return alt.Legend(title=title, symbolType="stroke", symbolStrokeWidth=2, symbolSize=400)


SPLITS = ("training", "validation")  # the two panels of an epoch chart, side by side where there is room


def epoch_chart(rows: list[dict], metric: str, split: str, log_scale: bool = False) -> alt.Chart:
    """`metric` per epoch on one split (training or validation); colour says where the numbers
    come from (an engine, the question, a fix), the dash which learning rate."""
    frame = pd.DataFrame([row for row in rows if row["metric"] == metric and row["split"] == split])
    frame["lr"] = lr_labels(frame)
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
            tooltip=[*map(alt.Tooltip, ("source", "lr", "split", "epoch")), alt.Tooltip("value:Q", format=".4g", title=metric)],
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
            tooltip=[*map(alt.Tooltip, ("log", "split", "epoch")), alt.Tooltip("value:Q", format=".4g", title=metric)],
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
            tooltip=[alt.Tooltip("run"), alt.Tooltip("epoch"), alt.Tooltip("loss:Q", format=".4g")],
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
    frame[legend] = lr_labels(frame) if color == "learning_rate" else frame[color].map(lambda v: OPTIMIZER_NAMES.get(v, v))
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{x}:Q", axis=alt.Axis(tickMinStep=1), title=x),
            y=alt.Y(f"{y}:Q", scale=alt.Scale(type="log") if log_y else alt.Scale(zero=False), title=y_title or y),
            color=alt.Color(f"{legend}:N"),
            tooltip=[alt.Tooltip(legend), alt.Tooltip(x), alt.Tooltip(f"{y}:Q", format=".4g", title=y_title or y)],
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
        tooltip=[
            alt.Tooltip("fix"),
            alt.Tooltip("lr"),
            alt.Tooltip(f"{value}:Q", format=".4g", title=title),
            alt.Tooltip("verdict"),
        ],
    )
    scale = alt.Scale(type="log" if log_color else "linear", scheme="viridis")
    cells = base.mark_rect().encode(color=alt.Color(f"{value}:Q", scale=scale, title=None, legend=alt.Legend(format=".3~g")))
    text = base.mark_text(color="white").encode(text=alt.Text(f"{value}:Q", format=".4g"))
    return (cells + text).properties(width=260, height=28 * frame["fix"].nunique(), title=title)


def histogram(rows: list[dict]) -> alt.Chart:
    """Counts per log10 bin, one colour per learning rate."""
    frame = pd.DataFrame(rows)
    frame["lr"] = lr_labels(frame)
    return (
        alt.Chart(frame)
        .mark_bar(opacity=0.6)
        .encode(
            x=alt.X("log10_loss:Q", bin="binned", title="log10 of an image's loss (test set; the first bar: 1e-8 or less)"),
            x2=alt.X2("log10_loss_end:Q"),
            y=alt.Y("samples:Q", stack=None, title="test images"),
            color=alt.Color("lr:N", title="learning rate"),
            tooltip=[alt.Tooltip("lr"), alt.Tooltip("log10_loss:Q", format=".1f"), alt.Tooltip("samples")],
        )
        .properties(width=520, height=260)
    )


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


def divergence_chart(rows: list[dict]) -> alt.LayerChart:
    """Final loss against learning rate (log-log), one line per scaling; a dashed rule where a
    run's loss became infinite or NaN."""
    frame = pd.DataFrame(rows).assign(inputs=lambda f: f["scaling"].map(NAMES))
    x = alt.X("learning_rate:Q", scale=alt.Scale(type="log"), title="learning rate")
    colour = alt.Color("inputs:N", title="inputs")
    tooltip = [
        alt.Tooltip("inputs"),
        alt.Tooltip("learning_rate:Q", format="g"),
        alt.Tooltip("loss:Q", format=".4g", title="final loss"),
    ]
    finite = (
        alt.Chart(frame[frame["finite"]])
        .mark_line(point=True)
        .encode(x=x, y=alt.Y("loss:Q", scale=alt.Scale(type="log"), title="final training loss"), color=colour, tooltip=tooltip)
    )
    overflow = frame[~frame["finite"]].assign(what="infinite or NaN")
    rules = (
        alt.Chart(overflow)
        .mark_rule(strokeDash=[4, 3])
        .encode(x=x, color=colour, tooltip=[*map(alt.Tooltip, ("inputs", "learning_rate", "what"))])
    )
    return (finite + rules).properties(width=620, height=280)

"""The loss-surface page's charts: the slice along SGD's step, step quality, the plane with its
contours and iterates, the landing loss across learning rates. Encodings are channel objects, not
shorthand strings, as in charts.py."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from explainer.findings import surface
from explainer.reader.charts import lr_labels, thinned


def slice_chart(slices: surface.Slices) -> alt.LayerChart:
    """Loss along -d: the curve, a rule where each learning rate's step lands, the best point."""
    curve = pd.DataFrame({"t": slices.t, "loss": slices.loss})
    landing = pd.DataFrame(slices.markers).assign(lr=lr_labels)
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
            x=alt.X("t:Q"),
            color=alt.Color("lr:N", title="SGD lands at"),
            tooltip=[alt.Tooltip("lr"), alt.Tooltip("loss:Q", format=".6g"), alt.Tooltip("alpha:Q", format=".3g")],
        )
    )
    best = (
        alt.Chart(pd.DataFrame({"t": [slices.best_t], "loss": [slices.best_loss]}))
        .mark_point(shape="diamond", size=120, filled=True, color="black")
        .encode(
            x=alt.X("t:Q"),
            y=alt.Y("loss:Q"),
            tooltip=[alt.Tooltip("t:Q", format=".4g", title="best t"), alt.Tooltip("loss:Q", format=".6g")],
        )
    )
    return (line + rules + best).properties(width=380, height=260)


def alpha_chart(rows: list[dict], scaling: str) -> alt.Chart:
    """Step quality alpha per SGD step of epoch 1 on one input scaling (symmetric-log scale:
    overshoots reach hundreds), each line `thinned` to what a reader can see."""
    frame = thinned(pd.DataFrame([row for row in rows if row["scaling"] == scaling]), "step", "alpha", ["learning_rate"])
    frame["lr"] = lr_labels(frame)
    return (
        alt.Chart(frame)
        .mark_line(opacity=0.7)
        .encode(
            x=alt.X("step:Q", title="SGD step of epoch 1"),
            y=alt.Y("alpha:Q", scale=alt.Scale(type="symlog"), title="alpha"),
            color=alt.Color("lr:N", title="learning rate"),
            tooltip=[alt.Tooltip("lr"), alt.Tooltip("step"), alt.Tooltip("alpha:Q", format=".3g")],
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
            x2=alt.X2("a1:Q"),
            y=alt.Y("b0:Q", title="along -d2"),
            y2=alt.Y2("b1:Q"),
            color=alt.Color("loss:Q", scale=alt.Scale(type="log", scheme="viridis"), title="loss"),
            tooltip=[alt.Tooltip("a:Q", format=".4g"), alt.Tooltip("b:Q", format=".4g"), alt.Tooltip("loss:Q", format=".6g")],
        )
    )
    path = (
        alt.Chart(pd.DataFrame(iterates))
        .mark_line(point=True, color="white")
        .encode(
            x=alt.X("a:Q"),
            y=alt.Y("b:Q"),
            order=alt.Order("step:Q"),
            tooltip=[alt.Tooltip("step"), alt.Tooltip("a:Q", format=".4g"), alt.Tooltip("b:Q", format=".4g")],
        )
    )
    lines = (
        alt.Chart(pd.DataFrame(contours, columns=["level", "line", "order", "a", "b"]))
        .mark_line(color="white", opacity=0.55, strokeWidth=1)
        .encode(
            x=alt.X("a:Q"),
            y=alt.Y("b:Q"),
            detail=alt.Detail("line:N"),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("level:Q", format=".4g", title="loss")],
        )
    )
    # drawn on a canvas: as SVG each of its 2,601 cells is an element of the page, which the
    # browser lays out and an accessibility tree lists one by one
    return (heat + lines + path).properties(width=380, height=320, usermeta={"embedOptions": {"renderer": "canvas"}})


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
    tooltip = [alt.Tooltip("scaling"), alt.Tooltip("learning_rate:Q", format=".3g"), alt.Tooltip("loss:Q", format=".4g")]
    lines = (
        alt.Chart(frame)
        .mark_line()
        .encode(x=x, y=alt.Y("loss:Q", scale=scale, title="loss where the step lands"), color=colour, tooltip=tooltip)
    )
    start = (
        alt.Chart(frame)
        .mark_rule(strokeDash=[2, 2])
        .encode(y=alt.Y("start:Q"), color=colour, tooltip=[alt.Tooltip("start:Q", title="loss before the step", format=".4g")])
    )
    chosen = frame[frame["learning_rate"] == learning_rate]
    points = alt.Chart(chosen).mark_point(size=120, filled=True).encode(x=x, y=alt.Y("loss:Q"), color=colour, tooltip=tooltip)
    rule = alt.Chart(pd.DataFrame({"learning_rate": [learning_rate]})).mark_rule(color="gray").encode(x=alt.X("learning_rate:Q"))
    return (lines + start + rule + points).properties(width=620, height=300)

"""The loss along the gradient direction: where each learning rate's SGD step lands, raw vs /255."""
import streamlit as st

from explainer import charts, surface
from ui.runs import results, step_quality, surface_view

view = st.session_state.view
config, (low, high) = view.config, view.learning_rates
SCALINGS = {"raw": "raw pixels 0-255", "unit": "x / 255"}
st.title("The loss along the step direction")
st.markdown(
    f"From a point of the run at lr {low:g} ({config.label()}), the loss is evaluated exactly along the direction SGD "
    f"steps in, and marked where a step of lr {low:g} and of lr {high:g} lands; the same for inputs scaled to x / 255."
)
if config.optimizer != "sgd":
    st.info("The slices follow SGD steps: choose the SGD optimizer in the sidebar to see them.")
    st.stop()

left, middle, right = st.columns(3)
point = left.radio("Stand at", surface.POINTS, index=2, format_func={"init": "initial weights", "step": "after step k of epoch 1", "epoch": "end of epoch e"}.get, key="surface_point")
default_index = {"init": 0, "step": 100, "epoch": 1}[point]
index = left.number_input("k or e", 0, 10_000 if point == "step" else config.num_epochs, default_index, disabled=point == "init", key=f"surface_index_{point}")
direction = middle.radio("Direction d1", surface.DIRECTIONS, format_func={"minibatch": "next mini-batch's gradient (SGD's step)", "fullbatch": "full-batch gradient"}.get, key="surface_direction")
second = middle.radio("Plane's second axis d2", surface.SECOND_DIRECTIONS, format_func={"next_minibatch": "following mini-batch's gradient", "random": "filter-normalised random", "hessian": "top Hessian eigenvector"}.get, key="surface_second")
evaluate_on = right.radio("Loss averaged over", surface.EVALUATE_ON, index=1, format_func={"minibatch": "the next mini-batch", "train": "the training set", "test": "the test set"}.get, key="surface_data")

configs = {scaling: config.replace(scaling=scaling, learning_rate=low) for scaling in SCALINGS}
if results(list(configs.values()) + [c.replace(learning_rate=high) for c in configs.values()], "Loss surface") is None:
    st.stop()
try:
    requests = {s: surface.SurfaceRequest(c, point, int(index), direction, second, evaluate_on) for s, c in configs.items()}
    views = {scaling: surface_view(request, view.learning_rates) for scaling, request in requests.items()}
except ValueError as error:
    st.error(f"{error}. Choose another point or direction.")
    st.stop()

st.header("One step, along the line")
for column, (scaling, v) in zip(st.columns(2), views.items()):
    column.subheader(SCALINGS[scaling])
    column.altair_chart(charts.slice_chart(v.t, v.loss, v.markers, v.best_t, v.best_loss))
    start = float(v.loss[v.t == 0][0])
    for metric_column, marker in zip(column.columns(len(v.markers)), v.markers):
        metric_column.metric(f"alpha at lr {marker['learning_rate']:g}", f"{marker['alpha']:.3g}", help="-1 no progress, 0 the line's minimum, +1 same loss on the far side, > 1 overshoot")
    landing = "; ".join(f"the step of lr {m['learning_rate']:g} lands at {m['loss']:.4g} and {surface.describe_alpha(m['alpha'])}" for m in v.markers)
    edge = " (the edge of the range: the minimum may lie further)" if v.best_t == v.t.max() else ""
    column.markdown(f"The loss is {start:.4g} where we stand and lowest, {v.best_loss:.4g}, at t = {v.best_t:.3g}{edge}; {landing}.")

st.header("Step quality through epoch 1")
every = 5
rows = [dict(row, scaling=SCALINGS[scaling]) for scaling, c in configs.items() for lr in view.learning_rates
        for row in step_quality(c.replace(learning_rate=lr), every)]
st.altair_chart(charts.alpha_chart(rows))
summary = {(row["scaling"], row["learning_rate"]) for row in rows}
medians = {key: sorted(r["alpha"] for r in rows if (r["scaling"], r["learning_rate"]) == key and r["alpha"] == r["alpha"]) for key in summary}
st.markdown(
    f"Every {every}th step of epoch 1, the mini-batch loss along that step's own gradient. Median alpha: "
    + "; ".join(f"{scaling}, lr {lr:g}: {values[len(values) // 2]:.3g}" for (scaling, lr), values in sorted(medians.items()) if values)
    + "."
)

st.header("The plane of d1 and d2")
for column, (scaling, v) in zip(st.columns(2), views.items()):
    column.subheader(SCALINGS[scaling])
    column.altair_chart(charts.plane_chart(v.plane_a, v.plane_b, v.plane_loss, v.iterates))
    column.caption(f"The white path: where we stand and the next {len(v.iterates) - 1} SGD iterates at lr {low:g}, projected onto the plane.")

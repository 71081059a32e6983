"""The loss along the gradient direction: where each learning rate's SGD step lands, raw vs /255."""

import streamlit as st

from explainer import charts, plan, surface
from explainer.labels import EVALUATE_ON, LABELS, NAMES, figure
from ui.runs import step_quality, surface_views

view = st.session_state.view
config, (low, high) = view.config, view.learning_rates
st.title("The loss along the step direction")
st.markdown(
    f"From a point of the run at lr {low:g} ({config.label()}), the loss is evaluated exactly along the direction SGD "
    f"steps in, and marked where a step of lr {low:g} and of lr {high:g} lands; the same for inputs scaled to x / 255."
)
if config.optimizer != "sgd":
    st.info("The slices follow SGD steps: choose the SGD optimizer in the sidebar to see them.")
    st.stop()

left, middle, right = st.columns(3)
point = left.radio("Stand at", surface.POINTS, index=2, format_func=LABELS.get, key="surface_point")
lowest, highest = surface.index_range(config, point)
default = surface.default_index(config, point)
index = left.number_input("k or e", lowest, highest, default, disabled=point == "init", key=f"surface_index_{point}")
direction = middle.radio("Direction d1", surface.DIRECTIONS, format_func=LABELS.get, key="surface_direction")
second = middle.radio("Plane's second axis d2", surface.SECOND_DIRECTIONS, format_func=LABELS.get, key="surface_second")
evaluate_on = right.radio("Loss averaged over", surface.EVALUATE_ON, index=1, format_func=EVALUATE_ON.get, key="surface_data")
requests = {
    scaling: surface.SurfaceRequest(run, point, int(index), direction, second, evaluate_on)
    for scaling, run in plan.surface_configs(view).items()
}
slices = surface_views(requests, view)

st.header("One step, along the line")
for column, (scaling, line) in zip(st.columns(2), slices.items()):
    column.subheader(NAMES[scaling])
    column.altair_chart(charts.slice_chart(line.t, line.loss, line.markers, line.best_t, line.best_loss))
    for metric_column, marker in zip(column.columns(len(line.markers)), line.markers):
        metric_column.metric(
            f"alpha at lr {marker['learning_rate']:g}",
            f"{figure(marker['alpha'], '.3g')}",
            help="-1 no progress, 0 the line's minimum, +1 same loss on the far side, > 1 overshoot",
        )
    landing = "; ".join(
        f"the step of lr {m['learning_rate']:g} lands at {figure(m['loss'], '.4g')} and {surface.describe_alpha(m['alpha'])}"
        for m in line.markers
    )
    edge = " (the edge of the range: the minimum may lie further)" if line.minimum_at_edge else ""
    column.markdown(
        f"The loss is {figure(line.start_loss, '.4g')} where we stand and lowest, {figure(line.best_loss, '.4g')}, at t = "
        f"{figure(line.best_t, '.3g')}{edge}; "
        f"{landing}."
    )

st.header("Step quality through epoch 1")
every = 5
rows = [
    dict(row, scaling=NAMES[scaling])
    for scaling, request in requests.items()
    for lr in view.learning_rates
    for row in step_quality(request.config.replace(learning_rate=lr), every)
]
st.altair_chart(charts.alpha_chart(rows))
st.markdown(
    f"Every {every}th step of epoch 1, the mini-batch loss along that step's own gradient. Median alpha: "
    + "; ".join(f"{scaling}, lr {lr:g}: {figure(median, '.3g')}" for (scaling, lr), median in surface.median_alphas(rows).items())
    + "."
)

st.header("The plane of d1 and d2")
for column, (scaling, plane) in zip(st.columns(2), slices.items()):
    column.subheader(NAMES[scaling])
    column.altair_chart(charts.plane_chart(plane.plane_a, plane.plane_b, plane.plane_loss, plane.iterates))
    column.caption(
        f"The white path: where we stand and the next {len(plane.iterates) - 1} SGD iterates at lr {low:g}, "
        "projected onto the plane."
    )

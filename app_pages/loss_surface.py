"""The loss along the step SGD takes: where each learning rate's step lands, raw pixels beside x / 255."""

import streamlit as st

from explainer import plan
from explainer.findings import surface
from explainer.labels import EVALUATION_WORDS, LABELS, NAMES, describe, figure
from explainer.reader import surface_charts
from ui.figures import chart
from ui.measured import prefetch_surfaces, step_quality, surface_views
from ui.pages import link_next

view = st.session_state.view
config, (low, high) = view.config, view.learning_rates
st.title("Where each step lands")
st.markdown(
    f"From a point of the run at learning rate {low:g} ({describe(config)}), the loss is computed exactly along the "
    "direction SGD steps in; an SGD step of learning rate η lands at step length η. Raw pixels beside x / 255."
)
if config.optimizer != "sgd":
    st.info("These slices follow SGD's steps: choose the SGD optimizer in the sidebar to see them.")
    st.stop()

left, middle, right = st.columns(3)
point = left.radio("Stand at", surface.POINTS, index=2, format_func=LABELS.get, key="surface_point")
lowest, highest = surface.index_range(config, point)
index = left.number_input(
    "Step k or epoch e",
    lowest,
    highest,
    surface.default_index(config, point),
    disabled=point == "init",
    key=f"surface_index_{point}",
)
direction = middle.radio("Direction d1", surface.DIRECTIONS, format_func=LABELS.get, key="surface_direction")
second = middle.radio("Plane's second axis d2", surface.SECOND_DIRECTIONS, format_func=LABELS.get, key="surface_second")
evaluate_on = right.radio(
    "Loss averaged over", surface.EVALUATE_ON, index=1, format_func=EVALUATION_WORDS.get, key="surface_data"
)
requests = plan.surface_requests(view, point, int(index), direction, second, evaluate_on)
slices = surface_views(requests, view)

st.header("Slide the learning rate")
rate = st.select_slider(
    "Learning rate of the step", list(slices["raw"].landing_rates), value=high, format_func="{:g}".format, key="landing_rate"
)
chart(st, (view, *requests.values(), rate), surface_charts.landing_chart, surface.landing_rows(slices, NAMES), rate)
st.markdown(surface.landing_sentence(slices, rate, NAMES))
st.caption("The loss where one SGD step lands, for each learning rate (log-log); dotted: the loss before the step.")

st.header("One step, along the line")
for column, (scaling, line) in zip(st.columns(2), slices.items()):
    column.subheader(NAMES[scaling])
    chart(column, (view, requests[scaling]), surface_charts.slice_chart, line)
    for metric_column, marker in zip(column.columns(len(line.markers)), line.markers):
        label = f"step quality at lr {marker['learning_rate']:g}"
        metric_column.metric(label, figure(marker["alpha"], ".3g"), help=surface.ALPHA_SCALE)
    column.markdown(surface.line_sentence(line))
st.caption("The loss along the step's direction; dashed: where each learning rate's step lands; the diamond: the lowest point.")

st.header("Step quality through epoch 1")
rows = step_quality(requests, view)
for column, scaling in zip(st.columns(len(requests)), requests):
    chart(column, (view, scaling), surface_charts.alpha_chart, rows, NAMES[scaling])
st.caption(
    f"Every step of epoch 1, on its own mini-batch (symmetric log scale). Median step quality: {surface.medians_sentence(rows)}."
)

st.header("The plane of d1 and d2")
for column, (scaling, plane) in zip(st.columns(2), slices.items()):
    column.subheader(NAMES[scaling])
    chart(column, (view, requests[scaling]), surface_charts.surface_plane, plane)
st.caption(f"The loss on the plane (log colour), its contour lines, and the path of the next SGD steps at learning rate {low:g}.")
link_next(__file__)
prefetch_surfaces(requests, view)

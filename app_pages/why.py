"""Why: the mechanism step by step, each claim beside the measurement that supports or refutes it."""

import streamlit as st

from explainer.findings import steps
from explainer.labels import describe, table
from explainer.maths.measures import SATURATED_PROBABILITY
from explainer.reader import charts
from ui.figures import chart
from ui.measured import measured_mechanism
from ui.pages import link_next

view = st.session_state.view
st.title("Why the loss follows the learning rate")
st.markdown(f"Measured on the sidebar's setup ({describe(view.config)}), from the same stored runs as the other pages.")
m = measured_mechanism(view)

st.header(steps.TITLES[0])
st.dataframe(table(m.loss_paths), hide_index=True)
st.markdown(steps.loss_paths(m))
st.caption("Versions: " + ", ".join(f"{package} {version}" for package, version in m.versions.items()) + ".")

st.header(steps.TITLES[1])
st.dataframe(table(m.step_sizes), hide_index=True)
st.markdown(steps.step_sizes(m, view.config.batch_size))

st.header(steps.TITLES[2])
shares = {
    "softmax_saturated": f"share with largest softmax > {SATURATED_PROBABILITY:g}",
    "sigmoid_ties": "share with tied sigmoid outputs",
}
for column, (share, title) in zip(st.columns(2), shares.items()):
    chart(column, (view, share), charts.lines, m.saturation, "epoch", share, "learning_rate", y_title=title)
st.caption("Per epoch (0 is the initialisation), at each learning rate: the training images whose outputs are saturated.")
st.markdown(steps.saturation(m))

st.header(steps.TITLES[3])
norms, collapse = st.columns(2)
chart(
    norms,
    (view, "norms"),
    charts.lines,
    m.scaling,
    "epoch",
    "norm_ratio",
    "optimizer",
    y_title="weight norm, higher / lower rate",
)
y_title = "training loss / learning rate"
chart(
    collapse, (view, "collapse"), charts.lines, m.collapse, "epoch", "loss_over_lr", "learning_rate", log_y=True, y_title=y_title
)
st.caption(
    "First: how much larger the weights are at the higher rate. Then: the loss divided by the rate, which scaling predicts flat."
)
st.dataframe(table(m.final_scaling), hide_index=True)
st.markdown(steps.scaling(m))

st.header(steps.TITLES[4])
st.dataframe(table(m.artifact), hide_index=True)
st.markdown(steps.artifact(m))

st.header(steps.TITLES[5])
chart(st, (view,), charts.histogram, m.histogram)
st.caption(
    "How many test images have each per-image loss, at each learning rate: the correct ones near 0, the wrong ones far out."
)
st.markdown(steps.per_sample(m))
link_next(__file__)

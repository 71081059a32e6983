"""Entry point: page config, the shared sidebar (mirrored in the URL), and navigation."""

import streamlit as st

from explainer.config import ACTIVATIONS, ENGINES, OPTIMIZERS, SCALINGS, losses_for
from explainer.labels import LABELS
from explainer.view import (
    View,
    config_from_widgets,
    format_learning_rates,
    from_query,
    parse_learning_rates,
    to_query,
    widget_values,
)

st.set_page_config(page_title="Why does the loss grow with the learning rate?", page_icon="📉", layout="wide")


def start_from_url() -> None:
    """First run of a session: the widgets start from the URL's view."""
    view, notices = from_query(st.query_params.to_dict())
    st.session_state.update(
        lr=format_learning_rates(view.learning_rates), **widget_values(view.config), view=view, url_view=view, url_notices=notices
    )


def sidebar() -> View:
    """The shared, keyed controls; returns the view they describe."""
    bar, choose = st.sidebar, lambda options, **kwargs: st.sidebar.radio(options=options, format_func=LABELS.get, **kwargs)
    bar.header("Settings")
    lr_text = bar.text_input("Learning rates to compare", key="lr", help="Two numbers, like 0.01, 0.03")
    try:
        learning_rates = parse_learning_rates(lr_text)
    except ValueError as error:
        learning_rates = st.session_state.view.learning_rates
        bar.error(f"{error}. Still showing {format_learning_rates(learning_rates)}.")
    choose(ENGINES, label="Keras engine", key="engine")
    bar.subheader("Fixes")
    choose(SCALINGS, label="Input scaling", key="scaling")
    choose(ACTIVATIONS, label="Output activation", key="activation")
    losses = losses_for(st.session_state.activation)
    if st.session_state.loss not in losses:
        st.session_state.loss = losses[0]
    choose(losses, label="Cross-entropy", key="loss", disabled=len(losses) == 1)
    choose(OPTIMIZERS, label="Optimizer", key="optimizer")
    with bar.expander("Run length"):
        st.slider("Epochs", 1, 10, key="num_epochs")
        st.number_input("Training images (0 = all 60,000)", 0, 60_000, step=1000, key="train_subset")
        st.number_input("Seed", 0, 2**31 - 1, key="seed")
    try:
        config = config_from_widgets(st.session_state)
    except ValueError as error:  # a combination RunConfig refuses: a message, never a traceback
        config = st.session_state.view.config
        bar.error(f"{error}. Still showing the last valid settings.")
    return View(learning_rates, config)


if "view" not in st.session_state:
    start_from_url()
st.session_state.view = sidebar()
st.query_params.from_dict(to_query(st.session_state.view))
if st.session_state.view == st.session_state.url_view:
    for notice in st.session_state.url_notices:
        st.warning(f"{notice} Settings from the link that could be read were applied.")

pages = [
    st.Page("app_pages/reproduce.py", title="Reproduce the question", icon=":material/replay:", default=True),
    st.Page("app_pages/loss_surface.py", title="The loss surface", icon=":material/landscape:"),
    st.Page("app_pages/fixes.py", title="Apply the fixes", icon=":material/build:"),
    st.Page("app_pages/why.py", title="Why: the mechanism, measured", icon=":material/search:"),
]
st.navigation(pages).run()

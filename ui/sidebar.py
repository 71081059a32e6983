"""The shared sidebar: keyed controls that apply to every page, started from the link's view and
mirrored back into the link."""

import streamlit as st

from explainer import gate
from explainer.config import ACTIVATIONS, BOUNDS, ENGINES, OPTIMIZERS, SCALINGS, losses_for
from explainer.labels import LABELS
from explainer.view import View, config_from_widgets, format_learning_rates, parse_learning_rates, to_query, widget_values
from ui import notices
from ui.measured import notebook_file

# Streamlit folds the sidebar away at this width and below (its theme's "md" breakpoint)
FOLDED_BELOW_PX = 768
HINT = f"<style>@media (min-width: {FOLDED_BELOW_PX + 1}px) {{ .st-key-settings-hint {{ display: none; }} }}</style>"


def view() -> View:
    """The view the sidebar describes (the last valid one if its values are not), kept in the
    session and in the link; on a session's first run, the controls start from the link's view.
    Where the sidebar is folded away (a phone), one line above the page says where it is."""
    st.html(HINT)
    st.container(key="settings-hint").caption(
        ":material/tune: The settings and the fixes are in the sidebar: open it with the **»** at the top left."
    )
    if "view" not in st.session_state:
        _start_from_link()
    st.session_state.view = view = _controls()
    st.query_params.from_dict(to_query(view))
    st.sidebar.download_button(
        "Download this view as a notebook",
        notebook_file(view),
        "keras-lr-explainer.ipynb",
        "application/x-ipynb+json",
        on_click="ignore",
        icon=":material/download:",
        help="Plain Keras, NumPy and matplotlib: it trains this view as the app does and measures what the answer rests on.",
    )
    return view


def _start_from_link() -> None:
    view, found = gate.from_link(st.query_params.to_dict())
    st.session_state.update(lr=format_learning_rates(view.learning_rates), **widget_values(view.config), view=view)
    notices.keep(found)


def _controls() -> View:
    bar, choose = st.sidebar, lambda options, **kwargs: st.sidebar.radio(options=options, format_func=LABELS.get, **kwargs)
    bar.header("Settings")
    bar.caption("They apply to every page, and the link in the address bar keeps them.")
    lr_text = bar.text_input("Learning rates to compare", key="lr", help="Two numbers, like 0.01, 0.03")
    try:
        learning_rates = parse_learning_rates(lr_text)
    except ValueError as error:
        learning_rates = st.session_state.view.learning_rates
        bar.error(notices.inert(f"{error}. Still showing {format_learning_rates(learning_rates)}."))
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
        st.slider("Epochs", *BOUNDS["num_epochs"], key="num_epochs")
        st.number_input("Training images (0 = all 60,000)", 0, BOUNDS["train_subset"][1], step=1000, key="train_subset")
        st.number_input("Batch size", *BOUNDS["batch_size"], key="batch_size")
        st.number_input("Seed", *BOUNDS["seed"], key="seed")
    try:
        return gate.admit(View(learning_rates, config_from_widgets(st.session_state)))
    except ValueError as error:  # a combination RunConfig or the budget refuses: a message, never a traceback
        bar.error(notices.inert(f"{error}. Still showing the last valid settings."))
        return View(learning_rates, st.session_state.view.config)

"""The answer first, each sentence measured; then the question re-run on three engines beside its numbers."""

import streamlit as st

from explainer import gate, plan
from explainer.config import BOUNDS, ENGINES
from explainer.findings import reproduction
from explainer.labels import NAMES, describe, figure
from explainer.reader import charts, question
from explainer.view import SWEEP_EPOCHS, SWEEP_LEARNING_RATES, format_learning_rates
from ui.figures import chart
from ui.measured import SENTENCES, answer, histories, prefetch_neighbours
from ui.notices import inert
from ui.pages import link_next, showing
from ui.runs import results

view = st.session_state.view
st.title("Why does the loss grow with the learning rate?")
st.markdown(
    "A one-layer Keras classifier on MNIST reports a loss three times larger at three times the learning rate, every "
    f"epoch, with the same accuracy. The answer, measured on this page's settings ({describe(view.config)}, learning "
    f"rates {format_learning_rates(view.learning_rates)}):"
)
sentences = [st.empty() for _ in range(SENTENCES)]  # the first may come early, then again
for index, claim in answer(view):
    text, link = sentences[index].container().columns([6, 1], vertical_alignment="center")
    text.markdown(("" if claim.holds else ":orange-badge[not borne out here] ") + claim.text)
    link.page_link(showing(claim.evidence), label="see it", icon=":material/arrow_forward:")
st.expander("The question's code").code(question.CODE, language="python")

st.header("The question, re-run on three engines")
runs = results(plan.reproduce_runs(view), "Reproduction")
run = {(r.config.engine, r.config.learning_rate): r for r in runs}
for column, engine in zip(st.columns(len(ENGINES)), ENGINES):
    low, high = (run[engine, lr] for lr in view.learning_rates)
    comparison = reproduction.compare(low.history, high.history, view.lr_ratio)
    column.subheader(NAMES[engine])
    column.markdown(
        f"Loss ratio, last epoch: **{figure(comparison.loss_ratios[-1], '.2f')}** (the higher rate's loss over the "
        f"lower's)  \nAccuracy difference: **{figure(comparison.accuracy_difference, '+.4f')}** (reported, last epoch)"
        f"\n\n{reproduction.engine_sentence(comparison, low)}"
    )

reported = question.reported_for(view.config, view.learning_rates)
rows, csv = histories(view)
for column, split in zip(st.columns(len(charts.SPLITS)), charts.SPLITS):
    chart(column, (view, split), charts.epoch_chart, rows, "loss", split, log_scale=True)
st.caption(
    "Training and validation loss per epoch, log scale: colour is where the numbers come from, the dash the learning "
    "rate. " + ("The question's own numbers are drawn too." if reported else "The question reported numbers only for its setup.")
)
for column, split in zip(st.columns(len(charts.SPLITS)), charts.SPLITS):
    chart(column, (view, split), charts.epoch_chart, rows, "accuracy", split)
st.caption("The accuracy Keras reports per epoch: the same loss, three different accuracies.")
st.download_button("Download the histories (CSV)", csv, "histories.csv", "text/csv")

st.header("Learning-rate sweep")
with st.form("sweep"):
    sweep_text = st.text_input("Learning rates", format_learning_rates(SWEEP_LEARNING_RATES))
    sweep_epochs = st.number_input("Epochs per run", *BOUNDS["num_epochs"], SWEEP_EPOCHS)
    st.form_submit_button("Run the sweep")
try:
    sweep_runs = gate.admit_sweep(view, sweep_text, sweep_epochs)
except ValueError as error:
    st.error(inert(f"The sweep cannot run: {error}."))
    st.stop()
swept = reproduction.learning_rate_sweep(results(sweep_runs, "Sweep"))
lowest, highest = swept.accuracy_range
for column, measure in zip(st.columns(2), ("loss", "accuracy")):
    chart(column, (*sweep_runs, measure), charts.sweep_chart, swept.points, measure)
st.markdown(
    f"Log-log slope of final loss against learning rate: **{figure(swept.slope, '.2f')}** over {len(swept.points)} "
    f"learning rates from {sweep_runs[0].learning_rate:g} to {sweep_runs[-1].learning_rate:g}: the loss is "
    f"{'' if swept.follows_learning_rate else 'not '}proportional to the learning rate, while the reported accuracy "
    f"stays between {figure(lowest, '.4f')} and {figure(highest, '.4f')}."
)
link_next(__file__)
prefetch_neighbours(view)

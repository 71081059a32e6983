"""Reproduce the question: its code re-run on both Keras engines, beside its reported numbers."""

import pandas as pd
import streamlit as st

from explainer import charts, gate, plan, question, report
from explainer.config import BOUNDS, ENGINES
from explainer.labels import NAMES, figure
from explainer.view import SWEEP_EPOCHS, SWEEP_LEARNING_RATES
from ui.notices import inert
from ui.runs import results

view = st.session_state.view
low_lr, high_lr = view.learning_rates
st.title("The loss grows with the learning rate; the accuracy does not move")
st.markdown(
    "A Keras user trains the smallest MNIST classifier and finds the loss about three times larger at "
    "three times the learning rate, every epoch, with the same accuracy. Here it is re-run on real MNIST "
    f"with the sidebar's settings ({view.config.label()}), on both Keras engines."
)
st.code(question.CODE, language="python")
runs = results(plan.reproduce_runs(view), "Reproduction")
run = {(r.config.engine, r.config.learning_rate): r for r in runs}

st.header("Measured")
for column, engine in zip(st.columns(len(ENGINES)), ENGINES):
    low, high = run[engine, low_lr], run[engine, high_lr]
    comparison = report.compare(low.history, high.history, view.lr_ratio)
    column.subheader(NAMES[engine])
    a, b, c = column.columns(3)
    a.metric(
        "loss ratio, last epoch", f"{figure(comparison.loss_ratios[-1], '.2f')}", help="loss at the higher lr / loss at the lower"
    )
    b.metric("learning-rate ratio", f"{figure(comparison.lr_ratio, '.2f')}")
    c.metric(
        "accuracy difference", f"{figure(comparison.accuracy_difference, '+.4f')}", help="reported training accuracy, last epoch"
    )
    lowest, highest = comparison.loss_ratio_range
    column.markdown(
        f"Over {len(comparison.loss_ratios)} epoch(s) the loss ratio stays between **{figure(lowest, '.2f')}** and "
        f"**{figure(highest, '.2f')}** "
        f"for a learning-rate ratio of {figure(comparison.lr_ratio, '.2f')}: the loss is "
        f"{'proportional' if comparison.proportional else '**not** proportional'} to the learning rate here. "
        f"Keras reports a training accuracy of {figure(comparison.accuracy_low, '.4f')} at lr {low_lr:g} and "
        f"{figure(comparison.accuracy_high, '.4f')} at lr {high_lr:g}."
    )
    column.caption(
        f"Final weights at lr {low_lr:g}: argmax(model.predict(x)) classifies {figure(low.predict_accuracy, '.4f')} of the test "
        f"set, argmax(logits) {figure(low.logit_accuracy, '.4f')}; Keras reported val_accuracy "
        f"{figure(low.history['val_accuracy'][-1], '.4f')}."
    )
legacy, current = run["tf_keras", low_lr], run["keras3", low_lr]
contrast = report.contrast_engines(legacy, current)
st.info(
    f"Same initial weights, same batches: the two engines' losses differ by at most {figure(contrast.loss_gap, '.1e')} "
    "(relative), "
    f"yet tf.keras 2 reports a training accuracy {figure(contrast.accuracy_gap, '+.4f')} above Keras 3's. On the test set, "
    "argmax of the "
    f"logits is right for {figure(legacy.logit_accuracy, '.4f')} and argmax(model.predict(x)) for "
    f"{figure(current.predict_accuracy, '.4f')}; "
    f"the reported val_accuracy is {figure(legacy.history['val_accuracy'][-1], '.4f')} (tf.keras 2) and "
    f"{figure(current.history['val_accuracy'][-1], '.4f')} (Keras 3). "
    + (
        "So tf.keras 2 reports the accuracy of the logits, Keras 3 that of the predicted outputs, for the same model."
        if contrast.as_explained
        else "Here the reported accuracies do not follow that pattern (tf.keras 2 = logits, Keras 3 = outputs)."
    )
)
st.page_link("app_pages/why.py", label="Why the engines report different accuracies, measured", icon=":material/search:")

st.header("Per epoch")
reported = question.reported_for(view.config, view.learning_rates)
rows = report.epoch_rows(runs, reported)
if not reported:
    st.caption("The question's reported numbers are overlaid only for its own setup and learning rates (0.01, 0.03).")
st.altair_chart(charts.epoch_chart(rows, "loss", st.toggle("Log scale for the loss", key="log_loss")))
st.altair_chart(charts.epoch_chart(rows, "accuracy"))
st.download_button("Download the histories (CSV)", pd.DataFrame(rows).to_csv(index=False), "histories.csv", "text/csv")
with st.expander("Keras logs"):
    for r in runs:
        st.text(f"{NAMES[r.config.engine]}, lr {r.config.learning_rate:g}")
        st.code(report.keras_log(r), language=None)

st.header("Learning-rate sweep")
with st.form("sweep"):
    sweep_text = st.text_input("Learning rates", ", ".join(f"{lr:g}" for lr in SWEEP_LEARNING_RATES))
    sweep_epochs = st.number_input("Epochs per run", *BOUNDS["num_epochs"], SWEEP_EPOCHS)
    st.form_submit_button("Run the sweep")
try:
    sweep_runs = gate.sweep(view, sweep_text, sweep_epochs)
except ValueError as error:
    st.error(inert(f"The sweep cannot run: {error}."))
    st.stop()
sweep_lrs = [config.learning_rate for config in sweep_runs]
swept = report.sweep(results(sweep_runs, "Sweep"))
lowest, highest = swept.accuracy_range
st.altair_chart(charts.sweep_chart(swept.points))
st.metric("log-log slope of final loss against learning rate", f"{figure(swept.slope, '.2f')}")
st.markdown(
    f"Over {len(swept.points)} learning rates from {sweep_lrs[0]:g} to {sweep_lrs[-1]:g}, the fitted slope is "
    f"{figure(swept.slope, '.2f')} "
    f"(the loss is {'' if swept.follows_learning_rate else 'not '}proportional to the learning rate), "
    f"while the reported accuracy ranges from {figure(lowest, '.4f')} to {figure(highest, '.4f')}."
)

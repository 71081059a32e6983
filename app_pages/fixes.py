"""Apply each fix: what it really changes, and the accepted answer's two claims checked."""

import streamlit as st

from explainer import charts, fixes
from explainer.fixes import base_config
from explainer.labels import NAMES, figure
from ui.runs import fix_outcomes

view = st.session_state.view
base = base_config(view.config)
st.title("What each fix really changes")
st.markdown(
    f"Each fix is applied alone to the question's setup ({NAMES[base.engine]}, {base.num_epochs} epoch(s)) "
    f"and trained at both sidebar learning rates, {view.learning_rates[0]:g} and {view.learning_rates[1]:g}"
    + (f"; the sidebar's combination ({view.config.label()}) is the last row." if view.config != base else ".")
)
found = fix_outcomes(view)
rows = fixes.matrix_rows(found)
with st.expander("How the verdicts are decided"):
    st.markdown("\n".join(f"- {rule}" for rule in fixes.RULES))

st.header("Verdicts")
for outcome in found:
    (low, high), verdict = outcome.runs, outcome.verdict()
    st.markdown(
        f"**{outcome.fix}**: {'the reference run' if outcome.fix == 'baseline' else f'`{verdict}`'}. "
        f"Final loss {figure(low.history['loss'][-1], '.4g')} and {figure(high.history['loss'][-1], '.4g')} "
        f"(ratio {figure(outcome.loss_ratio, '.2f')} for a learning-rate ratio of {figure(outcome.lr_ratio, '.2f')}); "
        "reported val_accuracy "
        f"{figure(low.history['val_accuracy'][-1], '.4f')} and {figure(high.history['val_accuracy'][-1], '.4f')}; "
        "argmax(model.predict) "
        f"{figure(low.predict_accuracy, '.4f')} and {figure(high.predict_accuracy, '.4f')}."
    )
left, right = st.columns(2)
left.altair_chart(charts.fix_matrix(rows, "loss", log_color=True))
right.altair_chart(charts.fix_matrix(rows, "val_accuracy"))
st.dataframe(rows, hide_index=True)

st.header("Curves against the baseline")
fix = st.selectbox("Fix", [outcome.fix for outcome in found if outcome.fix != "baseline"], key="fix_curve")
dashes = {"baseline": [2, 2], fix: [1, 0]}
st.altair_chart(charts.epoch_chart(fixes.curve_rows(found, fix), "loss", log_scale=True, dashes=dashes))
st.altair_chart(charts.epoch_chart(fixes.curve_rows(found, fix), "accuracy", dashes=dashes))

st.header("The accepted answer, checked")
answer = fixes.check_answer(found)
baseline, lower, softmax = answer.baseline, answer.lower, answer.softmax
losses = baseline.runs[1].history["loss"]
st.subheader('"The learning rate is too high, hence the divergence": ' + ("supported" if answer.divergence else "not supported"))
st.markdown(
    f"At lr {baseline.runs[1].config.learning_rate:g} the training loss goes from {figure(losses[0], '.4g')} (epoch 1) to "
    f"{figure(losses[-1], '.4g')} (epoch {len(losses)}): it {'grows' if answer.divergence else 'does not grow'}. "
    f"Dividing the learning rates by {fixes.LOWER_LR_FACTOR} gives `{lower.verdict()}`: the loss becomes "
    f"{figure(lower.runs[0].history['loss'][-1], '.4g')} instead of {figure(baseline.runs[0].history['loss'][-1], '.4g')}, "
    "and the validation "
    f"accuracy {figure(lower.runs[0].history['val_accuracy'][-1], '.4f')} instead of "
    f"{figure(baseline.runs[0].history['val_accuracy'][-1], '.4f')}."
)
st.subheader(
    '"Use softmax, not sigmoid": ' + ("not supported for training" if answer.softmax_identical else "supported: training changes")
)
st.markdown(
    f"With softmax the verdict is `{softmax.verdict()}`"
    + (
        ": every training step is the same as with sigmoid: Keras computes the loss on the logits either way. "
        if answer.softmax_identical
        else ". "
    )
    + "What does change is `model.predict`: its argmax is right for "
    f"{figure(softmax.runs[0].predict_accuracy, '.4f')} of the test set with softmax and "
    f"{figure(baseline.runs[0].predict_accuracy, '.4f')} with sigmoid (the logits themselves classify "
    f"{figure(baseline.runs[0].logit_accuracy, '.4f')}); the Why page measures the saturated sigmoid outputs behind that."
)
st.page_link("app_pages/why.py", label="Why: the mechanism, measured", icon=":material/search:")

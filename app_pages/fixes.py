"""Apply each fix: what it really changes, with working code, and the accepted answer's two claims checked."""

import streamlit as st

from explainer import fixes
from explainer.findings import verdicts
from explainer.labels import FIX_NAMES, VERDICT_WORDS, describe, setup, table
from explainer.reader import charts, question
from ui.figures import chart
from ui.measured import divergence_sweep, fix_outcomes
from ui.pages import link_next

view = st.session_state.view
base = fixes.base_config(view.config)
st.title("What each fix really changes")
st.markdown(
    f"Each fix is applied alone to {setup(base)} and trained at both learning rates"
    + (f"; the sidebar's combination ({describe(view.config)}) comes last." if view.config != base else ".")
)
found = fix_outcomes(view)
rows = verdicts.matrix_rows(found)
st.markdown("\n".join(f"- {verdicts.sentence(outcome)}" for outcome in found))
with st.expander("How the verdicts are decided"):
    st.markdown("\n".join(f"- **{VERDICT_WORDS[verdict]}**: {rule}" for verdict, rule in verdicts.RULES.items()))
left, right = st.columns(2)
chart(left, (view,), charts.fix_matrix, rows, "loss", log_color=True)
chart(right, (view,), charts.fix_matrix, rows, "val_accuracy")
st.caption(
    "Each fix at each learning rate, coloured by its final training loss (log scale) and its reported validation accuracy."
)
st.dataframe(table(rows), hide_index=True)

st.header("One fix against the question's setup")
choices = [outcome.fix for outcome in found if outcome.fix != "baseline"]
fix = st.selectbox("Fix", choices, format_func=FIX_NAMES.get, key="fix_curve")
curves = verdicts.curve_rows(found, fix)
for metric, log_scale in (("loss", True), ("accuracy", False)):
    for column, split in zip(st.columns(len(charts.SPLITS)), charts.SPLITS):
        chart(column, (view, fix, split), charts.epoch_chart, curves, metric, split, log_scale=log_scale)
st.caption("The fix (one colour) beside the question's setup (the other), per epoch; the dash is the learning rate.")
if fix in fixes.FIXES:
    st.markdown("The question's code with this fix, ready to copy:")
    st.code(question.code_with(fix), language="python")

st.header("The accepted answer, checked")
answer = verdicts.check_accepted_answer(found)
claim = '"The learning rate is too high, hence the divergence"'
st.subheader(f"{claim}: {'supported' if answer.divergence else 'not supported'}")
st.markdown(answer.divergence_sentence())
swept = divergence_sweep(view)
chart(st, (view,), charts.divergence_chart, swept.rows)
st.markdown(swept.finding())
st.caption("What real divergence would look like, searched for: the final loss of each rate of the sweep (log-log).")
claim = '"Use softmax, not sigmoid"'
st.subheader(f"{claim}: {'not supported for training' if answer.softmax_identical else 'supported: training changes'}")
st.markdown(answer.softmax_sentence())
link_next(__file__)

"""Your own log: one or two Keras training logs, pasted or uploaded, diagnosed by this puzzle's stated rules."""

import streamlit as st

from explainer.config import ACTIVATIONS, QUESTION_LEARNING_RATES, SCALINGS
from explainer.findings.diagnosis import LOSSES, Known, report
from explainer.labels import DIAGNOSIS_WORDS, FIX_NAMES, KNOWN_WORDS
from explainer.logs import FORMATS, MAX_LOG_CHARS
from explainer.reader import charts, question
from ui.notices import inert
from ui.pages import link_next, showing


def questions_logs() -> None:
    st.session_state.update({f"log {i}": question.log(lr) for i, lr in enumerate(QUESTION_LEARNING_RATES)})


st.title("Is your loss this puzzle?")
st.markdown(
    "Paste the output of one or two `model.fit(...)` runs, best two at different learning rates as the question had: "
    "Keras' progress lines (tf.keras 2 or Keras 3, `verbose=1` or `2`), a printed `history.history`, or a CSVLogger file."
)
st.button("Fill in the question's two logs", on_click=questions_logs, icon=":material/content_paste:")
texts, rates = [], []
for index, column in enumerate(st.columns(2)):
    text = column.text_area(f"Log of run {index + 1}", key=f"log {index}", height=200, max_chars=MAX_LOG_CHARS)
    upload = column.file_uploader("or upload it", key=f"upload {index}", label_visibility="collapsed")
    texts.append(upload.getvalue()[: MAX_LOG_CHARS + 1] if upload else text)
    rates.append(column.text_input("Its learning rate, if the log does not state it", key=f"log lr {index}"))
with st.expander("What you know about the runs (optional)"):
    activation = st.radio("Last layer's activation", (None, *ACTIVATIONS), format_func=KNOWN_WORDS.get, horizontal=True)
    loss = st.radio("Loss", (None, *LOSSES), format_func=KNOWN_WORDS.get, horizontal=True)
    inputs = st.radio("The inputs range", (None, *SCALINGS), format_func=KNOWN_WORDS.get, horizontal=True)

found = report(texts, rates, Known(activation=activation, loss=loss, inputs=inputs))
for problem in found.problems:
    st.warning(inert(problem[:1].upper() + problem[1:] + "."))
if found.diagnosis is None:
    st.stop()
for index, (log, rate) in enumerate(zip(found.logs, found.learning_rates)):
    rate = f", learning rate {rate:g}" if rate else ", learning rate unknown"
    st.caption(inert(f"Log {index + 1}: {log.epochs} epoch(s) of {FORMATS[log.format]} ({', '.join(log.metrics)}){rate}."))
rows = found.rows()
for column, metric in zip(st.columns(2), ("loss", "accuracy")):
    if any(row["metric"] == metric for row in rows):
        column.altair_chart(charts.log_chart(rows, metric))
diagnosis = found.diagnosis
st.header(DIAGNOSIS_WORDS[diagnosis.verdict])
for finding in diagnosis.holding:
    text, link = st.columns([6, 1], vertical_alignment="center")
    text.markdown(finding.text)
    text.caption(f"Rests on {finding.rests_on}.")
    link.page_link(showing(finding.evidence), label="see it", icon=":material/arrow_forward:")
for fix in diagnosis.fixes:
    st.markdown(f"**The fix: {FIX_NAMES[fix]}**")
    st.code(question.fix_lines(fix), language="python")
if diagnosis.verdict == "not_this_one":
    st.markdown("None of this puzzle's signatures is in the log: a wrong diagnosis would be worse than none. What was checked:")
with st.expander("Everything checked", expanded=diagnosis.verdict == "not_this_one"):
    for finding in diagnosis.findings:
        st.markdown(f"- {':green[holds]' if finding.holds else ':gray[not found]'}: {finding.text} (rests on {finding.rests_on})")
link_next(__file__)

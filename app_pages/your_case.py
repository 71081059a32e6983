"""Your own case: the model's code (pasted, or a .py or .ipynb uploaded; read, never run) and one
or two training logs, diagnosed by this puzzle's stated rules."""

import streamlit as st

from explainer.case import diagnose_case
from explainer.code.source import MAX_CODE_CHARS
from explainer.config import ACTIVATIONS, QUESTION_LEARNING_RATES, SCALINGS
from explainer.findings.diagnosis import LOSSES, Known
from explainer.labels import CHECK_WORDS, DIAGNOSIS_WORDS, FAMILY_WORDS, KNOWN_WORDS
from explainer.logs import MAX_LOG_CHARS
from explainer.reader import question
from ui import case
from ui.notices import inert
from ui.pages import link_next


def the_question() -> None:
    st.session_state.update({f"log {i}": question.log(lr) for i, lr in enumerate(QUESTION_LEARNING_RATES)})
    st.session_state["code"] = question.LOADING + question.CODE


st.title("Is your case this puzzle?")
st.markdown(
    "Paste your model's code (or upload the `.py` file or the notebook): it is **read, never run**. "
    "Add the output of one or two `model.fit(...)` runs if you have it, best at two learning rates as the question had."
)
st.button("Fill in the question's code and logs", on_click=the_question, icon=":material/content_paste:")
code = st.text_area("Your code", key="code", height=220, max_chars=MAX_CODE_CHARS)
upload = st.file_uploader("or upload it", type=["py", "ipynb"], key="code upload", label_visibility="collapsed")
texts, rates = [], []
for index, column in enumerate(st.columns(2)):
    text = column.text_area(f"Log of run {index + 1}", key=f"log {index}", height=160, max_chars=MAX_LOG_CHARS)
    log_upload = column.file_uploader("or upload it", key=f"upload {index}", label_visibility="collapsed")
    texts.append(log_upload.getvalue()[: MAX_LOG_CHARS + 1] if log_upload else text)
    rates.append(column.text_input("Its learning rate, if the log does not state it", key=f"log lr {index}"))
with st.expander("What you know about the runs (optional: the code, when given, says it)"):
    activation = st.radio("Last layer's activation", (None, *ACTIVATIONS), format_func=KNOWN_WORDS.get, horizontal=True)
    loss = st.radio("Loss", (None, *LOSSES), format_func=KNOWN_WORDS.get, horizontal=True)
    inputs = st.radio("The inputs range", (None, *SCALINGS), format_func=KNOWN_WORDS.get, horizontal=True)

said = Known(activation=activation, loss=loss, inputs=inputs)
found = diagnose_case(upload.getvalue() if upload else code, upload.name if upload else "", texts, rates, said)
if not case.read(found):
    st.stop()
st.header(DIAGNOSIS_WORDS[found.verdict])
case.disagreements(found)
case.code_findings(found)
case.setup(found)
case.log_findings(found)
with st.expander("Everything checked", expanded=found.verdict == "none_found"):
    for row in found.checks():
        st.markdown(inert(f"- [{FAMILY_WORDS[row['family']]}] {CHECK_WORDS[row['holds']]}: {row['text']}"))
link_next(__file__)

"""A reader's case on the page (app_pages/your_case.py): what could not be read, each finding that
holds with the lines it rests on, its fix as an edit of those lines and a link to the page that
shows why, the view to open, the logs' charts and findings, and everything checked."""

from __future__ import annotations

import urllib.parse

import streamlit as st

from explainer.case import Case
from explainer.labels import FIX_NAMES
from explainer.logs import FORMATS
from explainer.reader import charts, question
from explainer.view import to_query
from ui.notices import inert
from ui.pages import showing


def read(found: Case) -> bool:
    """What could not be read, said; whether anything is left to diagnose."""
    if found.code_problem:
        st.error(inert(f"Your code could not be read: {found.code_problem}."))
    for said in found.code.unread if found.code else ():
        st.caption(inert(f"Not read: {said}."))
    for problem in found.logs.problems if found.logs else ():
        st.warning(inert(problem[:1].upper() + problem[1:] + "."))
    if found.code is not None and not found.code.judged:
        st.info("No model compiled or fit was found in the code: nothing of it can be judged.")
    return bool((found.code and found.code.judged) or (found.logs and found.logs.diagnosis))


def disagreements(found: Case) -> None:
    for said in found.disagreements:
        st.warning(f"The code and the log disagree. {said}")


def _see_it(evidence: str) -> None:
    st.page_link(showing(evidence), label="see it", icon=":material/arrow_forward:")


def code_findings(found: Case) -> None:
    if found.code is None:
        return
    several = len(found.code.judged) > 1
    for judged in found.code.judged:
        holding = judged.holding()
        if several:
            training = judged.training
            st.subheader(f"The model fit at line {training.fit_line or training.compile_line}")
            if not holding:
                st.markdown("Nothing of this puzzle's family found in it.")
        for finding in holding:
            text, link = st.columns([6, 1], vertical_alignment="center")
            text.markdown(inert(finding.text))
            text.code(found.code.lines(finding.lines), language="python", line_numbers=False)
            with link:
                _see_it(finding.evidence)
            if finding.edits:
                st.code(
                    "\n".join(f"# line {e.line}, yours:\n{e.before.strip()}\n# fixed:\n{e.after.strip()}" for e in finding.edits),
                    language="python",
                )


def setup(found: Case) -> None:
    """The link to the nearest view, and every way it differs from the code."""
    if found.view is None:
        if found.code and found.code.judged and found.substitutions:
            st.caption(inert(found.substitutions[-1][:1].upper() + found.substitutions[-1][1:] + "."))
        return
    query = urllib.parse.urlencode(to_query(found.view))
    st.link_button("Open your setup in the explainer", f"./?{query}" if query else "./", icon=":material/open_in_new:")
    if found.substitutions:
        st.caption(inert("The view differs from your code: " + "; ".join(found.substitutions) + "."))
    else:
        st.caption("The view is your code's setup exactly.")


def log_findings(found: Case) -> None:
    logs = found.logs
    if logs is None or logs.diagnosis is None:
        return
    for index, (log, rate) in enumerate(zip(logs.logs, logs.learning_rates)):
        rate = f", learning rate {rate:g}" if rate else ", learning rate unknown"
        st.caption(inert(f"Log {index + 1}: {log.epochs} epoch(s) of {FORMATS[log.format]} ({', '.join(log.metrics)}){rate}."))
    rows = logs.rows()
    for column, metric in zip(st.columns(2), ("loss", "accuracy")):
        if any(row["metric"] == metric for row in rows):
            column.altair_chart(charts.log_chart(rows, metric))
    for finding in logs.diagnosis.holding:
        text, link = st.columns([6, 1], vertical_alignment="center")
        text.markdown(finding.text)
        text.caption(f"Rests on {finding.rests_on}.")
        with link:
            _see_it(finding.evidence)
    for fix in logs.diagnosis.fixes if found.code is None else ():  # with code, the fixes are edits of its lines
        st.markdown(f"**The fix: {FIX_NAMES[fix]}**")
        st.code(question.fix_lines(fix), language="python")

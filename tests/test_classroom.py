"""A class opening the shared link at once: what a page shows for a view is computed once per
process, whoever asks (the real server's many sessions at once: test_browser.py)."""

import collections

import pytest
import streamlit as st
from pages_helper import page

from ui import figures, measured

pytestmark = pytest.mark.integration


def counted(calls: collections.Counter, name: str, function):
    def counting(*args, **kwargs):
        calls[name] += 1
        return function(*args, **kwargs)

    return counting


def test_a_views_page_data_is_computed_once_for_two_sessions(store, monkeypatch):
    """Two visitors of the same view: the second session's answer, verdicts and charts are the
    first one's, not computed again (counted, not timed)."""
    calls = collections.Counter()
    monkeypatch.setattr(measured, "claim", counted(calls, "answer", measured.claim))
    monkeypatch.setattr(measured, "outcomes", counted(calls, "verdicts", measured.outcomes))
    spec = figures._convert_altair_to_vega_lite_spec
    monkeypatch.setattr(figures, "_convert_altair_to_vega_lite_spec", counted(calls, "charts", spec))
    st.cache_resource.clear()  # as in a fresh process
    paths = ("app_pages/reproduce.py", "app_pages/fixes.py")
    for path in paths:
        page(path)
    first = dict(calls)
    assert first["answer"] == 6 and first["verdicts"] == 1 and first["charts"] >= 3
    for path in paths:  # another session, the same view
        page(path)
    assert dict(calls) == first

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


@pytest.fixture
def calls(store, monkeypatch) -> collections.Counter:
    """How often the answer's sentences, the verdicts, the histories and the chart specs are
    computed, from a fresh process's caches on."""
    counter = collections.Counter()
    monkeypatch.setattr(measured, "claim", counted(counter, "answer", measured.claim))
    monkeypatch.setattr(measured, "outcomes", counted(counter, "verdicts", measured.outcomes))
    monkeypatch.setattr(measured, "epoch_rows", counted(counter, "histories", measured.epoch_rows))
    spec = figures._convert_altair_to_vega_lite_spec
    monkeypatch.setattr(figures, "_convert_altair_to_vega_lite_spec", counted(counter, "charts", spec))
    st.cache_resource.clear()  # as in a fresh process
    return counter


def test_a_views_page_data_is_computed_once_for_two_sessions(calls):
    """Two visitors of the same view: the second session's answer, verdicts, histories and charts
    are the first one's, not computed again (counted, not timed)."""
    paths = ("app_pages/reproduce.py", "app_pages/fixes.py")
    for path in paths:
        page(path)
    first = dict(calls)
    assert first["answer"] == 6 and first["verdicts"] == 1 and first["histories"] == 1 and first["charts"] >= 3
    for path in paths:  # another session, the same view
        page(path)
    assert dict(calls) == first


def test_a_view_one_choice_away_gets_its_own_page_data(calls):
    """The caches tell views apart by every field: a visitor of another seed is not given the
    first view's answer, histories or charts."""
    page()
    first = dict(calls)
    page(seed="1")
    assert calls["answer"] == 2 * first["answer"] and calls["histories"] == 2 and calls["charts"] == 2 * first["charts"]

"""Charts drawn from Vega-Lite specs built once per process and shared by every session: building
an Altair chart, validating its spec and encoding its data as Arrow cost the server more than
anything else a page does (measured under 10 visitors: about 30% of its CPU), and a view's charts
are the same for every visitor."""

from __future__ import annotations

from collections.abc import Callable, Hashable

import altair as alt
import streamlit as st

# Streamlit's own conversion (the one st.altair_chart runs on every call): data become Arrow bytes
# in the spec's datasets, which st.vega_lite_chart sends as they are
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from ui.source import RECORDS, where

SPECS = 256  # specs kept per process: a view's pages draw about 20; a loss plane's is the largest, 0.6 MB


def chart(container, key: tuple[Hashable, ...], build: Callable[..., alt.TopLevelMixin], *args, **kwargs) -> None:
    """Draw `build(*args, **kwargs)` in `container`; its spec is built on the first call for
    `key`, which must name everything the arguments depend on (the view, a control's value), and
    reused by every later call, from any session. The store and the data are added to the key by
    `where`, so that another store or data set never shares a spec."""
    container.vega_lite_chart(spec=_spec((*where(), build.__name__, *key), build, args, kwargs))


@st.cache_resource(show_spinner=False, max_entries=SPECS, hash_funcs=RECORDS)
def _spec(key: tuple, _build: Callable[..., alt.TopLevelMixin], _args: tuple, _kwargs: dict) -> dict:
    # underscored arguments are not hashed: `key` stands for them
    return vega_lite(_build(*_args, **_kwargs))


class _Unchecked:
    """A chart whose spec Altair gives without checking it against Vega-Lite's schema. Every
    builder's spec is checked in the tests (test_charts); on the server the check was half of the
    conversion (the loss-surface page's five charts after a control change, whose specs are all
    new: 0.12-0.24 s converted with the check, 0.07-0.10 s without)."""

    def __init__(self, chart: alt.TopLevelMixin):
        self.chart = chart

    def to_dict(self) -> dict:  # all that Streamlit's conversion asks of a chart
        return self.chart.to_dict(validate=False)


def vega_lite(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec with its data as Arrow, as st.altair_chart would send it, unchecked."""
    spec = _convert_altair_to_vega_lite_spec(_Unchecked(chart))
    # a legend beside the plot takes half a phone's width from it; below, it takes none
    spec.setdefault("config", {}).setdefault("legend", {}).setdefault("orient", "bottom")
    return spec

"""Every chart builder gives Altair channel objects, never shorthand strings: Altair turns each
string into its channel with `from_dict`, which hashes all of its schema's classes again (8 ms
a string: explainer/reader/charts.py)."""

import altair as alt
import numpy as np
import pytest
from altair.utils import schemapi
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from explainer.findings import surface
from explainer.labels import FIX_NAMES, NAMES, VERDICT_WORDS
from explainer.reader import charts, surface_charts
from ui import figures


def slices() -> surface.Slices:
    t, a, b = np.r_[-0.05:0.3:0.05], np.linspace(-0.05, 0.3, 6), np.linspace(-0.2, 0.2, 5)  # t holds 0
    return surface.Slices(
        t=t,
        loss=1 + (t - 0.1) ** 2,
        accuracy=np.full(len(t), 0.9),
        best_t=0.1,
        best_loss=1.0,
        markers=[{"learning_rate": 0.01, "t": 0.01, "loss": 1.2, "accuracy": 0.9, "alpha": -0.5}],
        plane_a=a,
        plane_b=b,
        plane_loss=1 + np.add.outer((a - 0.1) ** 2, b**2),
        iterates=[{"step": k, "a": 0.01 * k, "b": 0.0} for k in range(3)],
        landing_rates=np.array([0.001, 0.01, 0.1]),
        landing_loss=np.array([1.1, 1.0, 1.2]),
    )


RATES = (0.01, 0.1)
BUILDERS = {
    "landing": lambda: surface_charts.landing_chart(surface.landing_rows({"raw": slices()}, NAMES), 0.01),
    "slice": lambda: surface_charts.slice_chart(slices()),
    "plane": lambda: surface_charts.surface_plane(slices()),
    "alpha": lambda: surface_charts.alpha_chart(
        [{"scaling": "raw", "step": s, "alpha": 0.5, "learning_rate": lr} for s in range(5) for lr in RATES], "raw"
    ),
    "epoch": lambda: charts.epoch_chart(
        [{"metric": "loss", "split": "training", "source": "x", "learning_rate": lr, "epoch": 1, "value": 0.3} for lr in RATES],
        "loss",
        "training",
    ),
    "log": lambda: charts.log_chart([{"metric": "loss", "log": "a", "split": "training", "epoch": 1, "value": 0.3}], "loss"),
    "live loss": lambda: charts.live_loss([{"run": "a", "epoch": 1, "loss": 0.3}]),
    "sweep": lambda: charts.sweep_chart([{"learning_rate": lr, "loss": 0.3, "accuracy": 0.9} for lr in RATES], "loss"),
    "lines": lambda: charts.lines(
        [{"epoch": 1, "loss": 0.5, "learning_rate": lr} for lr in RATES], "epoch", "loss", "learning_rate"
    ),
    "fix matrix": lambda: charts.fix_matrix(
        [{"learning_rate": lr, "fix": next(iter(FIX_NAMES)), "verdict": next(iter(VERDICT_WORDS)), "loss": 0.3} for lr in RATES],
        "loss",
    ),
    "histogram": lambda: charts.histogram([{"learning_rate": 0.01, "log10_loss": 0.1, "log10_loss_end": 0.2, "samples": 3}]),
    "divergence": lambda: charts.divergence_chart(
        [{"scaling": "raw", "learning_rate": lr, "loss": v, "finite": np.isfinite(v)} for lr, v in ((0.01, 1.0), (1.0, np.inf))]
    ),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_a_chart_is_built_without_converting_a_shorthand_string(name, monkeypatch):
    converted = []
    from_dict = alt.SchemaBase.from_dict.__func__

    def counted(cls, dct, validate=True):
        converted.append(dct)
        return from_dict(cls, dct, validate)

    monkeypatch.setattr(alt.SchemaBase, "from_dict", classmethod(counted))
    chart = BUILDERS[name]()
    assert converted == [] and chart.to_dict()


@pytest.mark.parametrize("name", ["plane", "landing"])
def test_the_server_sends_the_spec_streamlit_would_without_checking_it_again(name, monkeypatch):
    """Checked above, builder by builder; the server's spec is Streamlit's own conversion's."""
    streamlits, chart = _convert_altair_to_vega_lite_spec(BUILDERS[name]()), BUILDERS[name]()

    def checked(*args, **kwargs):
        raise AssertionError("the spec was checked against Vega-Lite's schema")

    monkeypatch.setattr(schemapi, "validate_jsonschema", checked)
    sent = figures.vega_lite(chart)
    assert sent.pop("config")["legend"] == {"orient": "bottom"}
    assert sent == {key: value for key, value in streamlits.items() if key != "config"}

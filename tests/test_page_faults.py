"""What a page says when it cannot show its figures: MNIST missing, a run that raises."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import service_jobs
from pages_helper import figures, plain
from streamlit.testing.v1 import AppTest

from explainer import plan
from explainer.config import RunConfig
from explainer.service import TrainingService
from explainer.store.cache import run_key
from explainer.view import View
from ui import runs, source

ROOT = Path(__file__).parents[1]


def reproduce() -> AppTest:
    test = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    test.query_params.update(num_epochs="2")
    test.run()
    assert not test.exception
    return test


def test_a_failed_run_says_why_and_offers_a_retry(synthetic, tmp_path, monkeypatch):
    """Workers whose every run raises: the page shows the run's own message and a retry button."""
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path))
    raising = lambda store: TrainingService(store, lambda backend: ThreadPoolExecutor(2), job=service_jobs.raising_job)  # noqa: E731
    monkeypatch.setattr(source, "SOURCE", source.Source(service=raising, mnist=lambda: synthetic))
    test = reproduce()
    assert "failed: learning rate 0.01 is not allowed here" in plain(test.error[0].value)
    assert test.button(key="retry The answer").label == "Try again"
    assert not figures(test, "loss ratio, last epoch")  # the page stopped: no figures from runs that do not exist


def test_missing_mnist_is_explained_on_the_page(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_NPZ", str(tmp_path / "absent.npz"))
    test = reproduce()
    assert "MNIST could not be loaded" in test.error[0].value and "MNIST_NPZ" in test.error[0].value


@pytest.mark.integration
def test_every_damaged_run_of_a_page_is_trained_again_in_one_visit(store, synthetic):
    reproduce()  # everything the page reads is stored
    keys = [run_key(config, synthetic.fingerprint) for config in plan.reproduce_runs(View(config=RunConfig(num_epochs=2)))]
    for key in keys:
        store.path(key).write_bytes(b"damaged")
    runs._stored.cache_clear()  # as in a fresh process: nothing read yet
    page = reproduce()
    assert not page.error and all(store.load(key) is not None for key in keys)

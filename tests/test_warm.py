"""`python -m explainer warm`: everything a set of views shows, trained and derived once, in the
workers; a second pass finds it all cached."""

import pytest
import service_jobs
from conftest import synthetic_workers

from explainer import __main__ as cli
from explainer import derived
from explainer.cache import RunStore, run_key
from explainer.config import RunConfig
from explainer.plan import view_derivations, view_runs
from explainer.service import TrainingService
from explainer.view import View


def test_warm_trains_and_derives_a_tiny_grid_once(tmp_path, synthetic, monkeypatch, capsys):
    monkeypatch.setattr(cli, "load_mnist", lambda: synthetic)
    views = [View(config=RunConfig(num_epochs=1, train_subset=64, optimizer=optimizer)) for optimizer in ("sgd", "adam")]
    store = RunStore(tmp_path)
    jobs = {"job": service_jobs.train_synthetic, "derive": service_jobs.derive_synthetic}
    service = TrainingService(store, synthetic_workers, **jobs)
    try:
        assert cli.warm(service, views) == 0
    finally:
        service.shutdown()
    configs = {config for view in views for config in view_runs(view)}
    derivations = {d for view in views for d in view_derivations(view)}
    assert all(store.has(run_key(config, synthetic.fingerprint)) for config in configs)
    assert all(derived.load(store, d.key(synthetic.fingerprint), d.kind) is not None for d in derivations)
    assert f"{len(configs)} runs and {len(derivations)} derived results of 2 view(s)" in capsys.readouterr().out
    entries = sorted(tmp_path.rglob("*.npz"))
    again = TrainingService(store, lambda backend: pytest.fail("nothing is left to train"), **jobs)
    assert cli.warm(again, views) == 0 and sorted(tmp_path.rglob("*.npz")) == entries


def test_warm_states_undefined_surfaces_and_fails_only_on_faults(tmp_path, synthetic, monkeypatch, capsys):
    """A loss surface that does not exist at its point is what the page states there: warm says
    so and succeeds (the container's build runs it); a derivation that raises otherwise fails it."""
    monkeypatch.setattr(cli, "load_mnist", lambda: synthetic)
    views, store = [View(config=RunConfig(num_epochs=1, train_subset=64))], RunStore(tmp_path)
    for derive, status, expected in (
        (service_jobs.derive_undefined_surfaces, 0, "undefined here (2 result(s)): the gradient is exactly zero at this point"),
        (service_jobs.derive_failing, 1, "failed: no disk left"),
    ):
        service = TrainingService(store, synthetic_workers, job=service_jobs.train_synthetic, derive=derive)
        try:
            assert cli.warm(service, views) == status
        finally:
            service.shutdown()
        captured = capsys.readouterr()
        assert expected in captured.out + captured.err

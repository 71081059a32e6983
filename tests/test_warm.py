"""`python -m explainer warm`: everything a set of views shows, trained and derived once, in the
workers; a second pass finds it all cached."""

import contextlib
import io
import shutil

import pytest
import service_jobs
from conftest import session_workers

from explainer.cli import commands as cli
from explainer.config import RunConfig
from explainer.plan import view_derivations, view_runs
from explainer.service import TrainingService
from explainer.store import derived
from explainer.store.cache import RunStore, run_key
from explainer.view import View

pytestmark = pytest.mark.integration

VIEWS = [View(config=RunConfig(num_epochs=1, train_subset=64, optimizer=optimizer)) for optimizer in ("sgd", "adam")]
JOBS = {"job": service_jobs.train_synthetic, "derive": service_jobs.derive_synthetic}


@pytest.fixture(scope="module")
def warmed(tmp_path_factory, synthetic):
    """A store warmed once for VIEWS, and what the first warm printed."""
    store = RunStore(tmp_path_factory.mktemp("warm"))
    service = TrainingService(store, session_workers, **JOBS)
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()) as out:
        patch.setattr(cli, "load_mnist", lambda: synthetic)
        try:
            status = cli.warm_views(service, VIEWS)
        finally:
            service.shutdown()
    return store, status, out.getvalue()


def test_warm_trains_and_derives_a_tiny_grid_once(warmed, synthetic, monkeypatch):
    store, status, printed = warmed
    assert status == 0
    configs = {config for view in VIEWS for config in view_runs(view)}
    derivations = {d for view in VIEWS for d in view_derivations(view)}
    assert all(store.has(run_key(config, synthetic.fingerprint)) for config in configs)
    assert all(derived.load(store, d.key(synthetic.fingerprint), type(d)) is not None for d in derivations)
    assert f"{len(configs)} runs and {len(derivations)} derived results of 2 view(s)" in printed
    monkeypatch.setattr(cli, "load_mnist", lambda: synthetic)
    entries = sorted(store.directory.rglob("*.npz"))
    again = TrainingService(store, lambda backend: pytest.fail("nothing is left to train"), **JOBS)
    assert cli.warm_views(again, VIEWS) == 0 and sorted(store.directory.rglob("*.npz")) == entries


def test_warm_states_undefined_surfaces_and_fails_only_on_faults(warmed, synthetic, tmp_path, monkeypatch, capsys):
    """A loss surface that does not exist at its point is what the page states there: warm says
    so and succeeds (the container's build runs it); a derivation that raises otherwise fails it."""
    monkeypatch.setattr(cli, "load_mnist", lambda: synthetic)
    shutil.copytree(warmed[0].directory, tmp_path, dirs_exist_ok=True)
    store = RunStore(tmp_path)
    for d in {d for view in VIEWS for d in view_derivations(view) if d.kind == "surface"}:
        store.discard(d.key(synthetic.fingerprint))  # the runs stay: only the surfaces are asked again
    for derive, status, expected in (
        (service_jobs.derive_undefined_surfaces, 0, "undefined here (2 result(s)): the gradient is exactly zero at this point"),
        (service_jobs.derive_failing, 1, "failed: no disk left"),
    ):
        service = TrainingService(store, session_workers, job=service_jobs.train_synthetic, derive=derive)
        try:
            assert cli.warm_views(service, VIEWS) == status
        finally:
            service.shutdown()
        captured = capsys.readouterr()
        assert expected in captured.out + captured.err


def test_damaged_runs_are_trained_again_by_the_same_command(warmed, synthetic, tmp_path, monkeypatch, capsys):
    """`python -m explainer run` over damaged entries: every one is trained again in that call,
    and the command prints its runs, not a traceback."""
    monkeypatch.setattr(cli, "load_mnist", lambda: synthetic)
    shutil.copytree(warmed[0].directory, tmp_path, dirs_exist_ok=True)
    store, configs = RunStore(tmp_path), VIEWS[0].run_configs()
    for config in configs:
        store.path(run_key(config, synthetic.fingerprint)).write_bytes(b"damaged")
    service = TrainingService(store, session_workers, **JOBS)
    try:
        results = cli.train_all(service, configs)
    finally:
        service.shutdown()
    assert [result.config for result in results] == configs
    assert "2 stored run(s) could not be read and were removed; training them again" in capsys.readouterr().err

"""The server's start (ui/boot.py): a cold host trains the landing page's answer before anybody
comes (of the view its host names, or none); a warm one starts no worker; nothing at the start
keeps the server from starting."""

import asyncio
import logging
import multiprocessing
import os
import sys
import time
import types
import urllib.parse
from concurrent.futures import ProcessPoolExecutor

import pytest
import service_jobs
from conftest import session_workers

from bench.serve import streamlit_server
from explainer.data import MnistUnavailable
from explainer.findings import answer
from explainer.service import TrainingService
from explainer.store.cache import RunStore, run_key
from explainer.view import View, from_query
from ui import boot
from ui import source as app_source

pytestmark = pytest.mark.integration


def start_the_server() -> None:
    """What the server runs before its first visitor: the lifespan's start (this process's main
    module put back afterwards)."""

    async def started():
        async with boot.lifespan(None):
            pass

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "__main__", sys.modules["__main__"])
        asyncio.run(started())


@pytest.fixture
def source(monkeypatch, tmp_path):
    """The app's service and data for this test only; set with `source(service=..., mnist=...)`."""
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(app_source, "_services", {})
    return lambda **kwargs: monkeypatch.setattr(app_source, "SOURCE", app_source.Source(**kwargs))


def test_a_cold_server_trains_the_landing_answer_before_anybody_visits(mnist, tmp_path):
    store, first = RunStore(tmp_path), run_key(answer.runs_needed(View())[0], mnist.fingerprint)
    with streamlit_server({"EXPLAINER_CACHE_DIR": str(tmp_path)}):
        deadline = time.monotonic() + 180
        while not store.has(first):
            assert time.monotonic() < deadline, "nobody came, and the landing answer's first run was not trained"
            time.sleep(0.5)


def test_a_warm_host_starts_no_worker_and_queues_nothing(source, synthetic, tmp_path):
    jobs = {"job": service_jobs.train_synthetic, "derive": service_jobs.derive_synthetic}
    service = TrainingService(RunStore(tmp_path), session_workers, **jobs)
    source(service=lambda store: service, mnist=lambda: synthetic)
    start_the_server()  # cold: the landing answer is queued ahead, and trained
    deadline = time.monotonic() + 300
    while not service.idle:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    needed = answer.runs_needed(View())
    assert all(service.store.has(run_key(config, synthetic.fingerprint)) for config in needed)
    submitted = service.pools.submitted
    start_the_server()  # warm
    assert service.idle and service.pools.submitted == submitted


@pytest.mark.parametrize("setting", ["num_epochs=1&train_subset=100&seed=3", ""], ids=["a view", "none"])
def test_a_host_names_the_view_of_its_head_start_or_none(setting, source, synthetic, tmp_path, monkeypatch):
    """A host names the view its visitors will open (a link's query, EXPLAINER_HEAD_START): its
    answer is what the start trains, and nothing else; set empty, the start trains nothing."""
    monkeypatch.setenv("EXPLAINER_HEAD_START", setting)
    jobs = {"job": service_jobs.train_synthetic, "derive": service_jobs.derive_synthetic}
    service = TrainingService(RunStore(tmp_path), session_workers, **jobs)
    source(service=lambda store: service, mnist=lambda: synthetic)
    start_the_server()
    deadline = time.monotonic() + 300
    while not service.idle:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    named = answer.runs_needed(from_query(dict(urllib.parse.parse_qsl(setting)))[0]) if setting else []
    assert {path.stem for path in tmp_path.glob("*.npz")} == {run_key(config, synthetic.fingerprint) for config in named}


def test_a_head_start_parameter_the_view_cannot_take_is_said_and_left_out(monkeypatch, caplog):
    monkeypatch.setenv("EXPLAINER_HEAD_START", "num_epochs=zero&scaling=unit")
    with caplog.at_level(logging.WARNING, logger=boot.__name__):
        view = boot.head_start()
    assert view == from_query({"scaling": "unit"})[0]
    assert [message.split(":")[0] for message in caplog.messages] == ["EXPLAINER_HEAD_START"]
    assert "num_epochs" in caplog.messages[0]


def failing_service(store):
    raise OSError("the cache directory cannot be created")


def unavailable():
    raise MnistUnavailable("MNIST_NPZ names a file that does not exist")


@pytest.mark.parametrize("broken", ["service", "mnist"])
def test_the_server_starts_whatever_its_start_cannot_do(broken, source, caplog):
    if broken == "service":
        source(service=failing_service)
    else:
        source(mnist=unavailable)
    with caplog.at_level(logging.WARNING, logger=boot.__name__):
        start_the_server()
    said = "the landing answer could not be queued at start: the cache directory cannot be created"
    assert caplog.messages == ([said] if broken == "service" else [])


def test_workers_spawned_at_the_start_do_not_run_the_command_line_again(tmp_path, monkeypatch):
    """Under the `streamlit` console script, a worker spawned before any visit would run that
    script again as its main module, importing Streamlit's command line (0.3-0.5 s of a cold
    host's first sentence); the start makes the app's script the main module, as a visit does."""
    ran = tmp_path / "ran"
    script = tmp_path / "console_script.py"
    script.write_text(f"open({str(ran)!r}, 'w').close()\n")
    command_line = types.ModuleType("__main__")
    command_line.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", command_line)
    boot.spawn_from_the_app()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(os.getpid).result(timeout=60) != os.getpid()
    assert not ran.exists()

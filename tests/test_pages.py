"""Every page through AppTest on small synthetic data, fast: the data loader is replaced and the
workers train on synthetic data (through the real store and service), so no MNIST file is
needed. Each test checks what the page computed against the runs in the store."""

import dataclasses
import re

import pytest
import service_jobs
from conftest import session_workers
from pages_helper import chart_rows, figures, page, plain

from explainer import fixes, plan
from explainer.config import CHOICES, ENGINES, RunConfig
from explainer.data import prepare
from explainer.derivations import Surface
from explainer.findings import answer, reproduction, surface, verdicts
from explainer.labels import FIX_NAMES, HEADERS, figure
from explainer.maths import measures
from explainer.service import TrainingService
from explainer.store.cache import RunStore, run_key
from explainer.view import View
from explainer.worker.measure import saturated_share
from ui import measured, source
from ui.pages import PAGES

pytestmark = [pytest.mark.usefixtures("store"), pytest.mark.integration]  # the pages train the views they open


def stored(store: RunStore, synthetic, **changes):
    return store.load(run_key(RunConfig(num_epochs=2).replace(**changes), synthetic.fingerprint))


def test_reproduce_states_the_stored_runs_ratios(store, synthetic):
    test = page("app_pages/reproduce.py")
    low, high = stored(store, synthetic, learning_rate=0.01), stored(store, synthetic, learning_rate=0.03)
    expected = reproduction.compare(low.history, high.history, 3.0).loss_ratios[-1]
    ratios = figures(test, "loss ratio, last epoch")
    assert ratios[0] == figure(expected, ".2f") and len(ratios) == len(ENGINES)
    assert figures(test, "log-log slope of final loss against learning rate")


def test_pages_ask_to_prefetch_what_one_choice_away_shows(store, monkeypatch):
    """The landing page queues the runs of every view one sidebar choice away, the loss-surface
    page the surfaces one control away (this session's services train none of it: conftest)."""
    service, asked = source.service(), []
    for name in ("request", "derive"):
        original = getattr(service, name)

        def recording(what, *args, original=original, prefetch=False, **kwargs):
            if prefetch:
                asked.append(what)
            return original(what, *args, prefetch=prefetch, **kwargs)

        monkeypatch.setattr(service, name, recording)
    view = View(config=RunConfig(num_epochs=2))
    page("app_pages/reproduce.py")
    neighbours = plan.neighbours(view)
    assert set(asked) == {config for near in neighbours for config in answer.runs_needed(near) + plan.reproduce_runs(near)}
    test = page("app_pages/loss_surface.py")
    asked.clear()
    test.radio(key="surface_point").set_value("init").run()  # the synthetic runs fit every image within an epoch
    requests = plan.surface_requests(view, "init", 0, "minibatch", "next_minibatch", "train")
    surfaces = {Surface(near, view.learning_rates) for request in requests.values() for near in surface.neighbours(request)}
    assert not test.exception and surfaces <= set(asked)


def test_fixes_gives_each_verdict_computed_from_the_runs(store, synthetic):
    test = page("app_pages/fixes.py")
    text = " ".join(block.value for block in test.markdown)
    base = RunConfig(num_epochs=2)
    pair = lambda fix: tuple(store.load(run_key(fixes.fix_config(fix, base, lr), synthetic.fingerprint)) for lr in (0.01, 0.03))  # noqa: E731
    for fix in ("softmax", "unit", "adam"):
        assert f"[{verdicts.FixOutcome(fix, pair(fix), pair('baseline')).words()}] **{FIX_NAMES[fix]}**" in text
    assert ":gray-badge[changes nothing in training] **softmax instead of sigmoid**" in text  # the loss is on the logits


def test_why_shows_every_step_and_the_loss_path(store):
    test = page("app_pages/why.py")
    assert [header.value[:2] for header in test.main.header] == ["1.", "2.", "3.", "4.", "5.", "6."]
    text = " ".join(plain(block.value) for block in test.markdown)
    assert "tf.keras 2 reports" in text and "closest to the softmax cross-entropy on the logits" in text
    assert "Keras 3 on JAX computes it on the clipped outputs: the counter-example" in text


def test_loss_surface_marks_both_steps_on_both_scalings(store):
    test = page("app_pages/loss_surface.py")
    test.radio(key="surface_point").set_value("init").run()  # the synthetic runs fit every image within an epoch
    assert not test.exception
    assert [header.value for header in test.main.subheader][:2] == ["raw pixels 0-255", "x / 255"]
    assert len([metric for metric in test.metric if metric.label.startswith("step quality at lr")]) == 4


def test_the_learning_rate_slider_moves_the_landing_point_without_training(store):
    test = page("app_pages/loss_surface.py")
    test.radio(key="surface_point").set_value("init").run()
    submitted = source.service().pools.submitted  # not the store's files: the other test process writes there too
    slider = test.select_slider(key="landing_rate")
    for rate in (slider.options[0], slider.options[-1]):
        test.select_slider(key="landing_rate").set_value(float(rate)).run()
        assert not test.exception and source.service().pools.submitted == submitted  # nothing was trained or computed
        chart = next(element for element in test.main if element.type == "vega_lite_chart")
        data = chart_rows(chart)
        landed = {row["scaling"]: row["loss"] for row in data if "scaling" in row and row["learning_rate"] == float(rate)}
        sentence = next(plain(block.value) for block in test.markdown if plain(block.value).startswith("A step of learning"))
        assert sentence.startswith(f"A step of learning rate {float(rate):g}:")
        assert all(f"on {name} it lands at {figure(loss, '.4g')}" in sentence for name, loss in landed.items())
        assert len(landed) == 2


def test_the_answer_comes_first_with_the_stored_runs_numbers(store, synthetic):
    """Each sentence of the answer carries the figures of the runs in the store."""
    test = page("app_pages/reproduce.py")
    low, high = stored(store, synthetic, learning_rate=0.01), stored(store, synthetic, learning_rate=0.03)
    answer = [plain(block.value) for block in test.markdown[1:7]]
    assert f"a training loss of {figure(low.final('loss'), '.4g')} per image" in answer[0]
    share = saturated_share(low, prepare(synthetic, low.config))  # the workers' figure, computed again here
    assert f"{figure(share, '.1%')} of the training images" in answer[1]
    assert f"{figure(measures.norm_ratio(low.kernels[-1], high.kernels[-1]), '.3g')} times larger" in answer[2]
    unit = stored(store, synthetic, learning_rate=0.01, scaling="unit")
    assert figure(unit.final("loss"), ".3g") in answer[4]
    jax = stored(store, synthetic, learning_rate=0.01, engine="keras3_jax")
    assert figure(jax.final("loss"), ".3g") in answer[5]
    assert [link.label for link in test.get("page_link")][:6] == ["see it"] * 6


def test_the_first_sentence_comes_from_keras_first_report_then_from_its_run(synthetic, tmp_path, monkeypatch):
    """While the first sentence's run trains, the answer opens with the loss Keras has reported so
    far; once the run is done, with the run's own sentence, in the same place (index 0)."""
    jobs = {"job": service_jobs.train_synthetic_held, "derive": service_jobs.derive_synthetic}
    service = TrainingService(RunStore(tmp_path), session_workers, prefetching=False, **jobs)
    monkeypatch.setattr(source, "SOURCE", source.Source(service=lambda _store: service, mnist=lambda: synthetic))
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path))
    (tmp_path / "hold").touch()  # the runs stop at their first report until it goes
    view = View(config=RunConfig(num_epochs=2))
    first = answer.sentence_runs(view)[0][0]
    key = run_key(first, synthetic.fingerprint)
    sentences = measured.answer(view)
    index, early = next(sentences)
    progress = service.store.read_progress(key)
    assert index == 0 and not service.store.has(key) and progress.loss is not None
    assert f"a training loss of {figure(progress.loss, '.4g')} per image so far (epoch 1 of 2, step 10 of 10:" in early.text
    (tmp_path / "hold").unlink()
    index, final = next(sentences)
    assert index == 0 and final.text == answer.claim(0, view, {first: service.store.load(key)}, None).text
    assert [index for index, _ in sentences] == list(range(1, answer.SENTENCES))  # the rest, once each


def codes() -> set[str]:
    """The internal codes a reader should never see: every option, fix, verdict and setting name
    that is not also an English word (those with an underscore, a hyphen or a digit)."""
    names = {*(value for values in CHOICES.values() for value in values), *fixes.FIXES, *verdicts.RULES}
    names |= {field.name for field in dataclasses.fields(RunConfig)} | set(HEADERS)
    return {name for name in names if re.search(r"[-_0-9]", name)} | {"sgd", "rmsprop"}


def seen(test) -> list[str]:
    """Every text a reader sees on the page, code spans and notices about the link left out (a
    Keras argument written as code, like from_logits=True, is code too)."""
    blocks = [*test.title, *test.header, *test.subheader, *test.markdown, *test.caption, *test.info, *test.error]
    blocks += [*test.warning, *test.success]
    texts = [plain(block.value) for block in blocks]
    texts += [metric.label for metric in test.metric]
    texts += [str(column) for frame in test.dataframe for column in frame.value.columns]
    texts += [str(value) for frame in test.dataframe for value in frame.value.to_numpy().ravel() if isinstance(value, str)]
    return [re.sub(r"`[^`]*`", "", text) for text in texts if "from the link" not in text]


@pytest.mark.parametrize("path", [page.path for page in PAGES])
def test_no_internal_code_reaches_a_reader(path):
    test = page(path, scaling="unit", optimizer="sgd") if path == "app_pages/fixes.py" else page(path)
    if path == "app_pages/loss_surface.py":
        test.radio(key="surface_point").set_value("init").run()
    found = {code for text in seen(test) for code in codes() if re.search(rf"(?<![\w.]){re.escape(code)}(?![\w=])", text)}
    assert found == set()

"""The trainer: divergence, progress, per-step losses, and equality with Keras' plain `fit`."""

import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata

import numpy as np
import pytest
import service_jobs

from explainer.config import ENGINES, SCALINGS, TENSORFLOW_ENGINES, RunConfig
from explainer.data import prepare
from explainer.data import scaling as data_scaling
from explainer.run import PREDICT_BATCH, Progress
from explainer.worker import tf_loops
from explainer.worker.model import build_model
from explainer.worker.process import use_backend
from explainer.worker.train import architecture, train

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def in_its_process():
    """Training on the synthetic data in a process of the engine's backend: TensorFlow's runs in
    this one, JAX's in a spawned worker (a process runs one Keras backend)."""
    with ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn"), initializer=use_backend, initargs=("jax",)
    ) as pool:

        def run(job, *configs):
            if ENGINES[configs[0].engine].backend == "jax":
                return pool.submit(job, *configs).result(timeout=300)
            return job(*configs)

        yield run


@pytest.mark.parametrize("engine", ENGINES)
def test_diverging_run_stops_and_says_so(in_its_process, engine):
    result = in_its_process(service_jobs.train_on_synthetic, RunConfig(engine=engine, learning_rate=1e38, num_epochs=3))
    assert result.diverged and "became NaN" in result.diverged
    assert len(result.history["loss"]) == 1 and math.isnan(result.history["loss"][0])
    assert math.isnan(result.history["val_loss"][0]) and math.isnan(result.predict_accuracy)
    assert len(result.step_loss) < result.steps_per_epoch  # stopped inside the epoch
    assert np.isnan(result.step_loss[-1]) and np.isfinite(result.step_loss[:-1]).all()  # the step where it became NaN


@pytest.mark.parametrize("engine", ENGINES)
def test_result_shapes_and_progress(in_its_process, engine):
    config = RunConfig(engine=engine, num_epochs=2, batch_size=64, scaling="unit", learning_rate=0.5)
    result, reports = in_its_process(service_jobs.train_with_progress, config)
    steps = math.ceil(len(service_jobs.synthetic_mnist().x_train) / 64)
    assert result.diverged is None and result.steps_per_epoch == steps
    assert result.step_loss.shape == (2 * steps,) and result.kernels.shape == (3, 784, 10)
    assert all(len(values) == 2 for values in result.history.values())
    losses = result.history["loss"]
    assert reports[-1] == Progress(2, 2, steps, steps, result.history, losses[-1]) and reports[-1].fraction == 1.0
    # each epoch reports its last step, then again once validated: charts fill in epoch by epoch
    assert [(report.epoch, len(report.history["loss"])) for report in reports] == [(1, 0), (1, 1), (2, 1), (2, 2)]
    # with the loss Keras' progress bar shows: at an epoch's last step, the epoch's loss
    assert [report.loss for report in reports] == [losses[0], losses[0], losses[1], losses[1]]
    assert result.logit_accuracy > 0.9  # the synthetic classes are separable: training works
    assert result.versions == {package: metadata.version(package) for package in ENGINES[engine].packages}


@pytest.mark.parametrize("engine, optimizer", [("tf_keras", "sgd"), ("tf_keras", "adam"), ("keras3_jax", "adam")])
def test_a_reused_model_trains_exactly_like_a_fresh_one(in_its_process, engine, optimizer):
    """A process keeps compiled models between runs and resets them: weights, optimizer state
    (Adam's moments) and learning rate must all start anew, so every number is identical."""
    first, other = (
        RunConfig(engine=engine, optimizer=optimizer, num_epochs=2, learning_rate=lr, seed=seed)
        for lr, seed in ((0.01, 0), (0.003, 5))
    )
    before, between, after, fresh = in_its_process(service_jobs.train_reused_then_fresh, first, other)
    for a, b in ((before, after), (between, fresh)):
        assert a.history == b.history and a.first_batch_loss == b.first_batch_loss
        np.testing.assert_array_equal(a.kernels, b.kernels)
        np.testing.assert_array_equal(a.step_loss, b.step_loss)


@pytest.mark.parametrize("engine", ENGINES)
def test_same_config_same_numbers(in_its_process, engine):
    config = RunConfig(engine=engine, num_epochs=2, train_subset=200)
    first, second = (in_its_process(service_jobs.train_on_synthetic, config) for _ in range(2))
    assert first.history == second.history
    np.testing.assert_array_equal(first.kernels, second.kernels)


def test_a_model_is_built_without_drawing_weights_it_throws_away(in_its_process):
    """Every model starts from `initial_weights`, set right after it is built: Keras' own Glorot
    draw was a program XLA compiled in every new JAX worker (1.7 s of a cold host's first JAX run)."""
    programs = in_its_process(service_jobs.programs_building, RunConfig(engine="keras3_jax"))
    assert programs and not [name for name in programs if "uniform" in name or "random" in name]


@pytest.mark.parametrize("engine", TENSORFLOW_ENGINES)
def test_a_new_architecture_traces_its_train_loop_once(engine):
    """The optimizer's and the metrics' variables exist before the loop's first call: made in it,
    TensorFlow traces the loop twice (0.3-0.5 s of every new architecture's first run). Whole
    batches only: a smaller last batch has a loop of its own."""
    config = RunConfig(engine=engine, num_epochs=1, batch_size=96, train_subset=192)
    service_jobs.train_on_synthetic(config)
    traced = [steps.experimental_get_tracing_count() for steps in tf_loops.compiled(architecture(config))._train_steps.values()]
    assert sum(traced) == 1


@pytest.mark.parametrize("engine", TENSORFLOW_ENGINES)
def test_the_loops_are_traced_as_written(engine, monkeypatch):
    """AutoGraph converts nothing while a new architecture's loops are traced, neither the loops
    nor the Keras steps they call: it took 0.1-0.5 s of each of their traces, which a new
    worker's first run pays."""
    from tensorflow.python.autograph.impl import api

    converted, convert = [], api.converted_call
    monkeypatch.setattr(
        api, "converted_call", lambda function, *args, **kwargs: converted.append(function) or convert(function, *args, **kwargs)
    )
    service_jobs.train_on_synthetic(RunConfig(engine=engine, num_epochs=1, batch_size=80, train_subset=200))
    assert converted == []


@pytest.mark.parametrize("scaling", SCALINGS)
def test_the_loops_scale_a_batch_as_prepare_scales_the_arrays(mnist, scaling):
    """TensorFlow's loops trace a step without the scaling's operations that change nothing
    (x - 0, x / 1): the batch the model sees is still the prepared one to the last bit, a
    partial batch included."""
    config = RunConfig(scaling=scaling, train_subset=100)
    shift, scale = data_scaling(mnist, config)
    scaled = tf_loops._scaler(*map(tf_loops.put, (shift, scale)), 64, tf_loops._operations(shift, scale))
    for batch in (slice(0, 64), slice(64, 100)):
        np.testing.assert_array_equal(scaled(tf_loops.put(mnist.x_train[batch])), prepare(mnist, config).x_train[batch])


FIT_CASES = [
    ("tf_keras", "raw", "sgd"),
    ("keras3", "raw", "sgd"),
    ("tf_keras", "standardized", "sgd"),
    ("keras3_jax", "raw", "sgd"),
    ("keras3_jax", "raw", "adam"),
    ("keras3_jax", "unit", "sgd"),
]


@pytest.mark.integration
@pytest.mark.parametrize("engine, scaling, optimizer", FIT_CASES)
def test_fast_path_reproduces_plain_fit(mnist, in_its_process, engine, scaling, optimizer):
    """The trainer against Keras' own `fit`, epoch by epoch on the trainer's sample order, on
    every engine (JAX's in a process of its own).

    Both run the same train_step on the same float32 batches in the same order, so they agree
    to float32 round-off (measured: bit-identical on this machine). The tolerance leaves room
    for TensorFlow fusing ops differently inside a loop than in a single step (rtol 1e-5).
    On raw pixels the saturated softmax makes every later step depend on the earlier ones, so a
    wrong batch, order or update would show up far beyond it; standardized inputs check that the
    trainer scales its uint8 images batch by batch exactly as `prepare` scales the arrays.
    """
    config = RunConfig(engine=engine, scaling=scaling, optimizer=optimizer, num_epochs=2, train_subset=2000)
    ours, kernel, fitted, fitted_kernel = in_its_process(service_jobs.trained_and_fitted, config, mnist.source)
    for name in fitted:
        np.testing.assert_allclose(ours[name], fitted[name], rtol=1e-5, err_msg=name)
    np.testing.assert_allclose(kernel, fitted_kernel, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("engine", TENSORFLOW_ENGINES)
@pytest.mark.parametrize("scaling, activation", [("raw", "sigmoid"), ("unit", "softmax")])
def test_predict_is_keras_own_predict_bit_for_bit(mnist, engine, scaling, activation):
    """A run's predict accuracy comes from the loops' predict: Keras' own predict_step on
    model.predict's batches, to the last bit, a partial last batch included."""
    config = RunConfig(engine=engine, scaling=scaling, activation=activation, num_epochs=1, train_subset=2000)
    train(config, mnist)
    loops = tf_loops.compiled(architecture(config))  # as the run left it
    x_test = prepare(mnist, config).x_test[:2500]
    ours, keras = loops.predict(tf_loops.put(x_test)), loops.model.predict(x_test, batch_size=PREDICT_BATCH, verbose=0)
    np.testing.assert_array_equal(ours, keras)


@pytest.mark.integration
def test_per_step_losses_are_the_batch_losses(mnist):
    """step_loss is recovered from Keras' running mean; check it against train_on_batch, which
    returns each batch's own loss (tf.keras 2 resets its metrics on every call). The recovery
    multiplies a float32 mean by the step count, so allow float32 error times that count."""
    config = RunConfig(num_epochs=1, train_subset=32 * 60)
    ours = train(config, mnist)
    data = prepare(mnist, config)
    order = np.random.default_rng(config.seed).permutation(len(data.x_train))
    model = build_model(config)
    batch_losses = [
        model.train_on_batch(data.x_train[order[i : i + 32]], data.y_train[order[i : i + 32]])[0]
        for i in range(0, len(order), 32)
    ]
    scale = np.abs(batch_losses).max()
    np.testing.assert_allclose(ours.step_loss, batch_losses, atol=scale * 60 * 1e-6)

"""Derived results on disk: one that does not exist at its point is stored as such, so that no
visit computes it again, and read back as surface.Undefined."""

import pytest
from service_jobs import fake_result

from explainer.config import RunConfig
from explainer.data import Pixels
from explainer.derivations import Saturation, StepQuality, Surface
from explainer.findings.surface import SurfaceRequest
from explainer.store import derived
from explainer.store.cache import RunStore, run_key
from explainer.store.derived import DerivedJob, Undefined
from explainer.worker import compute, slicing, step_quality


def test_an_undefined_result_is_computed_once_and_read_back_as_undefined(tmp_path, synthetic, monkeypatch):
    store, config = RunStore(tmp_path), RunConfig(num_epochs=1, train_subset=64)
    store.store(run_key(config, synthetic.fingerprint), fake_result(config))  # the derivation below never reads it
    derivation = Saturation(config)
    job = DerivedJob(derivation, derivation.key(synthetic.fingerprint), synthetic.source, store)
    calls = []

    def undefined(*args):
        calls.append(args)
        raise Undefined("the gradient is exactly zero at this point")

    monkeypatch.setitem(compute.COMPUTE, Saturation, undefined)
    for _ in range(2):
        with pytest.raises(Undefined, match="gradient is exactly zero"):
            compute.derive_into(job, synthetic)
    assert len(calls) == 1 and store.has(job.key)
    with pytest.raises(Undefined, match="gradient is exactly zero"):
        derived.load(store, job.key, Saturation)


def test_loss_surfaces_and_step_quality_read_the_images_uncopied(synthetic, monkeypatch):
    """Their jobs read raw pixels and x / 255 as uint8 Pixels: no float32 copy of every image per job."""
    given = []
    monkeypatch.setattr(slicing, "compute", lambda request, result, data, rates: given.append(data))
    monkeypatch.setattr(step_quality, "alpha_over_epoch", lambda result, data: given.append(data))
    config = RunConfig(scaling="unit")
    for derivation in (Surface(SurfaceRequest(config), (0.01, 0.1)), StepQuality(config)):
        compute.COMPUTE[type(derivation)](derivation, {config: None}, synthetic)
    assert [type(data.x_train) for data in given] == [Pixels, Pixels]

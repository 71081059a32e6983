"""The view as a notebook: valid, with no outputs, no machine path and nothing of this project in
it, for every kind of view; from the sidebar and the command line; and executed (a Jupyter
kernel, nbclient), its printed numbers are the app's for the same configuration."""

import ast
import os
import re
from pathlib import Path

import nbformat
import pytest
from conftest import session_workers
from nbclient import NotebookClient
from pages_helper import ROOT
from streamlit.testing.v1 import AppTest

from explainer import notebook
from explainer.__main__ import main
from explainer.config import RunConfig
from explainer.data import prepare
from explainer.logs import read
from explainer.maths.measures import norm_ratio
from explainer.service import TrainingService
from explainer.store.cache import RunStore
from explainer.view import View
from explainer.worker.measure import saturated_share

VIEWS = {
    "default": View(),
    "fixed": View((0.001, 0.1), RunConfig(scaling="unit", activation="softmax", optimizer="adam")),
    "standardized, on its outputs": View(config=RunConfig(scaling="standardized", loss="probabilities", num_epochs=3)),
    "Keras 3 on JAX, on its outputs": View(config=RunConfig(engine="keras3_jax", loss="probabilities", batch_size=64)),
    "Keras 3, from logits": View(config=RunConfig(engine="keras3", activation="linear", loss="from_logits", seed=7)),
}
SMALL = RunConfig(num_epochs=1, train_subset=2000)  # the app tests' runs: the notebooks below find them stored


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS)
def test_the_notebook_is_valid_and_stands_alone(view):
    made = notebook.notebook(view)
    nbformat.validate(made)
    text = nbformat.writes(made)
    assert not [cell for cell in made.cells if cell.cell_type == "code" and cell.outputs]
    code = "\n".join(cell.source for cell in made.cells if cell.cell_type == "code")
    ast.parse(code)
    assert not re.search(r"^\s*(import|from)\s+(explainer|ui)\b", code, re.MULTILINE)
    for path in (str(ROOT), str(Path.home()), os.environ.get("EXPLAINER_CACHE_DIR", "?"), "/tmp/"):
        assert path not in text
    assert f"EPOCHS, BATCH_SIZE, SEED = {view.config.num_epochs}, {view.config.batch_size}, {view.config.seed}" in code
    assert f'activation="{view.config.activation}"' in code
    assert (view.config.scaling == "unit") == ("The fix: scale the inputs to x / 255" not in text)


def test_the_command_line_writes_it_and_refuses_what_the_app_refuses(tmp_path, capsys):
    out = tmp_path / "view.ipynb"
    assert main(["notebook", "--out", str(out), "--scaling", "unit", "--lr", "0.03", "0.01", "--epochs", "2"]) == 0
    written = nbformat.read(out, as_version=4)
    assert (
        "LEARNING_RATES = (0.01, 0.03)" in written.cells[2].source
        and "EPOCHS, BATCH_SIZE, SEED = 2, 32, 0" in written.cells[2].source
    )
    with pytest.raises(SystemExit) as refused:
        main(["notebook", "--out", str(out), "--epochs", "99"])
    assert refused.value.code == 2 and "num_epochs must be a whole number from 1 to 20" in capsys.readouterr().err


def test_the_sidebar_offers_the_views_notebook():
    test = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    test.switch_page("app_pages/your_case.py")  # a page that trains nothing
    test.query_params.update(scaling="unit", num_epochs="2")
    test.run()
    [button] = [element for element in test.sidebar if element.type == "download_button"]
    assert button.proto.label == "Download this view as a notebook"
    assert notebook.text(View(config=RunConfig(scaling="unit", num_epochs=2))) == notebook.text(test.session_state.view)


def executed(view: View, home: Path) -> list[str]:
    """Each code cell's printed text, the notebook run by a Jupyter kernel as a reader runs it:
    Keras' loader finds MNIST in ~/.keras (offline here)."""
    (home / ".keras" / "datasets").mkdir(parents=True)
    (home / ".keras" / "datasets" / "mnist.npz").symlink_to(os.environ["MNIST_NPZ"])
    made = notebook.notebook(view)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
        NotebookClient(made, timeout=600, kernel_name="python3").execute()
    return ["".join(out.get("text", "") for out in cell.outputs) for cell in made.cells if cell.cell_type == "code"]


@pytest.mark.integration
@pytest.mark.parametrize("query", [{}, {"scaling": "unit"}], ids=["default", "fixed"])
def test_the_executed_notebook_prints_the_apps_numbers(mnist, tmp_path, query):
    """On tf.keras 2, every epoch Keras prints and every measurement equals the app's, to the
    digits the notebook prints them with."""
    view = View(config=SMALL.replace(**query))
    service = TrainingService(RunStore.default(), session_workers)
    trained = {}
    configs = [*view.run_configs(), *(View(config=view.config.replace(scaling="unit")).run_configs() if query == {} else [])]
    for config in configs:
        run = service.request(config, mnist)
        trained[config] = service.store.load(run.future.result(timeout=600))
    printed = executed(view, tmp_path)
    low, high = (trained[config] for config in view.run_configs())
    epochs = read(printed[4]).metrics  # train's cell: both runs, one epoch each
    assert epochs["loss"] == [float(f"{run.final('loss'):.4f}") for run in (low, high)]
    assert epochs["val_accuracy"] == [float(f"{run.final('val_accuracy'):.4f}") for run in (low, high)]
    measures = printed[5]
    assert f"loss ratio {high.final('loss') / low.final('loss'):.4g} for a learning-rate ratio of 3 " in measures
    assert f"saturated images after epoch 1: {saturated_share(low, prepare(mnist, low.config)):.1%}" in measures
    assert f"weight-norm ratio: {norm_ratio(low.kernels[-1], high.kernels[-1]):.4g}" in measures
    assert f"argmax(model.predict(x)) {low.predict_accuracy:.4f}" in measures
    if query == {}:
        unit = [trained[config] for config in configs[2:]]
        assert read(printed[7]).metrics["loss"] == [float(f"{run.final('loss'):.4f}") for run in unit]

"""The house rules that the code's shape can show: explainer/ imports form a DAG, never
Streamlit and never an explainer module inside a function; nothing outside explainer/worker/
imports it; the server side never names TensorFlow or Keras; no page draws by Streamlit's magic."""

import ast
import dataclasses
import functools
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from explainer.findings.answer import EVIDENCE
from explainer.jobs import WORKER_PACKAGE
from ui.pages import PAGES, showing

ROOT = Path(__file__).parents[1]
HEAVY = ("tensorflow", "keras", "tf_keras")


@dataclasses.dataclass(frozen=True)
class Import:
    """One module a file reaches: by an import statement (`nested`: inside a function), or by
    name (`importlib.import_module("explainer....")`, or a worker-side function named by
    `InWorker("module", "name")`, which is imported where it is called)."""

    name: str
    nested: bool = False
    by_name: bool = False


@functools.cache  # every test reads every file: parsed once
def imports(path: Path) -> tuple[Import, ...]:
    """Every module a file reaches, in the order they appear."""
    found = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend(Import(alias.name, nested) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                # `from package import module` names the module; `from module import name` the module
                found.extend(
                    Import(f"{child.module}.{alias.name}" if f"{child.module}.{alias.name}" in MODULES else child.module, nested)
                    for alias in child.names
                )
            elif isinstance(child, ast.Call) and (name := named_module(child)):
                found.append(Import(name, nested, by_name=True))
            visit(child, inner)

    visit(ast.parse(path.read_text()), False)
    return tuple(found)


def named_module(call: ast.Call) -> str | None:
    """The explainer module a call reaches by name, if it is one."""
    callee = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
    texts = [arg.value for arg in call.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    if callee == "import_module" and texts and texts[0].startswith("explainer"):
        return texts[0]
    if callee == "InWorker" and texts:
        return f"{WORKER_PACKAGE}.{texts[0]}"
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = sorted((ROOT / "explainer").rglob("*.py"))
MODULES = {module_name(path) for path in SOURCES}
OUTSIDE = [ROOT / "app.py", *(ROOT / "app_pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]


def explainer_graph() -> dict[str, set[str]]:
    """Each module of explainer/ (packages included) and the explainer modules it reaches, by an
    import or by name."""
    return {module_name(path): {i.name for i in imports(path) if i.name in MODULES} for path in SOURCES}


def test_explainer_imports_form_a_dag():
    graph = explainer_graph()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None
    # the job types below the worker side, and the worker side below the service that names it
    assert order.index("explainer.jobs") < order.index("explainer.worker.runs") < order.index("explainer.service")
    assert len(graph) == len(MODULES)  # every module is in the graph, folders included


def is_worker_side(name: str) -> bool:
    return name == WORKER_PACKAGE or name.startswith(f"{WORKER_PACKAGE}.")


def test_nothing_outside_the_worker_side_imports_it():
    """The worker side (TensorFlow, JAX, numba) is never imported outside it."""
    worker = [
        f"{path.relative_to(ROOT)}: {i.name}"
        for path in [*SOURCES, *OUTSIDE]
        if not path.is_relative_to(ROOT / "explainer" / "worker")
        for i in imports(path)
        if is_worker_side(i.name) and not i.by_name
    ]
    assert worker == []


# the one module that names the worker side's entry points (jobs.InWorker) for the processes that hand them over
NAMING_THE_WORKER_SIDE = ("explainer/calls.py",)


def test_only_the_service_names_the_worker_side():
    """Everything else, the command line included, goes through the service: a worker function
    called by name anywhere else would load TensorFlow or numba in that process."""
    named = [
        f"{path.relative_to(ROOT)}: {i.name}"
        for path in [*SOURCES, *OUTSIDE]
        if not path.is_relative_to(ROOT / "explainer" / "worker") and str(path.relative_to(ROOT)) not in NAMING_THE_WORKER_SIDE
        for i in imports(path)
        if is_worker_side(i.name)
    ]
    assert named == []


def test_no_explainer_import_hides_inside_a_function():
    hidden = [
        f"{path.name}: {i.name}"
        for path in SOURCES
        for i in imports(path)
        if i.nested and not i.by_name and i.name.startswith("explainer")
    ]
    assert hidden == []


def test_explainer_never_imports_streamlit():
    names = [f"{path.name}: {i.name}" for path in SOURCES for i in imports(path) if i.name.startswith("streamlit")]
    assert names == []


def test_the_server_side_never_names_tensorflow_or_keras():
    names = [f"{path.name}: {i.name}" for path in OUTSIDE for i in imports(path) if i.name.split(".")[0] in HEAVY]
    assert names == []


def drawn_by_magic(path: Path) -> list[int]:
    """Lines of the statements Streamlit's magic would draw: bare expressions other than calls,
    the module's docstring aside."""
    tree = ast.parse(path.read_text())
    docstring = tree.body[:1] if ast.get_docstring(tree) is not None else []
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Call | ast.Await) and node not in docstring
    ]


def test_no_page_draws_by_magic():
    """Streamlit's magic is off (.streamlit/config.toml): a page's bare expression would draw nothing."""
    pages = [ROOT / "app.py", *(ROOT / "app_pages").glob("*.py")]
    assert [f"{path.name}:{line}" for path in pages for line in drawn_by_magic(path)] == []


def test_the_checks_see_what_they_look_for(tmp_path):
    """The walkers find a nested import, modules reached by name, a bare expression, and a cycle
    when there is one (so the tests above can fail)."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Doc."""\nimport explainer.config\n\ndef f():\n    from explainer import view\n'
        '    importlib.import_module("explainer.cluster")\n    InWorker("slicing", "compute")(1)\n"drawn"\nf()\n'
    )
    assert imports(sample) == (
        Import("explainer.config"),
        Import("explainer.view", nested=True),
        Import("explainer.cluster", nested=True, by_name=True),
        Import("explainer.worker.slicing", nested=True, by_name=True),
    )
    assert drawn_by_magic(sample) == [8]
    try:
        list(TopologicalSorter({"a": {"b"}, "b": {"a"}}).static_order())
    except CycleError:
        pass
    else:
        raise AssertionError("a cycle went unnoticed")


def test_every_module_imports():
    """Each module of explainer/ and ui/ imports (the CLI's is not imported by any other test)."""
    import importlib

    for path in [*SOURCES, *(ROOT / "ui").glob("*.py")]:
        importlib.import_module(module_name(path))


def test_every_page_has_one_record_and_every_claims_evidence_a_page():

    assert sorted(page.path for page in PAGES) == sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / "app_pages").glob("*.py")
    )
    assert {evidence for page in PAGES for evidence in page.evidence} == set(EVIDENCE)
    assert [showing(evidence) for evidence in EVIDENCE] == [page.path for page in PAGES if page.evidence]

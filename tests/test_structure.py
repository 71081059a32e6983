"""The house rules that the code's shape can show: explainer/ imports form a DAG, never
Streamlit and never an explainer module inside a function; nothing outside explainer/worker/
imports it; the server side never names TensorFlow or Keras; no page draws by Streamlit's magic."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from explainer.findings.answer import EVIDENCE
from ui.pages import PAGES, showing

ROOT = Path(__file__).parents[1]
HEAVY = ("tensorflow", "keras", "tf_keras")


def imports(path: Path) -> list[tuple[str, bool]]:
    """(module, inside a function?) for every import in a file."""
    found = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((alias.name, nested) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                # `from package import module` names the module; `from module import name` the module
                found.extend(
                    (f"{child.module}.{alias.name}" if f"{child.module}.{alias.name}" in MODULES else child.module, nested)
                    for alias in child.names
                )
            visit(child, inner)

    visit(ast.parse(path.read_text()), False)
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = sorted((ROOT / "explainer").rglob("*.py"))
MODULES = {module_name(path) for path in SOURCES}
OUTSIDE = [ROOT / "app.py", *(ROOT / "app_pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]


def explainer_graph() -> dict[str, set[str]]:
    """Each module of explainer/ (packages included) and the explainer modules it imports."""
    return {module_name(path): {name for name, _ in imports(path) if name in MODULES} for path in SOURCES}


def test_explainer_imports_form_a_dag():
    graph = explainer_graph()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None
    assert order.index("explainer.config") < order.index("explainer.service") < order.index("explainer.worker.jobs")
    assert len(graph) == len(MODULES)  # every module is in the graph, folders included


def test_nothing_outside_the_worker_side_imports_it():
    """The worker side (TensorFlow, JAX, numba) is reached only by name, through the service."""
    worker = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in [*SOURCES, *OUTSIDE]
        if not path.is_relative_to(ROOT / "explainer" / "worker")
        for name, _ in imports(path)
        if name == "explainer.worker" or name.startswith("explainer.worker.")
    ]
    assert worker == []


def test_no_explainer_import_hides_inside_a_function():
    hidden = [
        f"{path.name}: {name}" for path in SOURCES for name, nested in imports(path) if nested and name.startswith("explainer")
    ]
    assert hidden == []


def test_explainer_never_imports_streamlit():
    names = [f"{path.name}: {name}" for path in SOURCES for name, _ in imports(path) if name.startswith("streamlit")]
    assert names == []


def test_the_server_side_never_names_tensorflow_or_keras():
    names = [f"{path.name}: {name}" for path in OUTSIDE for name, _ in imports(path) if name.split(".")[0] in HEAVY]
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
    """The walkers find a nested import, a bare expression, and a cycle when there is one (so the
    tests above can fail)."""
    sample = tmp_path / "sample.py"
    sample.write_text('"""Doc."""\nimport explainer.config\n\ndef f():\n    from explainer import view\n"drawn"\nf()\n')
    assert imports(sample) == [("explainer.config", False), ("explainer.view", True)]
    assert drawn_by_magic(sample) == [6]
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

"""The house rules that the code's shape can show: explainer/ imports form a DAG, never
Streamlit and never an explainer module inside a function; the server side never names
TensorFlow or Keras."""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

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
                found.extend(
                    (f"{child.module}.{alias.name}" if child.module == "explainer" else child.module, nested)
                    for alias in child.names
                )
            visit(child, inner)

    visit(ast.parse(path.read_text()), False)
    return found


def explainer_graph() -> dict[str, set[str]]:
    modules = {path.stem for path in (ROOT / "explainer").glob("*.py")}
    return {
        path.stem: {
            name.split(".")[1] for name, _ in imports(path) if name.startswith("explainer.") and name.split(".")[1] in modules
        }
        for path in (ROOT / "explainer").glob("*.py")
    }


def test_explainer_imports_form_a_dag():
    graph = explainer_graph()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None
    assert order.index("config") < order.index("train") < order.index("service")


def test_no_explainer_import_hides_inside_a_function():
    hidden = [
        f"{path.name}: {name}"
        for path in (ROOT / "explainer").glob("*.py")
        for name, nested in imports(path)
        if nested and name.startswith("explainer")
    ]
    assert hidden == []


def test_explainer_never_imports_streamlit():
    names = [
        f"{path.name}: {name}"
        for path in (ROOT / "explainer").glob("*.py")
        for name, _ in imports(path)
        if name.startswith("streamlit")
    ]
    assert names == []


def test_the_server_side_never_names_tensorflow_or_keras():
    server = [ROOT / "app.py", *(ROOT / "app_pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]
    names = [f"{path.name}: {name}" for path in server for name, _ in imports(path) if name.split(".")[0] in HEAVY]
    assert names == []


def test_the_checks_see_what_they_look_for(tmp_path):
    """The walker finds a nested import and a cycle when there is one (so the tests above can fail)."""
    sample = tmp_path / "sample.py"
    sample.write_text("import explainer.config\n\ndef f():\n    from explainer import view\n")
    assert imports(sample) == [("explainer.config", False), ("explainer.view", True)]
    try:
        list(TopologicalSorter({"a": {"b"}, "b": {"a"}}).static_order())
    except CycleError:
        pass
    else:
        raise AssertionError("a cycle went unnoticed")


def test_every_module_imports():
    """Each module of explainer/ and ui/ imports (the CLI's is not imported by any other test)."""
    import importlib

    for package in ("explainer", "ui"):
        for path in (ROOT / package).glob("*.py"):
            importlib.import_module(f"{package}.{path.stem}")

"""`streamlit ARGS...` in a process that has already imported what app.py and its pages import and
read MNIST: the first visitor after a start does not wait for that (about 0.6 s on 2 cores,
`bench/bench_demo.py`). deploy/serve.sh runs it; it imports nothing a page does not."""

import ast
import contextlib
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def page_imports() -> list[tuple[str, list[str]]]:
    """(module, names imported from it) for every import of app.py and its pages (app.py's are
    under its `if __name__ == "__main__"`)."""
    found = []
    for source in [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                found += [(alias.name, []) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append((node.module, [alias.name for alias in node.names]))
    return found


def preload() -> None:
    sys.path.insert(0, str(ROOT))
    for module, names in page_imports():
        __import__(module, fromlist=names)  # a name in `names` may be a submodule: imported too
    from explainer.data import MnistUnavailable, load_mnist

    with contextlib.suppress(MnistUnavailable):  # the page says what is wrong, to whoever comes
        load_mnist()


if __name__ == "__main__":
    preload()
    from streamlit.web import cli

    cli.main(sys.argv[1:], prog_name="streamlit")

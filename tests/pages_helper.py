"""Running the app's pages in AppTest, and reading what a reader sees of them."""

import re
from pathlib import Path

from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).parents[1]
SHORT = {"num_epochs": "2"}


def page(path: str = "app_pages/reproduce.py", **query) -> AppTest:
    """The app opened from a link with `query` (2 epochs unless it says), switched to `path`."""
    test = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    test.query_params.update({**SHORT, **query})
    test.run()
    if path != "app_pages/reproduce.py":
        test.switch_page(path).run()
    assert not test.exception, test.exception[0].message if test.exception else ""
    return test


def plain(markdown: str) -> str:
    """The text a reader sees of a Markdown source: backslash escapes and invisible word joiners
    removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def figures(test: AppTest, label: str) -> list[str]:
    """The figures the page's Markdown states after `label` ("Label: **figure**"), in page order."""
    pattern = rf"{re.escape(label)}: \*\*([^*]+)\*\*"
    return [found for block in test.markdown for found in re.findall(pattern, plain(block.value), re.IGNORECASE)]


def said(test: AppTest) -> str:
    """Everything the page says in Markdown, warnings, errors, infos and captions, as plain text."""
    blocks = [*test.markdown, *test.warning, *test.error, *test.info, *test.caption, *test.subheader, *test.header]
    return " ".join(plain(block.value) for block in blocks)


def chart_rows(element) -> list[dict]:
    """Every row of data a Vega-Lite chart element carries (Streamlit sends them as Arrow)."""
    frames = [dataframe_util.convert_arrow_bytes_to_pandas_df(dataset.data.data) for dataset in element.proto.datasets]
    return [row for frame in frames for row in frame.to_dict("records")]

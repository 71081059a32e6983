"""The server's start (st.App's lifespan: `streamlit run app.py` serves app.py's `app`): before
the first visitor comes, the landing page's answer (of the default view, or of the view
$EXPLAINER_HEAD_START names) is queued ahead (as prefetch) when the store lacks it, so that a
cold host's workers import their backend and train while the first visitor's page loads
(bench_load's cold_first_sentence_s: the README gives it before and after)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import types
import urllib.parse
from pathlib import Path

from explainer.data import MnistUnavailable
from explainer.findings import answer
from explainer.view import View, from_query
from ui import source

APP = Path(__file__).parents[1] / "app.py"  # the script every visit runs


def spawn_from_the_app() -> None:
    """The server's main module made the app's script, as every visit's script run makes it
    (Streamlit runs it as a fresh `__main__`). A worker process imports its parent's main module
    again (multiprocessing's spawn), and before any visit, under the `streamlit` console script,
    that is the script, which imports Streamlit's command line: measured on 2 cores, the cold
    host's first sentence 0.3-0.5 s later than under `python -m streamlit`, which leaves nothing
    to import. A worker imports app.py for nothing (see its docstring)."""
    main = types.ModuleType("__main__")
    main.__file__ = str(APP)
    sys.modules["__main__"] = main


def head_start() -> View | None:
    """The view whose answer is queued at the start: $EXPLAINER_HEAD_START as a link's query (the
    view a class is sent to; a parameter it cannot take is said in the log and left out), none
    when it is set empty, else the default link's."""
    query = os.environ.get("EXPLAINER_HEAD_START")
    if query is None:
        return View()
    if not query.strip():
        return None
    view, notices = from_query(dict(urllib.parse.parse_qsl(query)))
    for notice in notices:
        logging.getLogger(__name__).warning("EXPLAINER_HEAD_START: %s", notice.text)
    return view


def queue_landing_answer() -> None:
    """The head start's answer as prefetch: nothing when the store has it (a warm host starts no
    worker); a visitor who asks for it joins it, and it gives way to whatever else a visitor
    waits for."""
    view = head_start()
    with contextlib.suppress(MnistUnavailable):  # the page says what is wrong, to whoever comes
        if view is not None:
            source.service().request_all(answer.runs_needed(view), source.SOURCE.mnist(), prefetch=True)


@contextlib.asynccontextmanager
async def lifespan(app):
    spawn_from_the_app()
    try:  # in a thread: a cluster's client must not be made inside the server's event loop
        await asyncio.to_thread(queue_landing_answer)
    except Exception as error:  # a head start only: the server starts anyway, and a page says what is wrong
        logging.getLogger(__name__).warning("the landing answer could not be queued at start: %s", error)
    yield

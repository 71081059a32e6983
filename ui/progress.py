"""Runs watched live while the workers train them: a progress bar each and the training loss per
epoch, whoever started them (this session, another one, another process); and, while anything is
waited for, whether the workers can be reached."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable

import streamlit as st

from explainer.labels import describe
from explainer.reader import charts
from explainer.service import Run
from ui.reachable import Reachable
from ui.source import service

POLL_SECONDS = 0.3
CHART_SECONDS = 1.5  # the live chart is redrawn at most this often: each redraw costs the server and the browser


def watch(pending: list[Run], label: str, until: Callable[[], bool] = lambda: False) -> None:
    """Progress bars and the training loss per epoch of every pending run, until all are done or
    `until()` holds."""
    store = service().store
    with st.status(
        f"{label}: training {len(pending)} run(s) once; later visits read them from the cache", expanded=True
    ) as status:
        bars = {run.key: st.progress(0.0, text=f"{describe(run.config)}: waiting for a free worker") for run in pending}
        chart, shown, reachable = st.empty(), {}, Reachable()
        while True:
            reachable.say()
            texts, rows = {}, []
            for run in pending:
                progress = store.read_progress(run.key)
                if run.future.done():
                    texts[run.key] = 1.0, f"{describe(run.config)}: done"
                elif progress is not None:
                    texts[run.key] = (
                        progress.fraction,
                        f"{describe(run.config)}: epoch {progress.epoch}/{progress.num_epochs}, "
                        f"step {progress.step}/{progress.steps_per_epoch}",
                    )
                    rows += [
                        {"run": describe(run.config), "epoch": epoch + 1, "loss": loss}
                        for epoch, loss in enumerate(progress.history.get("loss", []))
                    ]
            # only what changed goes to the browser: redrawing a chart costs the visitor's CPU
            for key, (fraction, text) in texts.items():
                if shown.get(key) != (fraction, text):
                    bars[key].progress(fraction, text=text)
                    shown[key] = fraction, text
            if rows and shown.get("chart") != len(rows) and time.monotonic() >= shown.get("chart_due", 0):
                chart.altair_chart(charts.live_loss(rows))
                shown["chart"], shown["chart_due"] = len(rows), time.monotonic() + CHART_SECONDS
            if until():
                return  # whoever asked takes it from here, and removes this watch
            waiting = [run.future for run in pending if not run.future.done()]
            if not waiting:
                break
            concurrent.futures.wait(waiting, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
        reachable.slot.empty()
        chart.empty()  # the page's own charts take over
        failed = any(run.future.exception() is not None for run in pending)
        status.update(
            label=f"{label}: {'a run failed' if failed else f'trained {len(pending)} run(s)'}",
            state="error" if failed else "complete",
            expanded=failed,
        )


def wait(futures: list[concurrent.futures.Future]) -> None:
    """Until every one of `futures` is done, saying meanwhile when the workers cannot be reached."""
    reachable = Reachable()
    while concurrent.futures.wait(futures, timeout=POLL_SECONDS).not_done:
        reachable.say()
    reachable.slot.empty()

"""Altair chart builders: rows in, alt.Chart out."""
from __future__ import annotations

import altair as alt
import pandas as pd

SOURCE_DASHES = {"tf.keras 2": [1, 0], "Keras 3": [6, 2], "question": [2, 2]}


def epoch_chart(rows: list[dict], metric: str, log_scale: bool = False) -> alt.Chart:
    """`metric` per epoch, training and validation side by side; colour is the learning rate,
    the dash tells measured engines from the question's reported numbers."""
    frame = pd.DataFrame([row for row in rows if row["metric"] == metric])
    frame["lr"] = frame["learning_rate"].map("lr {:g}".format)
    scale = alt.Scale(type="log") if log_scale else alt.Scale(zero=False)
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", axis=alt.Axis(tickMinStep=1), title="epoch"),
            y=alt.Y("value:Q", scale=scale, title=metric),
            color=alt.Color("lr:N", title="learning rate"),
            strokeDash=alt.StrokeDash(
                "source:N",
                title="numbers from",
                scale=alt.Scale(domain=list(SOURCE_DASHES), range=list(SOURCE_DASHES.values())),
            ),
            detail="source:N",
            tooltip=["source", "lr", "split", "epoch", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(width=300, height=260)
        .facet(column=alt.Column("split:N", title=None, sort=["training", "validation"]))
    )


def sweep_chart(rows: list[dict]) -> alt.HConcatChart:
    """Final loss against learning rate (log-log) and final accuracy against learning rate."""
    frame = pd.DataFrame(rows)
    base = alt.Chart(frame).encode(
        x=alt.X("learning_rate:Q", scale=alt.Scale(type="log"), title="learning rate"),
        tooltip=[
            alt.Tooltip("learning_rate:Q", format="g"),
            alt.Tooltip("loss:Q", format=".4f"),
            alt.Tooltip("accuracy:Q", format=".4f"),
        ],
    )
    loss = base.mark_line(point=True).encode(y=alt.Y("loss:Q", scale=alt.Scale(type="log"), title="final training loss"))
    accuracy = base.mark_line(point=True, color="#e45756").encode(
        y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="final reported accuracy")
    )
    return alt.hconcat(loss.properties(width=300, height=260), accuracy.properties(width=300, height=260))

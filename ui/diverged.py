"""One warning above the page listing every diverged run the page has read so far."""

from __future__ import annotations

import dataclasses

import streamlit as st

from explainer.findings.rules import DIVERGENCE_RULE, divergence_reason
from explainer.labels import describe
from explainer.run import RunResult

DIVERGED_KEY = "diverged runs"


@dataclasses.dataclass
class DivergedRuns:
    """Its place is taken before the page runs, and each script run starts a new one."""

    slot: object
    reasons: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def above_the_page(cls) -> None:
        st.session_state[DIVERGED_KEY] = cls(st.empty())

    @classmethod
    def of_this_page(cls) -> DivergedRuns:
        if DIVERGED_KEY not in st.session_state:  # a page run on its own, without app.py
            cls.above_the_page()
        return st.session_state[DIVERGED_KEY]

    def add(self, found: list[RunResult]) -> None:
        self.reasons.update({describe(r.config): reason for r in found if (reason := divergence_reason(r))})
        if self.reasons:
            listed = "; ".join(f"{label}: {reason}" for label, reason in self.reasons.items())
            self.slot.warning(
                f"Diverged runs (the rule: {DIVERGENCE_RULE}): {listed}. Figures of a run that stopped at a NaN are NaN."
            )

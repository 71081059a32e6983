"""Whether the workers can be reached, said while they cannot (a cluster's scheduler away): where a
page waits for them, at once (`Reachable`), and above every page on a cluster (`banner`)."""

from __future__ import annotations

import streamlit as st

from explainer.pools import scheduler
from explainer.service import RETRY_SECONDS
from ui.source import service

UNREACHABLE = (
    "The training cluster cannot be reached right now, so nothing new can be trained. Every view already "
    f"computed still shows; what needs training waits, and goes on by itself once the cluster is back (it is "
    f"asked again every {RETRY_SECONDS:g} s). There is nothing to do but wait."
)
# how often the banner looks again. It also makes a page whose replica died come back whole on the
# replica its browser reconnects to: Streamlit's frontend asks the new server for a run on
# reconnecting only when the page has a fragment that reruns by itself (else it keeps showing the
# old page, whose downloads lived in the dead replica's memory; streamlit/streamlit#8901)
BANNER_SECONDS = 10
SAID = "unreachable said above"  # in a session's state: the banner says it, so a waiting page's slot need not


class Reachable:
    """A slot on the page that says, while it holds, that the workers cannot be reached."""

    def __init__(self):
        self.slot, self._said = st.empty(), st.session_state.get(SAID, False)

    def say(self) -> None:
        unreachable = service().unreachable_for is not None
        if unreachable and not self._said:
            self.slot.warning(UNREACHABLE, icon=":material/cloud_off:")
        elif not unreachable and self._said:
            self.slot.empty()
        self._said = unreachable


def banner() -> None:
    """On a cluster: the notice above the page while the workers cannot be reached, looked at
    again every BANNER_SECONDS."""
    if scheduler():
        _banner()


@st.fragment(run_every=BANNER_SECONDS)
def _banner() -> None:
    st.session_state[SAID] = service().unreachable_for is not None
    if st.session_state[SAID]:
        st.warning(UNREACHABLE, icon=":material/cloud_off:")

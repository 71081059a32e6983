"""Entry point: page config, the shared sidebar, the link's notices, and navigation."""

import streamlit as st

from ui import notices, pages, runs, sidebar

st.set_page_config(page_title="Why does the loss grow with the learning rate?", page_icon=":material/trending_up:", layout="wide")
sidebar.view()
notices.show()
runs.DivergedRuns.above_the_page()
pages.navigation()

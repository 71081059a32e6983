"""Streamlit glue shared by app.py and the pages: cached access to the explainer, run progress."""

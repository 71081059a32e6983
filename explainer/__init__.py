"""Measurements behind the "loss grows with the learning rate" Keras puzzle (no Streamlit here)."""

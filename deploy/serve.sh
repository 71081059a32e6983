#!/bin/sh
# The container's command: the app on $PORT (8501 if unset), on every interface, no browser to
# open. These are hosting settings, so they live here and not in .streamlit/config.toml.
set -eu
exec python -m streamlit run app.py \
  --server.headless true \
  --server.address 0.0.0.0 \
  --server.port "${PORT:-8501}" \
  --browser.gatherUsageStats false

#!/bin/sh
# The container's command: the app on $PORT (8501 if unset), on every interface, no browser to
# open, in a process that has imported what the pages need (deploy/serve.py). These are hosting
# settings, so they live here and not in .streamlit/config.toml.
set -eu
exec python deploy/serve.py run app.py \
  --server.headless true \
  --server.address 0.0.0.0 \
  --server.port "${PORT:-8501}" \
  --browser.gatherUsageStats false

#!/bin/sh
# The container's build step (the Dockerfile runs it; tests/test_container.py builds that): MNIST in
# place, then every run and result the pages show computed into the cache, so that a visitor of
# a fresh container never waits for training. WARM_ARGS picks what: "--all" (the default, every
# sidebar combination, about 20 minutes on 2 cores) or "" (the default view only).
set -eu
if [ -n "${MNIST_NPZ:-}" ] && [ ! -f "$MNIST_NPZ" ]; then
  unset MNIST_NPZ  # not provided: Keras downloads it into its cache (the build has internet)
fi
python -m explainer warm ${WARM_ARGS---all}

#!/bin/sh
# The whole stack on one machine, with one command: a Dask scheduler, a group of workers per
# Keras backend, two Streamlit replicas on one cache directory, and HAProxy in front on $PORT
# (8501 if unset). On several machines the same pieces run apart: the scheduler on one, workers
# where the cores are, replicas behind the balancer, every replica and worker seeing
# $EXPLAINER_CACHE_DIR at the same path (docs/hosting.md). Every piece that ends, however it
# ended, is started again ($RESTART_SECONDS later, 1 if unset); all of them end when this script
# is stopped.
set -eu
cd "$(dirname "$0")/.."
port="${PORT:-8501}"
scheduler_port="${SCHEDULER_PORT:-8786}"
first="${REPLICA_PORT:-8601}"
export EXPLAINER_SCHEDULER="tcp://127.0.0.1:$scheduler_port"
export EXPLAINER_BIND="127.0.0.1:$port"
export EXPLAINER_REPLICA1="127.0.0.1:$first" EXPLAINER_REPLICA2="127.0.0.1:$((first + 1))"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # the workers' preload is this repository's module
export EXPLAINER_CACHE_DIR="${EXPLAINER_CACHE_DIR:-$HOME/.cache/keras-lr-explainer}"
mkdir -p "$EXPLAINER_CACHE_DIR"

trap 'trap - EXIT INT TERM; kill 0' EXIT INT TERM  # every process this script started ends with it

# the supervisor: a loop per piece. A Dask worker's nanny ends, with status 0, once its scheduler
# has been away for a while (dask/distributed#6387), so every ending counts, not only failures
keep() {
  while :; do
    "$@" || true
    echo "stack.sh: $* ended; starting it again" >&2
    sleep "${RESTART_SECONDS:-1}"
  done
}
keep dask scheduler --host 127.0.0.1 --port "$scheduler_port" --no-dashboard &
# a worker group per backend (explainer/backends.py): $TENSORFLOW_WORKERS, $JAX_WORKERS, ...
# processes (1 each if unset)
for backend in $(python -c "from explainer.backends import BACKENDS; print(*BACKENDS)"); do
  count=$(eval echo "\${$(echo "$backend" | tr a-z A-Z)_WORKERS:-1}")
  (
    export KERAS_BACKEND="$backend"
    keep dask worker "$EXPLAINER_SCHEDULER" --name "$backend" --nworkers "$count" --nthreads 1 \
      --resources "$backend=1" --preload explainer.worker.dask_start --no-dashboard
  ) &
done
for replica in "$first" "$((first + 1))"; do
  keep python -m streamlit run app.py --server.headless true --server.address 127.0.0.1 \
    --server.port "$replica" --browser.gatherUsageStats false &
done
keep haproxy -W -db -f deploy/haproxy.cfg &
wait

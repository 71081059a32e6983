"""Seconds until every open page is back after each kind of the stack's processes is killed with
-9 (bench/chaos.py): a replica (each page open on it, and a visitor arriving right after), the
TensorFlow Dask worker mid-run, the scheduler mid-run (until its page says so; from its return to
the page's end). Starts `sh deploy/stack.sh` on an empty cache of its own.

    python -m bench.bench_chaos [--repeats N]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

from bench import chaos, serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="chaos runs on one stack, each on views of its own")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, open(Path(directory) / "log", "w") as log:
        cache = Path(directory) / "cache"
        environment = {"EXPLAINER_CACHE_DIR": str(cache), "RESTART_SECONDS": "0.5"}
        with serve.stack(environment, log) as (url, pid):
            for repeat in range(arguments.repeats):
                figures = chaos.run(url, pid, cache, seed=101 + 3 * repeat, reference=True)
                for name, value in dataclasses.asdict(figures).items():
                    if isinstance(value, list):  # seconds, each; or the entries found wrong, counted
                        value = " ".join(f"{each:.1f}" for each in value) or "-" if name.endswith("_s") else len(value)
                    print(f"{name}: {f'{value:.1f}' if isinstance(value, float) else value}", flush=True)


if __name__ == "__main__":
    main()

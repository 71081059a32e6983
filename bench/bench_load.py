"""A class opening the shared link at once: a real `streamlit run app.py` over a warm cache,
played by a protocol-level client. Prints `name: value` lines, for each number of visitors:

p50_s, p95_s, max_s       seconds from a view's request to the server's `script_finished`
server_cpu_per_view_s     the server process's CPU seconds (user + system) per view
views_per_s               views finished per second of the phase
failures                  views that did not finish successfully (closed, timed out, stopped)
exceptions                exception elements the views drew
server_peak_mb            the server's largest resident memory, sampled throughout the phase

and, on an empty cache, `cold_first_sentence_s` (the first visitor of a cold host until the
answer's first sentence arrives) beside `cold_answer_s` (until its last sentence arrives): the
median of --cold visits, each on a server of its own over an empty cache, with every visit's
figure after it.

How the websocket is driven: no browser. Each view is a new session, as a link opened in a tab
is: a websocket to `/_stcore/stream` (subprotocol "streamlit"; no Origin header, so no XSRF
cookie is needed), one `BackMsg.rerun_script` carrying the link's query string and page name,
as Streamlit's own frontend sends it, then the `ForwardMsg`s are read until `script_finished`.
Every visitor opens the landing page by link, then three more views (the other pages, or the
landing page one sidebar choice away), 0.5-2 s apart, all visitors arriving together.

Before the phases every view is opened once, untimed, so that anything the cache lacks is
trained first; then the benchmark waits until the workers are idle.

With --stack, the same class plays against two replicas behind HAProxy on a Dask cluster
(deploy/stack.sh): server CPU is then both replicas' together, the memory the larger replica's.

Usage: python -m bench.bench_load --cache DIR [--visitors 1 10 30 60] [--view QUERY] [--stack] [--cold 5]
       python -m bench.bench_load --visitors --cold 5     (the cold host only)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import tempfile
import threading
import time
import urllib.parse

import psutil
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

from bench.serve import SCRIPT_FINISHED, replicas, stack, streamlit_server
from explainer.plan import neighbours
from explainer.view import View, from_query, to_query
from ui.pages import PAGES

VIEWS_PER_VISITOR = 4
TIMEOUT_S = 600
FIRST_SENTENCE = "Keras computes the cross-entropy"  # the answer's first and last sentences on the default view
LAST_SENTENCE = "The proof: Keras 3 on its JAX backend"


def link(view: View) -> str:
    """The query string of a link to `view`."""
    return urllib.parse.urlencode(to_query(view))


def views(base: View) -> list[tuple[str, str]]:
    """(page name, query string) of what a visitor may open after the landing page of `base`."""
    pages = [(page.url_path, link(base)) for page in PAGES[1:] if page.view]
    return pages + [("", link(near)) for near in neighbours(base)]


class Visit:
    """One view opened as a new session: its seconds, how it ended, what it drew."""

    def __init__(self, page: str, query: str):
        self.page, self.query = page, query
        self.seconds, self.ok, self.exceptions, self.texts = 0.0, False, 0, []

    async def run(self, url: str, watch: dict[str, float] | None = None) -> Visit:
        """Open the view; `watch` maps texts to the seconds until a delta shows them."""
        started = time.perf_counter()
        try:
            async with connect(
                f"{url.replace('http', 'ws')}/_stcore/stream", subprotocols=["streamlit"], max_size=None
            ) as socket:
                message = BackMsg()
                message.rerun_script.query_string = self.query
                message.rerun_script.page_name = self.page
                await socket.send(message.SerializeToString())
                async with asyncio.timeout(TIMEOUT_S):
                    async for frame in socket:
                        if isinstance(frame, str):
                            continue
                        forward = ForwardMsg()
                        forward.ParseFromString(frame)
                        kind = forward.WhichOneof("type")
                        if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                            element = forward.delta.new_element
                            self.exceptions += element.WhichOneof("type") == "exception"
                            if watch is not None and element.WhichOneof("type") == "markdown":
                                for text in watch:
                                    if text in element.markdown.body and watch[text] == 0:
                                        watch[text] = time.perf_counter() - started
                        elif kind == "script_finished":
                            self.ok = forward.script_finished == SCRIPT_FINISHED
                            break
        except Exception:  # a closed socket, a timeout, a bad frame: a failed view, counted
            self.ok = False
        self.seconds = time.perf_counter() - started
        return self


async def visitor(url: str, rng: random.Random, landing: str, choices: list[tuple[str, str]]) -> list[Visit]:
    done = [await Visit("", landing).run(url)]
    for page, query in rng.sample(choices, VIEWS_PER_VISITOR - 1):
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        done.append(await Visit(page, query).run(url))
    return done


class Memory(threading.Thread):
    """The largest resident memory of any of the servers, sampled four times a second."""

    def __init__(self, servers: list[psutil.Process]):
        super().__init__(daemon=True)
        self.servers, self.peak_mb, self.stopped = servers, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.25):
            with contextlib.suppress(psutil.Error):
                self.peak_mb = max(self.peak_mb, *(server.memory_info().rss / 2**20 for server in self.servers))


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def wait_idle(pid: int, quiet_s: float = 3.0) -> None:
    """Until the server's workers have used almost no CPU for `quiet_s` (prefetch done)."""
    server = psutil.Process(pid)
    while True:
        before = sum(cpu_seconds(child) for child in server.children(recursive=True))
        time.sleep(quiet_s)
        with contextlib.suppress(psutil.Error):
            if sum(cpu_seconds(child) for child in server.children(recursive=True)) - before < 0.1 * quiet_s:
                return


def phase(url: str, servers: list[psutil.Process], base: View, visitors: int, seed: int) -> None:
    memory, landing = Memory(servers), link(base)
    memory.start()
    cpu, started = sum(map(cpu_seconds, servers)), time.perf_counter()

    async def everyone() -> list[list[Visit]]:
        return await asyncio.gather(*(visitor(url, random.Random(seed + n), landing, views(base)) for n in range(visitors)))

    visits = [visit for visits in asyncio.run(everyone()) for visit in visits]
    wall, cpu = time.perf_counter() - started, sum(map(cpu_seconds, servers)) - cpu
    memory.stopped.set()
    seconds = sorted(visit.seconds for visit in visits)
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
    figures = {
        "views": len(visits),
        "p50_s": f"{statistics.median(seconds):.2f}",
        "p95_s": f"{p95:.2f}",
        "max_s": f"{seconds[-1]:.2f}",
        "server_cpu_per_view_s": f"{cpu / len(visits):.3f}",
        "views_per_s": f"{len(visits) / wall:.1f}",
        "failures": sum(not visit.ok for visit in visits),
        "exceptions": sum(visit.exceptions for visit in visits),
        "server_peak_mb": f"{memory.peak_mb:.0f}",
    }
    for name, value in figures.items():
        print(f"{name} {visitors}: {value}", flush=True)


def warm_up(url: str, pid: int, base: View) -> None:
    """Every view once, one at a time, untimed: whatever the cache lacks is trained now."""
    for page, query in [("", link(base)), *views(base)]:
        visit = asyncio.run(Visit(page, query).run(url))
        if not visit.ok or visit.exceptions:
            raise RuntimeError(f"warm-up: the view {page or 'landing'}?{query} did not finish cleanly")
    wait_idle(pid)


def cold(visits: int) -> None:
    """The first visit of a host whose disk starts empty: no runs, and nothing compiled in numba's
    cache or XLA's (Community Cloud clones the repository anew whenever the app wakes), `visits`
    times, each on a new server."""
    figures = {FIRST_SENTENCE: [], LAST_SENTENCE: []}
    for _ in range(visits):
        with (
            tempfile.TemporaryDirectory() as empty,
            tempfile.TemporaryDirectory() as compiled,
            streamlit_server(
                {"EXPLAINER_CACHE_DIR": empty, "NUMBA_CACHE_DIR": compiled, "JAX_COMPILATION_CACHE_DIR": compiled}
            ) as (url, _),
        ):
            watch = dict.fromkeys(figures, 0.0)
            asyncio.run(Visit("", "").run(url, watch))
        missing = [sentence for sentence, seconds in watch.items() if not seconds]
        if missing:
            raise SystemExit(f"a cold host's first visit never showed {missing[0]!r}: is MNIST_NPZ set?")
        for sentence, seconds in watch.items():
            figures[sentence].append(seconds)
    for name, sentence in (("cold_first_sentence_s", FIRST_SENTENCE), ("cold_answer_s", LAST_SENTENCE)):
        each = " ".join(f"{seconds:.1f}" for seconds in figures[sentence])
        print(f"{name}: {statistics.median(figures[sentence]):.1f} ({each})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", help="the warm cache directory to serve from (needed with --visitors)")
    parser.add_argument("--visitors", type=int, nargs="*", default=[1, 10, 30, 60], help="class sizes, one phase each")
    parser.add_argument("--seed", type=int, default=0, help="which views each visitor opens, and when")
    parser.add_argument("--cold", type=int, default=5, help="cold hosts' first visits (default: %(default)s)")
    parser.add_argument("--view", default="", help="the landing view, as a link's query (default: the app's)")
    parser.add_argument("--stack", action="store_true", help="two replicas behind HAProxy, on a Dask cluster (deploy/stack.sh)")
    args = parser.parse_args()
    base, notices = from_query(dict(urllib.parse.parse_qsl(args.view)))
    if notices:
        parser.error(f"--view: {notices[0]}")
    if args.visitors and not args.cache:
        parser.error("--visitors needs --cache, the warm cache to serve from")
    if args.visitors:
        load(args, base)
    if args.cold:
        cold(args.cold)


def load(args: argparse.Namespace, base: View) -> None:
    """Every phase of `args.visitors` on a server over the warm cache `args.cache`."""
    with (stack if args.stack else streamlit_server)({"EXPLAINER_CACHE_DIR": args.cache}) as (url, pid):
        warm_up(url, pid, base)
        servers = replicas(pid) if args.stack else [psutil.Process(pid)]
        for visitors in args.visitors:
            phase(url, servers, base, visitors, args.seed)
            wait_idle(pid)


if __name__ == "__main__":
    main()

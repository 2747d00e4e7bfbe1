"""Suggested-answer API under concurrent load, beside the raw cost of what every answer must do.

    python -m bench.answers                          # builds the demo in a temp dir, 16 clients, 480 requests
    python -m bench.answers --concurrency 16 --requests 960 --data-dir /tmp/demo   # reuse an analysed demo

The real app (`server.app.create_app`) serves the analysed demo under uvicorn on a loopback port; N client threads
POST `/v1/answers` (offline mode) with BANKING77 questions and an `answers:read` API key, as a consumer would.
Beside it, in the same process and interleaved round by round at the same concurrency, the raw figure: one
`embedder.embed([q])` and one Chroma top-10 query on `doc_chunks` per request: the floor any answer has to pay.
Goal: p95(API) / p95(raw) ≤ 3 at 16 clients, 0 errors. Client threads, server and raw work share one process (and
its GIL), as the server would with its own work.

Measured on 2 shared cores, 480 requests at 16 clients: p95 ratio 12.2 at first (the extractive answer embedded
~20 passage sentences per request; every answer reloaded all topics' centroids as JSON); 5.0 with a sentence
embedding cache (`retrieval/embed_cache.py`) and cached centroids (`retrieval/centroids.py`); 2.4 once the cache
is warmed at start as `docgap serve` does (without keys). Hybrid retrieval (BM25 and fusion on every answer)
brought it back to 3.5; then, measured with py-spy's GIL view: concurrent questions embedded in one call
(`QueryBatcher`), no Chroma `count()` before each query, the BM25 index's database fingerprint read at most once a
second: 2.2–2.5 without keys, 2.3–2.45 with keys (e.g. p95 765 ms vs 337 ms raw, 42 vs 66 req/s, 0 errors).
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

from bench.gaps import build_without_pages
from core.runtime import Runtime
from core.settings import Settings
from core.vectors import DOC_CHUNKS
from demo import DEMO_DIR
from retrieval.answer import warm_sentence_cache
from server.background import BackgroundServer
from usecases.apikeys import create_key


def questions(n: int, seed: int = 3) -> list[str]:
    rows = [r["text"] for r in csv.DictReader((DEMO_DIR / "banking77" / "train.csv").open(encoding="utf-8"))]
    return random.Random(seed).sample(rows, n)


def run_concurrently(work: Callable[[str], None], items: list[str], concurrency: int) -> tuple[list[float], int, float]:
    """Latencies (s) of `work` over `items` with `concurrency` threads, the error count and the wall time."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def one(q: str) -> None:
        nonlocal errors
        t0 = time.perf_counter()
        try:
            work(q)
            ok = True
        except Exception:  # noqa: BLE001  (any failure is an error to count, not to stop the bench on)
            ok = False
        with lock:
            latencies.append(time.perf_counter() - t0)
            errors += 0 if ok else 1

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, items))
    return latencies, errors, time.perf_counter() - started


def api_worker(url: str, key: str) -> Callable[[str], None]:
    local = threading.local()

    def work(q: str) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"})
        r = local.client.post("/v1/answers", json={"question": q})
        r.raise_for_status()

    return work


def raw_worker(runtime: Runtime) -> Callable[[str], None]:
    def work(q: str) -> None:
        runtime.vectors.query(DOC_CHUNKS, runtime.embedder.embed([q])[0], 10)

    return work


def summary(name: str, latencies: list[float], errors: int, wall: float) -> dict[str, float]:
    ms = np.asarray(latencies) * 1000
    p50, p95, p99 = (float(np.percentile(ms, p)) for p in (50, 95, 99))
    rps = len(latencies) / wall
    print(f"{name:<28} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {rps:>9.1f} {errors:>7}")
    return {"p50": p50, "p95": p95, "p99": p99, "rps": rps, "errors": errors}


def measure(runtime: Runtime, concurrency: int, total: int, rounds: int) -> dict[str, dict[str, float]]:
    """Interleave API and raw rounds so both see the same machine load; returns both summaries."""
    qs = questions(total)
    api_lat: list[float] = []
    raw_lat: list[float] = []
    api_err = raw_err = 0
    api_wall = raw_wall = 0.0
    warmed = warm_sentence_cache(runtime)  # as `docgap serve` does at start
    print(f"warmed the sentence cache: {warmed} doc sentences")
    key = create_key(runtime, ["answers:read"], name="bench", rate_limit=1_000_000).secret
    with BackgroundServer(runtime) as server:
        api, raw = api_worker(server.url, key), raw_worker(runtime)
        run_concurrently(api, qs[:concurrency], concurrency)  # warm-up: model, Chroma, BM25 index, connections
        run_concurrently(raw, qs[:concurrency], concurrency)
        for chunk in np.array_split(np.asarray(qs, dtype=object), rounds):
            lat, err, wall = run_concurrently(api, list(chunk), concurrency)
            api_lat, api_err, api_wall = api_lat + lat, api_err + err, api_wall + wall
            rlat, err, wall = run_concurrently(raw, list(chunk), concurrency)
            raw_lat, raw_err, raw_wall = raw_lat + rlat, raw_err + err, raw_wall + wall
            print(f"round p95 ms: API {np.percentile(lat, 95) * 1000:.0f}, raw {np.percentile(rlat, 95) * 1000:.0f}")
    print(f"\n{total} requests, {concurrency} concurrent, {rounds} interleaved rounds (latency in ms)")
    print(f"{'':<28} {'p50':>8} {'p95':>8} {'p99':>8} {'req/s':>9} {'errors':>7}")
    out = {
        "api": summary("POST /v1/answers", api_lat, api_err, api_wall),
        "raw": summary("raw embed + Chroma top-10", raw_lat, raw_err, raw_wall),
    }
    print(f"\np95(API) / p95(raw) = {out['api']['p95'] / out['raw']['p95']:.2f}  (goal ≤ 3, 0 errors)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=480)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--data-dir", type=Path, help="an analysed demo to reuse (built there when empty)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docgap-bench-answers-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        if not (data_dir / "demo-sources").exists():
            t0 = time.monotonic()
            build_without_pages(data_dir, ())
            print(f"built and analysed the demo in {time.monotonic() - t0:.0f}s")
        # As a consumer calls it: with an API key (looked up, scope-checked and rate-counted on every request).
        settings = Settings(data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
        measure(Runtime(settings), args.concurrency, args.requests, args.rounds)


if __name__ == "__main__":
    main()

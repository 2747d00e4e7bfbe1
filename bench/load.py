"""`POST /v1/answers` under N concurrent clients for S seconds: the scaled set-up beside the embedded default.

    python -m bench.load [--clients 50] [--seconds 60] [--rounds 2] [--questions 400]

Two contenders, both started once, fed the same data and kept up for the whole run:
  - stack: docker-compose's topology from local processes (`tools.stack.LocalStack`): PostgreSQL, a Chroma server
    and Redis on loopback, the api as `docgap serve --workers 2` and one `docgap worker`, with the compose file's
    commands and environment;
  - embedded: one `docgap serve` on SQLite and embedded Chroma in a temporary data dir, with the compose file's
    log settings (`DOCGAP_LOG_*`) so the two differ by topology only, not by how much they log.
Both get the demo's help center (`docgap ingest docs`), the first `--questions` BANKING77 questions as a CSV import,
one `docgap cluster`, and one `answers:read` API key with a limit no run reaches: every request still pays the
rate-limit write, on one key, as a single integration (a helpdesk trigger) would.

Each client is one `httpx.AsyncClient` (one keep-alive connection) that sends a question, waits for the answer and
sends the next until the time is up; questions are drawn by a seeded generator per client and round from BANKING77
questions that were not imported, so in a round both contenders get exactly the same sequence. Every non-200 answer
or transport error (a timeout included) is an error; the first few are printed.

Only one contender is loaded at a time, and the order alternates by round (embedded first in odd rounds, stack
first in even ones): these CPUs slow down ~3× under sustained load, so the figures that mean something are the
ratios within a round, not absolute milliseconds from different moments. How to read the table:
  - requests: answers completed in the window (requests still in flight at the deadline are awaited and counted);
  - req/s: 200s per second of wall time, from the first request to the last answer;
  - p50/p95/p99: latency of the 200s, in ms, as a client sees it (queueing in the server included);
  - covered: share of answers that cite the docs (the same data in both: it should match between contenders).
The ratio lines are stack / embedded for each percentile and for throughput: above 1 for latency, or below 1 for
throughput, means the scaled set-up is slower on this machine. Its two server processes share the same cores as
PostgreSQL, Chroma and Redis here, so this says what the network hops and the server databases cost, not what more
machines would give. The issue asks for 0 errors on the stack: the command exits 1 if the stack had any.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from demo import DEMO_DIR, HELPCENTER_DIR
from server.background import free_port
from tools.stack import LocalStack

ROOT = Path(__file__).resolve().parent.parent
DOCGAP = Path(sys.executable).parent / "docgap"
POOL = 500
"""Distinct load questions; far more than the clients, so answers are not all served from one warm path."""
SHOWN_ERRORS = 5
KEY_RATE_LIMIT = 10**7
"""Requests per minute for the benchmark's key: above anything a run makes, so no request is refused for it."""
WARMUP_ROUNDS = 3


@dataclass
class Contender:
    """A server under test: where it listens, the key it accepts, the environment its data was loaded with."""

    name: str
    url: str
    env: dict[str, str]
    key: str = ""


@dataclass
class Run:
    """One contender's measured window in one round."""

    contender: str
    round: int
    latencies: list[float] = field(default_factory=list)
    """Seconds, of the 200s only: an error's latency (a refused connection, a timeout) says nothing about serving."""
    errors: int = 0
    covered: int = 0
    error_samples: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    answers: dict[str, tuple[bool, tuple[str, ...]]] = field(default_factory=dict)
    """Per question: covered and the cited pages, to check that both contenders answer from the same data."""

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile in ms (no interpolation: every figure is a latency a client actually saw)."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def docgap(env: dict[str, str], *args: str) -> str:
    """Run the CLI as an operator would against that set-up, failing loudly: a half-loaded contender is no baseline."""
    done = subprocess.run([str(DOCGAP), *args], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=900, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"docgap {' '.join(args)} failed:\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}")
    return done.stdout


def question_texts(imported: int) -> tuple[list[str], list[str]]:
    """The first `imported` BANKING77 questions (the data) and a seeded sample of the others (the load)."""
    with (DEMO_DIR / "banking77" / "train.csv").open(encoding="utf-8") as fh:
        texts = [r["text"] for r in csv.DictReader(fh)]
    data, rest = texts[:imported], sorted(set(texts[imported:]) - set(texts[:imported]))
    return data, random.Random(12).sample(rest, min(POOL, len(rest)))


def load_data(contender: Contender, questions: Path | None) -> None:
    """Docs, questions and topics through the CLI, as test_stack feeds the stack; then the benchmark's key."""
    started = time.monotonic()
    docgap(contender.env, "ingest", "docs", str(HELPCENTER_DIR))
    if questions is not None:
        docgap(contender.env, "ingest", "csv", str(questions), "--text-column", "text", "--id-column", "id")
        docgap(contender.env, "cluster")
    contender.key = docgap(contender.env, "keys", "create", "--scope", "answers:read", "--name", "bench-load",
                           "--rate-limit", str(KEY_RATE_LIMIT)).strip()  # fmt: skip
    print(f"{contender.name}: data loaded in {time.monotonic() - started:.0f} s", flush=True)


@contextlib.contextmanager
def embedded_server(contender: Contender, logs: Path, start_timeout: float = 300) -> Iterator[None]:
    """`docgap serve` as its own process, like the stack's api, so neither shares this process's GIL or event loop."""
    port = int(contender.url.rsplit(":", 1)[1])
    out = logs.open("wb")
    proc = subprocess.Popen([str(DOCGAP), "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                            env={**os.environ, **contender.env}, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"docgap serve exited at start ({proc.returncode}); see {logs}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{contender.url}/healthz", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"docgap serve did not become healthy in {start_timeout:.0f} s; see {logs}")
            time.sleep(1)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()


async def ask(client: httpx.AsyncClient, question: str, run: Run) -> None:
    t0 = time.perf_counter()
    try:
        r = await client.post("/v1/answers", json={"question": question})
    except httpx.HTTPError as exc:
        run.errors += 1
        if len(run.error_samples) < SHOWN_ERRORS:
            run.error_samples.append(f"{type(exc).__name__}: {exc}")
        return
    latency = time.perf_counter() - t0
    if r.status_code != 200:
        run.errors += 1
        if len(run.error_samples) < SHOWN_ERRORS:
            run.error_samples.append(f"HTTP {r.status_code}: {r.text[:300]}")
        return
    run.latencies.append(latency)
    body = r.json()
    run.covered += bool(body.get("covered"))
    run.answers[question] = (bool(body.get("covered")), tuple(c["url"] for c in body.get("citations", [])))


def client(contender: Contender, timeout: float) -> httpx.AsyncClient:
    """One simulated user: its own keep-alive connection, so N clients are N connections to the server."""
    return httpx.AsyncClient(base_url=contender.url, headers={"Authorization": f"Bearer {contender.key}"},
                             timeout=timeout, limits=httpx.Limits(max_connections=1))  # fmt: skip


async def measure(contender: Contender, round_: int, pool: list[str], clients: int, seconds: float,
                  timeout: float) -> Run:  # fmt: skip
    run = Run(contender.name, round_)

    async def user(i: int, deadline: float) -> None:
        rng = random.Random(f"{round_}-{i}")  # the same questions, in the same order, for both contenders
        async with client(contender, timeout) as c:
            while time.monotonic() < deadline:
                await ask(c, rng.choice(pool), run)

    t0 = time.monotonic()
    await asyncio.gather(*(user(i, t0 + seconds) for i in range(clients)))
    run.elapsed = time.monotonic() - t0
    return run


async def warm_up(contender: Contender, pool: list[str], timeout: float) -> Run:
    """A few concurrent requests, a few times: each server process loads the model on its first answer.

    The kernel hands connections to either of the stack's two processes, so one sequential request might warm only
    one of them.
    """
    run = Run(contender.name, 0)
    for k in range(WARMUP_ROUNDS):
        clients = [client(contender, timeout) for _ in range(4)]
        try:
            await asyncio.gather(*(ask(c, pool[(4 * k + j) % len(pool)], run) for j, c in enumerate(clients)))
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))
    print(f"{contender.name}: warmed up, {run.requests} requests, {run.errors} errors", flush=True)
    for sample in run.error_samples:
        print(f"  {sample}", flush=True)
    return run


def ratio(stack: float, embedded: float) -> float:
    return stack / embedded if embedded and not math.isnan(embedded) else math.nan


def ratios(stack: Run, embedded: Run) -> tuple[float, float, float, float]:
    """Stack over embedded for p50, p95, p99 and throughput: the comparison that survives the machine's slowdowns."""
    p50, p95, p99 = (ratio(stack.percentile(p), embedded.percentile(p)) for p in (50, 95, 99))
    return p50, p95, p99, ratio(stack.throughput, embedded.throughput)


def print_run(run: Run) -> None:
    covered = run.covered / len(run.latencies) if run.latencies else 0.0
    print(f"{run.contender:<9} {run.round:>5} {run.requests:>8} {run.errors:>6} {run.throughput:>7.1f} "
          f"{run.percentile(50):>8.0f} {run.percentile(95):>8.0f} {run.percentile(99):>8.0f} {covered:>7.0%}",
          flush=True)  # fmt: skip
    for sample in run.error_samples:
        print(f"  {sample}", flush=True)


def agreement(a: Run, b: Run) -> tuple[int, int]:
    """Of the questions both answered, how many got the same verdict and citations: a check of the data, not speed.

    Two set-ups loaded with the same docs should give the same answers; if they do not, the comparison is off.
    """
    shared = a.answers.keys() & b.answers.keys()
    return sum(a.answers[q] == b.answers[q] for q in shared), len(shared)


def print_agreement(label: str, a: Run, b: Run) -> None:
    same, shared = agreement(a, b)
    print(f"{label}: the same answer (covered, cited pages) to {same} of {shared} questions both were asked")


def print_ratio(label: str, r: tuple[float, float, float, float]) -> None:
    print(f"stack / embedded, {label}: p50 {r[0]:.2f}  p95 {r[1]:.2f}  p99 {r[2]:.2f}  throughput {r[3]:.2f}")


def terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM as SystemExit, so the `with` blocks stop every server this started, as Ctrl+C does."""
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--seconds", type=float, default=60, help="length of each measured window (default 60)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds; each loads both contenders once (default 2)")
    parser.add_argument(
        "--questions", type=int, default=400, help="BANKING77 questions imported and clustered (default 400; 0: none)"
    )
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a request is an error (default 60)")
    parser.add_argument("--keep", type=Path, help="folder for both set-ups' data and logs (default: a temp dir)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, terminate)

    folder = args.keep or Path(tempfile.mkdtemp(prefix="docgap-load-"))
    folder.mkdir(parents=True, exist_ok=True)
    data, pool = question_texts(args.questions)
    questions: Path | None = None
    if data:
        questions = folder / "questions.csv"
        with questions.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "text"])
            w.writerows((f"B{i}", t) for i, t in enumerate(data))
    kept = "" if args.keep else " (deleted at exit if the stack had no errors)"
    print(f"data and logs in {folder}{kept}", flush=True)

    with contextlib.ExitStack() as running:
        failed = [True]  # until the run ends cleanly: the servers' logs are what explains an error
        if args.keep is None:  # registered first, so it runs last: after every server has stopped
            running.callback(lambda: None if failed[0] else shutil.rmtree(folder, ignore_errors=True))
        print("starting the stack (PostgreSQL, Chroma, Redis, api ×2, worker)…", flush=True)
        stack_up = running.enter_context(LocalStack(folder / "stack"))
        stack = Contender("stack", stack_up.url, stack_up.env)
        load_data(stack, questions)
        # Empty server URLs: an inherited DOCGAP_* variable must not turn the embedded default into something else;
        # the compose file's log settings, so that both write the same log lines per request.
        logging = {k: v for k, v in stack.env.items() if k.startswith("DOCGAP_LOG_")}
        embedded = Contender("embedded", f"http://127.0.0.1:{free_port()}",
                             {"DOCGAP_DATA_DIR": str(folder / "embedded"), "DOCGAP_DATABASE_URL": "",
                              "DOCGAP_CHROMA_URL": "", "DOCGAP_REDIS_URL": "", **logging})  # fmt: skip
        load_data(embedded, questions)  # before it serves: embedded Chroma is not shared between processes
        running.enter_context(embedded_server(embedded, folder / "embedded-serve.log"))
        warm = [asyncio.run(warm_up(contender, pool, args.timeout)) for contender in (embedded, stack)]
        print_agreement("warm-up", warm[1], warm[0])

        print(f"\n{args.clients} clients × {args.seconds:.0f} s per contender and round, {len(pool)} questions")
        print(f"{'contender':<9} {'round':>5} {'requests':>8} {'errors':>6} {'req/s':>7} "
              f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'covered':>7}")  # fmt: skip
        pairs: list[tuple[Run, Run]] = []
        for r in range(1, args.rounds + 1):
            order = (embedded, stack) if r % 2 else (stack, embedded)
            runs = {}
            for contender in order:
                runs[contender.name] = asyncio.run(
                    measure(contender, r, pool, args.clients, args.seconds, args.timeout)
                )
                print_run(runs[contender.name])
                time.sleep(2)  # the server's own after-work (logs, a scheduler tick) is not the next one's load
            pairs.append((runs["stack"], runs["embedded"]))
        print()
        per_round = [ratios(s, e) for s, e in pairs]
        for r, rat in enumerate(per_round, 1):
            print_ratio(f"round {r}", rat)
        for r, (s, e) in enumerate(pairs, 1):
            print_agreement(f"round {r}", s, e)
        if len(per_round) > 1:
            medians = [statistics.median(x) for x in zip(*per_round, strict=True)]
            print_ratio("median over rounds", (medians[0], medians[1], medians[2], medians[3]))
        stack_errors = sum(s.errors for s, _ in pairs)
        embedded_errors = sum(e.errors for _, e in pairs)
        print(f"errors: stack {stack_errors}, embedded {embedded_errors} (the issue asks for 0 on the stack)")
        failed[0] = stack_errors > 0
        print("stopping the servers" + (f"; logs kept in {folder}" if failed[0] else ""), flush=True)
    sys.exit(1 if stack_errors else 0)


if __name__ == "__main__":
    main()

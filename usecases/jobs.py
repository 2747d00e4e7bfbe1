"""Jobs: imports, syncs, clustering, gap assessment, reports, alerts and exports, run by name (`TASKS`).

Two ways to run them, one schedule (`schedule`):
- the embedded default: one daemon thread inside `docgap serve` wakes every few seconds and runs whatever job is
  due; a job that fails is logged and retried at its next interval, never taking the server down;
- with `DOCGAP_REDIS_URL`: `docgap worker` processes take jobs off an RQ queue (`core.queue`), retried with
  delays and kept when they fail; the web process only enqueues, and each worker's schedule enqueues a due job
  when it wins that interval's claim.

Jobs are plain functions over the runtime, the same ones the CLI calls (`docgap sync zendesk`, `docgap report
weekly`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlmodel import Session, col, select

from core import logs
from core.models import Question, Report
from core.runtime import Runtime

log = logging.getLogger("usecases.jobs")


@dataclass
class Job:
    name: str
    every_s: float
    run: Callable[[], object]
    next_at: float = 0.0
    runs: int = 0
    failures: int = 0
    last_error: str | None = field(default=None, repr=False)
    last_result: str = ""


class Scheduler:
    def __init__(self, jobs: list[Job], tick_s: float = 5.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.jobs = jobs
        self._tick = tick_s
        self._now = monotonic
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="docgap-jobs", daemon=True)

    def run_due(self) -> None:
        now = self._now()
        for job in self.jobs:
            if now < job.next_at:
                continue
            job.next_at = now + job.every_s
            try:
                result = job.run()
                job.runs += 1
                job.last_result = "" if result is None else str(result)[:2000]
                job.last_error = None
            except Exception as exc:  # noqa: BLE001 - a failing job must not stop the others or the server
                job.failures += 1
                job.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("job %s failed: %s", job.name, job.last_error)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(self._tick)

    def start(self) -> None:
        if self.jobs:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)


def ensure_weekly_report(runtime: Runtime) -> bool:
    """Write last week's report if the archive lacks it (so the report arrives without anyone running it)."""
    from reports.weekly import build_weekly_report, last_complete_week, save_report

    week = last_complete_week(runtime.clock())
    with Session(runtime.engine) as session:
        if session.exec(select(Report).where(Report.kind == "weekly", Report.period_start == week)).first():
            return False
    save_report(runtime, build_weekly_report(runtime, week))
    return True


def has_new_questions(runtime: Runtime) -> bool:
    """Whether a question arrived that clustering has not looked at yet.

    Every run leaves each question it could not place with its reason (`unassigned_reason`), so a question in no
    topic and without a reason is new to clustering. Read from the database, so any process can ask.
    """
    with Session(runtime.engine) as session:
        new = session.exec(
            select(Question.id)
            .where(
                col(Question.embedded).is_(True),
                col(Question.topic_id).is_(None),
                col(Question.unassigned_reason).is_(None),
            )
            .limit(1)
        ).first()
    return new is not None


def topic_updates(runtime: Runtime) -> bool:
    """Incremental topic updates when questions arrived since the last run (synced, webhooks, the API)."""
    from usecases.pipeline import analyse

    if not has_new_questions(runtime):
        return False
    analyse(runtime)
    return True


def _said(result: object) -> str:
    """A task's result as one line for the Jobs page: its own summary when it has one."""
    summary = getattr(result, "summary", None)
    if callable(summary):
        return str(summary())
    return "nothing to do" if result is None else str(result)


@dataclass(frozen=True)
class Task:
    """A job by name: what runs, what it needs, how its result reads, and how long the queue lets it run."""

    run: Callable[..., object]
    timeout_s: int = 3600
    params: tuple[str, ...] = ()
    """What a caller must give (a ticket export: which tickets, which tracker); a task without any can be started
    from the Jobs page as it is."""
    describe: Callable[[Any], str] = _said


def _sync_zendesk(runtime: Runtime) -> object:
    from ingest.zendesk_api import sync_zendesk

    return sync_zendesk(runtime)


def _full_recluster(runtime: Runtime) -> object:
    from usecases.pipeline import analyse

    return analyse(runtime, full=True)


def _assess(runtime: Runtime) -> object:
    from retrieval.coverage import assess_topics

    return assess_topics(runtime)


def _alerts(runtime: Runtime) -> object:
    from usecases.alerts import check_alerts
    from usecases.permissions import OPERATOR

    return check_alerts(runtime, OPERATOR)


def _delivery(runtime: Runtime) -> object:
    from usecases.delivery import deliver_due_weekly
    from usecases.permissions import OPERATOR

    return deliver_due_weekly(runtime, OPERATOR)


def _export(runtime: Runtime, ticket_ids: list[int], tracker: str) -> object:
    from usecases.permissions import OPERATOR
    from usecases.tickets import export_tickets

    results = export_tickets(runtime, OPERATOR, ticket_ids, tracker)
    if failed := [r for r in results if r.action == "failed"]:  # raised, so the queue retries (exports are idempotent)
        raise RuntimeError("; ".join(f"#{r.ticket_id}: {r.error}" for r in failed))
    return results


def _import_docs(runtime: Runtime, folder: str, source: str | None = None) -> object:
    from pathlib import Path

    from usecases.pipeline import import_docs

    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(f"no docs folder at {folder} on the worker's machine")
    return import_docs(runtime, path, source)


def _exported(results: list[Any]) -> str:
    done = "; ".join(f"#{r.ticket_id} {r.action}" + (f" {r.url}" if r.url else "")
                     + (f" ({r.error})" if r.error else "") for r in results)  # fmt: skip
    return done or "no live tickets to export"


SIX_HOURS = 6 * 3600
TASKS: dict[str, Task] = {
    "weekly report": Task(
        ensure_weekly_report, describe=lambda built: "wrote last week's report" if built else "already archived"
    ),
    "risk alerts": Task(_alerts),
    "weekly delivery": Task(_delivery),
    "topic updates": Task(
        topic_updates, SIX_HOURS, describe=lambda ran: "topics updated" if ran else "no new questions"
    ),
    "full re-cluster": Task(_full_recluster, SIX_HOURS),
    "zendesk sync": Task(_sync_zendesk, SIX_HOURS),
    "gap assessment": Task(_assess, describe=lambda n: f"coverage assessed for {n} topics"),
    "ticket export": Task(_export, params=("ticket_ids", "tracker"), describe=_exported),
    "docs import": Task(_import_docs, SIX_HOURS, params=("folder",)),
}
"""Every job the worker runs; the schedule below names some of them, the pages and the API enqueue the others."""


@dataclass(frozen=True)
class Due:
    name: str
    every_s: float
    first_in_s: float = 0.0


def schedule(runtime: Runtime) -> list[Due]:
    """What runs by itself, and how often: the same in-process and on the queue."""
    from usecases.delivery import configured_channels

    s = runtime.settings
    due = [Due("weekly report", 3600), Due("risk alerts", 3600)]
    # The flags are evaluated even without Slack, since briefs read them as stored; last week's report goes to
    # each configured channel not yet sent (once per week and channel).
    if configured_channels(runtime):
        due.append(Due("weekly delivery", 3600))
    if s.topics_interval_minutes > 0:
        due.append(Due("topic updates", s.topics_interval_minutes * 60))
    if s.full_recluster_days > 0:
        every = s.full_recluster_days * 86400
        due.append(Due("full re-cluster", every, first_in_s=every))  # a restart must not trigger a full re-cluster
    if s.sync_interval_minutes > 0 and (s.zendesk_subdomain or s.zendesk_url) and s.zendesk_token:
        due.append(Due("zendesk sync", s.sync_interval_minutes * 60))
    return due


def default_jobs(runtime: Runtime, monotonic: Callable[[], float] = time.monotonic) -> list[Job]:
    """The schedule as in-process jobs (the embedded default), or as jobs that enqueue (a queue is configured)."""
    now = monotonic()
    out = []
    for d in schedule(runtime):
        if runtime.queue is None:
            run: Callable[[], object] = partial(run_described, runtime, d.name)
        else:
            run = partial(enqueue_when_claimed, runtime, d.name, d.every_s)
        out.append(Job(d.name, d.every_s, run, next_at=now + d.first_in_s if d.first_in_s else 0.0))
    return out


def run_described(runtime: Runtime, name: str, **params: object) -> str:
    """Run a task here and now; what it did, in one line (the Jobs page and the log show it)."""
    task = TASKS[name]
    with logs.context(task=name):
        said = task.describe(task.run(runtime, **params))[:2000]
        log.info("job %s done: %s", name, said)
    return said


def enqueue(runtime: Runtime, name: str, requested_by: str = "schedule", **params: object) -> str:
    """Put one job on the queue; returns its id. The caller checked the permission: the job runs as the operator."""
    from rq import Retry

    if name not in TASKS:
        raise KeyError(f"no job named {name!r}; jobs are: {', '.join(TASKS)}")
    queue = runtime.queue
    assert queue is not None, "enqueue needs DOCGAP_REDIS_URL"
    delays = runtime.settings.job_retry_delays
    job = queue.enqueue_call(
        "usecases.jobs.run_task",
        args=(name,),
        kwargs=params,
        timeout=TASKS[name].timeout_s,
        retry=Retry(max=len(delays), interval=delays) if delays else None,
        description=name,
        meta={"requested_by": requested_by},
        result_ttl=7 * 86400,
        failure_ttl=30 * 86400,
    )
    return str(job.id)


def enqueue_when_claimed(runtime: Runtime, name: str, every_s: float) -> str | None:
    from core.queue import claim

    assert runtime.queue is not None
    return enqueue(runtime, name) if claim(runtime.queue.connection, name, every_s) else None


_worker_runtime: Runtime | None = None
"""The worker's runtime, built once at `docgap worker` start: RQ imports `run_task` by name and calls it with the
job's arguments only, and the model and the stores must not be rebuilt for every job."""


def run_task(name: str, **params: object) -> str:
    """What a queued job runs, in the worker: the named task over the worker's runtime. Its summary is the result."""
    global _worker_runtime
    if _worker_runtime is None:
        from core.settings import Settings

        _worker_runtime = Runtime(Settings())
    from rq import get_current_job

    job = get_current_job()
    with logs.context(job_id=job.id if job else None):
        return run_described(_worker_runtime, name, **params)


def work(runtime: Runtime, burst: bool = False) -> None:
    """`docgap worker`: run queued jobs until stopped (or, with `burst`, until the queue is empty).

    Each worker also runs the schedule, enqueueing a due job only when it wins that interval's claim
    (`core.queue.claim`), so any number of workers keeps one weekly report per week.
    """
    from rq import SimpleWorker

    global _worker_runtime
    queue = runtime.queue
    if queue is None:
        raise RuntimeError("docgap worker needs a queue: set DOCGAP_REDIS_URL (redis://host:6379/0)")
    _worker_runtime = runtime
    scheduler = Scheduler([] if burst else default_jobs(runtime))
    scheduler.start()
    try:
        SimpleWorker([queue], connection=queue.connection).work(
            burst=burst, with_scheduler=True, logging_level=runtime.settings.log_level
        )
    finally:
        scheduler.stop()

"""What the Jobs page and `GET /v1/jobs` show: each job's state, who asked for it, and the error of a failed one.

With a queue the states are RQ's registries (queued, scheduled for a retry, running, failed, finished); in the
embedded default they are the in-process schedule's jobs, with their run and failure counts and last error.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from core.runtime import Runtime
from usecases.jobs import TASKS, Scheduler, enqueue, run_described
from usecases.permissions import Actor, Permission, require

log = logging.getLogger("usecases.jobs")
RECENT = 25
"""Finished and failed jobs listed, newest first."""


@dataclass(frozen=True)
class JobRow:
    id: str
    name: str
    state: str
    """queued, scheduled (waiting to retry), running, failed, finished; in-process: scheduled."""
    requested_by: str = ""
    enqueued_at: datetime | None = None
    ended_at: datetime | None = None
    attempts_left: int | None = None
    error: str = ""
    """The exception's last line (the whole traceback is in the worker's log and in RQ)."""
    result: str = ""
    runs: int | None = None
    failures: int | None = None


@dataclass(frozen=True)
class JobsView:
    mode: str
    """"queue" or "in-process"."""
    jobs: list[JobRow]
    startable: list[str]
    """Jobs a click can start now."""
    depth: int = 0
    """Jobs waiting in the queue."""


def list_jobs(runtime: Runtime, actor: Actor, scheduler: Scheduler | None = None) -> JobsView:
    require(actor, Permission.RUN_JOBS)
    startable = [n for n in TASKS if _needs_no_params(n)]
    if runtime.queue is None:
        jobs = scheduler.jobs if scheduler is not None else []
        rows = [
            JobRow(id=j.name, name=j.name, state="scheduled", runs=j.runs, failures=j.failures,
                   error=j.last_error or "", result=j.last_result[:300])
            for j in jobs
        ]  # fmt: skip
        return JobsView("in-process", rows, startable)
    return JobsView("queue", _queued_jobs(runtime), startable, runtime.queue.count)


def _needs_no_params(name: str) -> bool:
    return not TASKS[name].params


def _queued_jobs(runtime: Runtime) -> list[JobRow]:
    from rq.job import Job

    queue = runtime.queue
    assert queue is not None
    by_state = [
        ("running", queue.started_job_registry.get_job_ids()),
        ("queued", queue.get_job_ids()),
        ("scheduled", queue.scheduled_job_registry.get_job_ids()),
        ("failed", queue.failed_job_registry.get_job_ids(0, RECENT - 1, desc=True)),
        ("finished", queue.finished_job_registry.get_job_ids(0, RECENT - 1, desc=True)),
    ]
    rows: list[JobRow] = []
    for state, ids in by_state:
        for job in Job.fetch_many(ids, connection=queue.connection):
            if job is None:
                continue  # expired between listing and fetching
            rows.append(_row(job, state))
    return rows


def _row(job: object, state: str) -> JobRow:
    from rq.job import Job

    assert isinstance(job, Job)
    error = ""
    if state in ("failed", "scheduled") and job.exc_info:
        error = job.exc_info.strip().splitlines()[-1][:500]
    result = job.return_value() if state == "finished" else None
    return JobRow(
        id=job.id,
        name=job.description or job.func_name,
        state=state,
        requested_by=str(job.meta.get("requested_by", "")),
        enqueued_at=job.enqueued_at,
        ended_at=job.ended_at,
        attempts_left=job.retries_left,
        error=error,
        result=str(result or "")[:300],
    )


def start_job(runtime: Runtime, actor: Actor, name: str, scheduler: Scheduler | None = None) -> str:
    """Start a job now: enqueue it (queue), or run it in this process (at the schedule's next tick if it has it).

    In-process, a job that is not on this process's schedule runs in a thread of its own; a failure goes to the
    log (there is no queue to keep it).
    """
    require(actor, Permission.RUN_JOBS)
    if name not in TASKS or not _needs_no_params(name):
        raise KeyError(f"no job {name!r} to start from here; these are: "
                       f"{', '.join(n for n in TASKS if _needs_no_params(n))}")  # fmt: skip
    if runtime.queue is not None:
        return enqueue(runtime, name, requested_by=actor.name)
    for job in scheduler.jobs if scheduler is not None else []:
        if job.name == name:
            job.next_at = 0.0
            return name
    threading.Thread(target=_run_logged, args=(runtime, name), name=f"docgap-job-{name}", daemon=True).start()
    return name


def _run_logged(runtime: Runtime, name: str) -> None:
    try:
        run_described(runtime, name)
    except Exception:
        log.exception("job %s failed", name)


def job_counts(runtime: Runtime) -> dict[str, int] | None:
    """Jobs by state on the queue (for `/metrics`); None without a queue."""
    queue = runtime.queue
    if queue is None:
        return None
    return {
        "queued": queue.count,
        "scheduled": queue.scheduled_job_registry.count,
        "running": queue.started_job_registry.count,
        "failed": queue.failed_job_registry.count,
        "finished": queue.finished_job_registry.count,
    }

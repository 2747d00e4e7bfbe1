"""Scheduled jobs that run inside `docgap serve` (the embedded default; a queue replaces this at scale).

One daemon thread wakes every few seconds and runs whatever job is due; a job that fails is logged and retried
at its next interval, never taking the server down. Jobs are plain functions over the runtime, the same ones the
CLI calls (`docgap sync zendesk`, `docgap report weekly`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

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
                job.run()
                job.runs += 1
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


class TopicUpdates:
    """Incremental topic updates whenever questions arrived since the last one (synced, webhooks, the API)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.seen: int | None = None

    def __call__(self) -> bool:
        from usecases.pipeline import analyse

        with Session(self.runtime.engine) as session:
            newest = session.exec(select(func.max(Question.id)).where(col(Question.embedded).is_(True))).one()
        if newest is None or newest == self.seen:
            return False
        analyse(self.runtime)
        self.seen = newest
        return True


def scheduled_delivery(runtime: Runtime) -> list[Job]:
    """Hourly jobs: the risk flags, and the weekly report's delivery when a channel is configured.

    The flags are evaluated even without Slack, since briefs read them as stored; last week's report goes to each
    configured channel not yet sent (once per week and channel).
    """
    from usecases.alerts import check_alerts
    from usecases.delivery import configured_channels, deliver_due_weekly
    from usecases.permissions import OPERATOR

    jobs = [Job("risk alerts", 3600, lambda: check_alerts(runtime, OPERATOR))]
    if configured_channels(runtime):
        jobs.append(Job("weekly delivery", 3600, lambda: deliver_due_weekly(runtime, OPERATOR)))
    return jobs


def default_jobs(runtime: Runtime, monotonic: Callable[[], float] = time.monotonic) -> list[Job]:
    s = runtime.settings
    jobs = [Job("weekly report", 3600, lambda: ensure_weekly_report(runtime))]
    jobs += scheduled_delivery(runtime)
    if s.topics_interval_minutes > 0:
        jobs.append(Job("topic updates", s.topics_interval_minutes * 60, TopicUpdates(runtime)))
    if s.full_recluster_days > 0:
        from usecases.pipeline import analyse

        every = s.full_recluster_days * 86400
        # First run one interval from now: restarting the server must not trigger a full re-cluster.
        jobs.append(Job("full re-cluster", every, lambda: analyse(runtime, full=True), next_at=monotonic() + every))
    if s.sync_interval_minutes > 0 and (s.zendesk_subdomain or s.zendesk_url) and s.zendesk_token:
        from ingest.zendesk_api import sync_zendesk

        jobs.append(Job("zendesk sync", s.sync_interval_minutes * 60, lambda: sync_zendesk(runtime)))
    return jobs

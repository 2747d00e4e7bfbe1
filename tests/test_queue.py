"""The job queue for real: a private `redis-server`, the app over HTTP, and `docgap worker` as its own process.

The web process only enqueues; the worker (a separate process with its own runtime over the same stores) runs the
job, retries a failing one, and keeps it with its error; the API and the Jobs page show each state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from core.models import Report, Topic
from core.runtime import Runtime
from tests.conftest import LiveServer, copy_data, logged_in, make_runtime
from tests.servers import redis_url  # noqa: F401  (fixture)
from usecases.apikeys import create_key
from usecases.jobs import default_jobs, enqueue
from usecases.permissions import OPERATOR
from usecases.tickets import create_ticket
from usecases.users import create_user

pytestmark = pytest.mark.backends
ROOT = Path(__file__).resolve().parents[1]


def run_worker(rt: Runtime) -> subprocess.CompletedProcess[str]:
    """`docgap worker --burst` over the runtime's stores, until the queue is empty."""
    s = rt.settings
    env = {**os.environ, "DOCGAP_DATA_DIR": str(s.data_dir), "DOCGAP_REDIS_URL": s.redis_url,
           "DOCGAP_DATABASE_URL": s.database_url, "DOCGAP_CHROMA_URL": s.chroma_url,
           "DOCGAP_JOB_RETRY_SECONDS": s.job_retry_seconds, "DOCGAP_LOG_LEVEL": "INFO",
           "DOCGAP_LOG_FORMAT": "json"}  # fmt: skip
    docgap = Path(sys.executable).parent / "docgap"
    return subprocess.run([str(docgap), "worker", "--burst"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip


def test_jobs_are_enqueued_by_the_web_process_and_run_by_the_worker(
    demo_runtime: Runtime,
    tmp_path: Path,
    redis_url: str,  # noqa: F811
) -> None:
    rt = copy_data(demo_runtime.settings.data_dir, tmp_path / "data", demo_runtime.embedder, redis_url=redis_url,
                   job_retry_seconds="0,0")  # fmt: skip
    key = create_key(rt, ["admin"], name="jobs", rate_limit=100_000)
    create_user(rt, OPERATOR, "queue-admin", "admin", "queue-password-0001")
    with Session(rt.engine) as s:
        reports_before = len(s.exec(select(Report)).all())
        for r in s.exec(select(Report)).all():
            s.delete(r)
        s.commit()
    assert reports_before >= 1

    with (
        LiveServer(rt) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key.secret}"}, timeout=60) as api,
    ):
        started = api.post("/v1/jobs", json={"name": "weekly report"})
        assert started.status_code == 202, started.text
        assert api.post("/v1/jobs", json={"name": "no such job"}).status_code == 404
        failing = enqueue(rt, "docs import", requested_by="test", folder=str(tmp_path / "missing"))
        with Session(rt.engine) as s:
            topic_id = s.exec(select(Topic.id).where(Topic.active == True)).first()  # noqa: E712
        ticket, _ = create_ticket(rt, OPERATOR, topic_id)
        export = api.post(f"/v1/tickets/{ticket.id}/export", json={"tracker": "markdown"})
        assert export.status_code == 202, export.text
        assert export.json()["ticket_id"] == ticket.id and export.json()["tracker"] == "markdown"
        assert api.post(f"/v1/tickets/{ticket.id}/export", json={"tracker": "github"}).status_code == 502, (
            "a tracker without its settings is refused at once, not on the worker"
        )
        listed = api.get("/v1/jobs").json()
        assert listed["mode"] == "queue" and listed["depth"] == 3
        assert {j["state"] for j in listed["jobs"]} == {"queued"}
        with Session(rt.engine) as s:
            assert s.exec(select(Report)).first() is None, "the web process only enqueued"
        tickets_dir = rt.settings.data_dir / "tickets"
        assert not list(tickets_dir.glob("*.md")), "nor did it write the ticket's file"

        done = run_worker(rt)
        assert done.returncode == 0, done.stderr[-2000:]

        jobs = {j["id"]: j for j in api.get("/v1/jobs").json()["jobs"]}
        ok = jobs[started.json()["id"]]
        assert ok["state"] == "finished" and ok["requested_by"] == "jobs"
        assert ok["result"] == "wrote last week's report"
        exported = jobs[export.json()["job_id"]]
        assert exported["state"] == "finished" and exported["result"].startswith(f"#{ticket.id} created ")
        assert len(list(tickets_dir.glob("*.md"))) == 1
        bad = jobs[failing]
        assert bad["state"] == "failed" and bad["attempts_left"] == 0, "retried twice, then kept"
        assert bad["error"].startswith("FileNotFoundError: no docs folder at")

        # The worker's log is JSON lines; each record made while a job ran carries the job's id and task.
        records = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
        assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
        finished = [r for r in records if r.get("job_id") == ok["id"]]
        assert any(r["message"] == "job weekly report done: wrote last week's report" for r in finished), finished
        assert all(r["task"] == "weekly report" for r in finished)

        with Session(rt.engine) as s:
            assert s.exec(select(Report)).first() is not None, "the worker wrote the report"

        with logged_in(server.url, "queue-admin", "queue-password-0001") as (client, _csrf):
            page = client.get("/jobs")
            assert page.status_code == 200
            assert "FileNotFoundError: no docs folder at" in page.text and "finished" in page.text
            assert 'href="/jobs"' in page.text, "admins have the Jobs link in the nav"


def test_the_schedule_is_enqueued_once_whatever_the_number_of_workers(
    fresh_runtime: Runtime,
    redis_url: str,  # noqa: F811
) -> None:
    workers = [make_runtime(fresh_runtime.settings.data_dir, fresh_runtime.embedder, redis_url=redis_url)
               for _ in range(3)]  # fmt: skip
    schedules = [{j.name: j for j in default_jobs(w)} for w in workers]
    ids = [s["weekly report"].run() for s in schedules]
    assert ids[0] is not None and ids[1:] == [None, None]
    assert workers[0].queue is not None and workers[0].queue.count == 1


def test_without_a_queue_the_jobs_page_shows_the_in_process_schedule(live_server, web_users) -> None:  # type: ignore[no-untyped-def]
    with logged_in(live_server.url, *web_users["admin"]) as (client, _csrf):
        page = client.get("/jobs")
        assert page.status_code == 200 and "No queue is configured" in page.text
    with logged_in(live_server.url, *web_users["docs_writer"]) as (client, _csrf):
        assert client.get("/jobs").status_code == 403

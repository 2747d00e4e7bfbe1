"""End to end on docker-compose.yml's topology, started from local processes (`tools/stack.py`).

PostgreSQL, a Chroma server and Redis on loopback; the api as `docgap serve --workers 2` and one `docgap worker`,
with the commands and environment of the compose file. Questions and docs are imported with the CLI, clustering
and the weekly report run as queued jobs on the worker, and answers come from the API's two processes.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tools.servers import RedisServer, server_binaries

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = 400


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if server_binaries() is None or RedisServer.command() is None:
        pytest.skip("needs Debian's postgresql and redis-server (`make test` installs them)")
    from tools.stack import LocalStack

    with LocalStack(tmp_path_factory.mktemp("stack")) as s:
        yield s


def docgap(stack, *args: str) -> str:  # type: ignore[no-untyped-def]
    done = subprocess.run([str(Path(sys.executable).parent / "docgap"), *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **stack.env}, timeout=900)  # fmt: skip
    assert done.returncode == 0, (args, done.stdout[-1500:], done.stderr[-1500:])
    return done.stdout


def wait_for(stack, job_id: str, timeout: float = 600) -> dict:  # type: ignore[no-untyped-def, type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = {j["id"]: j for j in json.loads(docgap(stack, "jobs", "list", "--json"))}
        if jobs.get(job_id, {}).get("state") in ("finished", "failed"):
            return jobs[job_id]
        time.sleep(2)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")


def test_import_cluster_answer_and_report_on_the_compose_topology(stack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    health = httpx.get(f"{stack.url}/healthz", timeout=30).json()
    assert health["checks"] == {"database": "ok", "vectors": "ok", "queue": "ok"}

    with (ROOT / "demo/banking77/train.csv").open() as fh:
        rows = list(csv.DictReader(fh))[:QUESTIONS]
    questions = tmp_path / "questions.csv"
    with questions.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        w.writerows((f"B{i}", r["text"]) for i, r in enumerate(rows))
    docgap(stack, "ingest", "docs", str(ROOT / "demo/helpcenter"))
    docgap(stack, "ingest", "csv", str(questions), "--text-column", "text", "--id-column", "id")

    job = docgap(stack, "jobs", "start", "full re-cluster").split("as job ")[-1].strip()
    clustered = wait_for(stack, job)
    assert clustered["state"] == "finished", clustered
    report = wait_for(stack, docgap(stack, "jobs", "start", "weekly report").split("as job ")[-1].strip())
    assert report["state"] == "finished", report

    key = docgap(stack, "keys", "create", "--scope", "admin", "--name", "e2e").strip()
    with httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as api:
        topics = api.get("/v1/topics", params={"limit": 500}).json()
        assert topics["total"] >= 3, "the worker's re-cluster made the topics (the first rows: a few intents)"
        assert sum(t["size"] for t in topics["items"]) >= QUESTIONS * 0.8
        for _ in range(6):  # two server processes share the requests
            r = api.post("/v1/answers", json={"question": "How do I cancel a transfer I just sent?"})
            assert r.status_code == 200 and r.json()["citations"], r.text
        jobs = api.get("/v1/jobs").json()
        assert jobs["mode"] == "queue" and {j["name"] for j in jobs["jobs"] if j["state"] == "finished"} >= {
            "full re-cluster", "weekly report"}  # fmt: skip
        metrics = api.get("/metrics").text
    families = {f.name: f.samples for f in text_string_to_metric_families(metrics)}
    assert families["docgap_questions"][0].value == QUESTIONS
    answered = [s for s in families["docgap_requests"]
                if s.name == "docgap_requests_total" and s.labels["route"] == "/v1/answers"]  # fmt: skip
    assert sum(s.value for s in answered) == 6, "the two processes' counts are summed in one scrape"

    # The compose file asks for JSON logs: each answer is one access record with its request id. (The log files
    # also hold what the commands print for a person, such as the banner of `docgap serve`.)
    logged = [json.loads(line) for line in (stack.folder / "logs" / "api.log").read_text().splitlines()
              if line.startswith("{")]  # fmt: skip
    access = [r for r in logged if r["logger"] == "server.access" and r["route"] == "/v1/answers"]
    assert len(access) == 6 and all(r["status"] == 200 and r["request_id"] for r in access), access
    worker = [json.loads(line) for line in (stack.folder / "logs" / "worker.log").read_text().splitlines()
              if line.startswith("{")]  # fmt: skip
    assert any(r.get("task") == "full re-cluster" and r.get("job_id") == job for r in worker)

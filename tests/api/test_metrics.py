"""`/metrics` over real HTTP: Prometheus text with requests by route template, data counts, and the queue's jobs."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from core.runtime import Runtime
from tests.conftest import LiveServer, make_runtime
from tests.servers import redis_url  # noqa: F401  (fixture)
from usecases.apikeys import create_key
from usecases.jobs import enqueue


def _families(text: str) -> dict[str, list]:  # type: ignore[type-arg]
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def test_metrics_count_requests_by_route_and_need_a_metrics_key(live_server, demo_runtime: Runtime) -> None:  # type: ignore[no-untyped-def]
    scraper = create_key(demo_runtime, ["metrics:read"], name="prometheus", rate_limit=100_000)
    reader = create_key(demo_runtime, ["answers:read"], name="reader", rate_limit=100_000)
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"Bearer {reader.secret}"}).status_code == 403
        auth = {"Authorization": f"Bearer {reader.secret}"}
        assert client.get("/v1/topics/1", headers=auth).status_code in (200, 404)
        client.post("/v1/answers", json={"question": "How do I change my PIN?"}, headers=auth)
        r = client.get("/metrics", headers={"Authorization": f"Bearer {scraper.secret}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    families = _families(r.text)
    requests = {(s.labels["method"], s.labels["route"], s.labels["status"]): s.value
                for s in families["docgap_requests"] if s.name == "docgap_requests_total"}  # fmt: skip
    assert requests[("POST", "/v1/answers", "200")] >= 1
    assert any(k[1] == "/v1/topics/{topic_id}" for k in requests), "routes are counted by template, not by URL"
    assert not any("/v1/topics/1" == k[1] for k in requests)
    assert requests[("GET", "/metrics", "401")] >= 1
    latency = [s for s in families["docgap_request_seconds"] if s.name == "docgap_request_seconds_count"]
    assert any(s.labels["route"] == "/v1/answers" and s.value >= 1 for s in latency)
    questions = families["docgap_questions"][0].value
    topics = {s.labels["gap"]: s.value for s in families["docgap_topics"]}
    assert questions > 1000 and topics["yes"] > 0 and topics["no"] > 0
    assert "docgap_jobs" not in families, "no queue, no job gauges"


def test_metrics_report_the_queue(fresh_runtime: Runtime, redis_url: str) -> None:  # noqa: F811
    rt = make_runtime(fresh_runtime.settings.data_dir, fresh_runtime.embedder, redis_url=redis_url)
    key = create_key(rt, ["admin"], name="admin", rate_limit=100_000)
    enqueue(rt, "weekly report")
    enqueue(rt, "risk alerts")
    with LiveServer(rt) as server:
        r = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {key.secret}"}, timeout=60)
    families = _families(r.text)
    jobs = {s.labels["state"]: s.value for s in families["docgap_jobs"]}
    assert jobs["queued"] == 2 and jobs["failed"] == 0
    assert families["docgap_queue_depth"][0].value == 2

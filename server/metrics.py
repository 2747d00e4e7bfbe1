"""`/metrics` in the Prometheus text format: requests and latencies by route, jobs by state, queue depth, data size.

Requests are counted by a middleware under the route's template (`/v1/topics/{topic_id}`, never the concrete
URL, so the label set stays small and no id or text leaks into it). Questions, topics, jobs and the queue depth
are read when scraped. With several server processes (`docgap serve --workers N`) set
`PROMETHEUS_MULTIPROC_DIR` to a shared empty folder, as prometheus_client's multiprocess mode requires, and every
process's counts are summed in each scrape; without it each process reports its own.

Scraping needs an API key with the `metrics:read` scope (Prometheus `authorization: credentials: dg_…`): the
figures hold no customer text, but the route mix and volumes are a customer's business.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from api.auth import MetricsKey
from core.runtime import Runtime
from usecases.job_status import job_counts
from usecases.topics import data_counts

REQUESTS = Counter("docgap_requests", "HTTP requests answered", ["method", "route", "status"], registry=None)
LATENCY = Histogram(
    "docgap_request_seconds",
    "Seconds to answer an HTTP request",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=None,
)


class _State(Collector):
    """Read at scrape time: what is stored and what the queue holds."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # registering must not query the stores (the app is built before they are up)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = data_counts(self.runtime)
        questions = GaugeMetricFamily("docgap_questions", "Customer questions stored")
        questions.add_metric([], counts.questions)
        topics = GaugeMetricFamily("docgap_topics", "Active topics, by whether the docs cover them", labels=["gap"])
        topics.add_metric(["yes"], counts.gap_topics)
        topics.add_metric(["no"], counts.topics - counts.gap_topics)
        yield questions
        yield topics
        jobs = job_counts(self.runtime)
        if jobs is not None:
            by_state = GaugeMetricFamily("docgap_jobs", "Jobs on the queue, by state", labels=["state"])
            for state, n in jobs.items():
                by_state.add_metric([state], n)
            depth = GaugeMetricFamily("docgap_queue_depth", "Jobs waiting to be taken by a worker")
            depth.add_metric([], jobs.get("queued", 0))
            yield by_state
            yield depth


def install(app: FastAPI, runtime: Runtime) -> None:
    """Count every request, and serve `/metrics`."""
    registry = CollectorRegistry(auto_describe=True)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(_State(runtime))

    @app.middleware("http")
    async def count(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(request.method, template, str(status)).inc()
            LATENCY.labels(request.method, template).observe(time.perf_counter() - started)

    @app.get("/metrics", tags=["health"], include_in_schema=True, response_class=Response)
    def metrics(_actor: MetricsKey) -> Response:
        """Prometheus text format (scope `metrics:read`)."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

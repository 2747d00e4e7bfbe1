"""Whether this instance can serve: its database, vector store and queue answer (what `/healthz` reports).

A load balancer or compose health check polls this, so each check is one cheap round trip (`SELECT 1`, listing
the collections, a Redis PING), and a failure names the store and the kind of error but not its message: a
driver's message can carry a host, a user or a path, and `/healthz` answers anyone. The whole error goes to the
log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text

from core.runtime import Runtime

log = logging.getLogger("usecases.health")


@dataclass(frozen=True)
class Health:
    checks: dict[str, str] = field(default_factory=dict)
    """Per store: "ok", or "unavailable (ErrorClass)"."""

    @property
    def ok(self) -> bool:
        return all(v == "ok" for v in self.checks.values())


def check_health(runtime: Runtime) -> Health:
    """The database, the vector store and (when configured) the queue's Redis, each asked once."""
    database = _check("database", lambda: _database(runtime))
    vectors = _check("vectors", lambda: runtime.vectors.collection_names())  # opening the store may fail too
    checks = {"database": database, "vectors": vectors}
    if runtime.settings.redis_url:
        checks["queue"] = _check("queue", lambda: _queue(runtime))
    return Health(checks)


def _queue(runtime: Runtime) -> None:
    assert runtime.queue is not None
    runtime.queue.connection.ping()


def _database(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _check(name: str, probe: Callable[[], object]) -> str:
    try:
        probe()
    except Exception as exc:  # noqa: BLE001 - any failure of a store is "unavailable", reported, not raised
        log.warning("health check: %s unavailable: %s", name, exc)
        return f"unavailable ({type(exc).__name__})"
    return "ok"

"""The job queue of the scaled set-up: RQ over Redis (`DOCGAP_REDIS_URL`).

RQ because docgap's jobs are plain synchronous functions over a runtime (RQ runs exactly that, where arq wants
coroutines), it keeps queued, running, scheduled and failed jobs in registries that an admin page can list with
each failure's traceback, it retries with per-attempt delays, and it is small and BSD-licensed (Dramatiq is
LGPL, Celery brings a broker abstraction and a scheduler daemon we do not need). Workers run jobs in their own
process (`SimpleWorker`): the embedding model is loaded once per worker, not once per job.

Without a Redis URL none of this is imported or needed: `docgap serve` schedules jobs in-process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

QUEUE_NAME = "docgap"
CLAIM_PREFIX = "docgap:due:"


def open_queue(url: str) -> Queue:
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE_NAME, connection=Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30))


def claim(connection: Redis, name: str, every_s: float) -> bool:
    """True for exactly one of the workers asking within `every_s`: who enqueues a scheduled job this time.

    Every worker runs the same schedule; the one whose `SET NX` lands first enqueues, the others see the key and
    skip, so three workers do not send three weekly reports. The key expires a little before the next interval.
    """
    ttl = max(1, int(every_s * 0.9))
    return bool(connection.set(CLAIM_PREFIX + name, "1", nx=True, ex=ttl))

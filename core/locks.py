"""One writer of topics at a time, across every process that shares the database.

A scheduled re-cluster, a writer's merge from the board and a `docgap cluster` from a shell all rewrite topic
membership, keywords and titles from what they read at their start; two of them interleaved would each write
back a picture the other has already changed. So every topic change runs inside `exclusive(engine)`:

- on PostgreSQL a session-level advisory lock, held on a connection of its own for the duration (so it spans the
  several short transactions of a re-cluster, and a crashed process's lock goes with its connection);
- on SQLite an OS file lock beside the database file (`filelock`): SQLite's own write lock cannot be held across
  transactions without blocking every import meanwhile, and an embedded database has one host.

Nested use in one thread (a use case that takes the lock calling another that does) passes straight through. A
caller that must not wait long (a web request) passes `wait_s` and gets `TopicsBusy`, whose message says why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import text
from sqlalchemy.engine import Engine

TOPICS_KEY = 0x746F7069  # "topi": the advisory lock key of topic changes
POLL_S = 0.2

_held = threading.local()


class TopicsBusy(RuntimeError):
    """Another process (or thread) is changing topics, and waiting for it took longer than the caller allows."""

    def __init__(self, waited_s: float) -> None:
        super().__init__(
            f"topics are being changed by another run (a re-cluster or a writer's merge); waited {waited_s:.0f} s. "
            "Try again in a minute."
        )
        self.waited_s = waited_s


def lock_file(engine: Engine) -> Path | None:
    """The file lock's path for a SQLite database file; None for an in-memory database (one process only)."""
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".topics.lock")


@contextmanager
def exclusive(engine: Engine, wait_s: float = 3600.0) -> Iterator[None]:
    """Hold the topic lock for the block; raise `TopicsBusy` after `wait_s` seconds of waiting."""
    key = str(engine.url)
    depth: dict[str, int] = _held.__dict__.setdefault("depth", {})
    if depth.get(key):
        depth[key] += 1
        try:
            yield
        finally:
            depth[key] -= 1
        return
    with _acquire(engine, wait_s):
        depth[key] = 1
        try:
            yield
        finally:
            depth[key] = 0


@contextmanager
def _acquire(engine: Engine, wait_s: float) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            started = time.monotonic()
            while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": TOPICS_KEY}).scalar():
                conn.rollback()  # no snapshot held while waiting
                if time.monotonic() - started >= wait_s:
                    raise TopicsBusy(time.monotonic() - started)
                time.sleep(POLL_S)
            conn.commit()  # the lock is the session's; no transaction stays open beside it
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": TOPICS_KEY})
                conn.commit()
        return
    path = lock_file(engine)
    if path is None:
        with _memory_lock:
            yield
        return
    lock = FileLock(path, timeout=wait_s)  # a fresh object per use: threads of one process exclude each other too
    try:
        lock.acquire(poll_interval=POLL_S)
    except Timeout:
        raise TopicsBusy(wait_s) from None
    try:
        yield
    finally:
        lock.release()


_memory_lock = threading.Lock()

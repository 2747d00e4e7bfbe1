"""Engine and session creation. Built once per process entry point and passed down, never a module global."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from core import migrations


def make_engine(url: str, upgrade: bool = True) -> Engine:
    """Create the engine and bring the database to the newest schema revision (`core.migrations`).

    SQLite gets WAL so the server can read while an import writes, and a busy timeout instead of instant
    "database is locked" errors. `upgrade=False` is for `docgap db`, which reports the revision before it migrates.
    """
    is_sqlite = url.startswith("sqlite")
    if not is_sqlite:  # a server restarts and ends idle sessions; a pooled connection is checked before each use
        engine = create_engine(url, pool_pre_ping=True)
    else:
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    if upgrade:
        migrations.upgrade(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

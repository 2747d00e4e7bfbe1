"""Engine and session creation. Built once per process entry point and passed down, never a module global."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, create_engine

from core import models  # noqa: F401  (registers the tables on SQLModel.metadata)

log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """Create the engine and the tables.

    SQLite gets WAL so the server can read while an import writes, and a busy timeout instead of instant
    "database is locked" errors.
    """
    is_sqlite = url.startswith("sqlite")
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30} if is_sqlite else {})
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    SQLModel.metadata.create_all(engine)
    add_missing_columns(engine)
    add_missing_indexes(engine)
    return engine


def add_missing_columns(engine: Engine) -> list[str]:
    """Add columns that newer code defines but an older data dir's tables lack; returns "table.column" added.

    `create_all` creates missing tables but never alters existing ones, so without this a data dir made by an
    earlier version fails with "no such column". Only additive changes are handled (new columns get their
    Python default as SQL default); anything else is a job for real migrations (Alembic, planned with PostgreSQL).
    """
    existing = inspect(engine)
    added: list[str] = []
    with engine.begin() as conn:
        for mapper in SQLModel._sa_registry.mappers:  # type: ignore[attr-defined]
            cls, table = mapper.class_, mapper.local_table
            if not existing.has_table(table.name):
                continue
            have = {c["name"] for c in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name in have:
                    continue
                field = cls.model_fields.get(column.name)
                value = field.get_default(call_default_factory=True) if field else None
                ddl = f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {column.type.compile(engine.dialect)}'
                if value is not None:
                    literal = json.dumps(value) if isinstance(value, list | dict) else value
                    ddl += f" DEFAULT {_sql_literal(literal)}"
                conn.execute(text(ddl))
                added.append(f"{table.name}.{column.name}")
    return added


def add_missing_indexes(engine: Engine) -> list[str]:
    """Create indexes that newer code defines on tables an older data dir already has; returns those created.

    Like `add_missing_columns`, because `create_all` leaves existing tables alone. A unique index the stored rows
    already break (two live doc tickets for one topic, written before the index existed) is not created: the rows
    are left as they are, a warning says which index and why, and the next start tries again.
    """
    existing = inspect(engine)
    created: list[str] = []
    for table in SQLModel.metadata.sorted_tables:
        if not existing.has_table(table.name):
            continue
        have = {i["name"] for i in existing.get_indexes(table.name)}
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            if index.name in have:
                continue
            try:
                with engine.begin() as conn:
                    index.create(conn)
            except IntegrityError as exc:
                log.warning("index %s on %s not created: the stored rows break it (%s); fix them and restart",
                            index.name, table.name, str(exc.orig).splitlines()[0])  # fmt: skip
                continue
            created.append(str(index.name))
    return created


def _sql_literal(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


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

"""The additive patch that brings a database made before migrations (no `alembic_version`) to the baseline.

Releases before Alembic created tables with `create_all` and patched older data dirs by adding the columns and
indexes the models had gained. Such a database is brought to the baseline revision by the same patch, run once,
limited to what the baseline has (so a column a later revision adds is left to that revision), and is then
stamped at the baseline; every change after the baseline is a revision in `versions/`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

log = logging.getLogger("core.db")  # the name operators and tests already know for these warnings


@dataclass(frozen=True)
class Schema:
    """The names a revision's schema has: tables, their columns, and index names per table."""

    columns: dict[str, frozenset[str]]
    indexes: dict[str, frozenset[str]]


def schema_of(conn: Connection) -> Schema:
    """The table, column and index names of the database on `conn` (Alembic's own table left out)."""
    found = inspect(conn)
    names = [n for n in found.get_table_names() if n != "alembic_version"]
    columns = {n: frozenset(c["name"] for c in found.get_columns(n)) for n in names}
    indexes = {n: frozenset(str(i["name"]) for i in found.get_indexes(n)) for n in names}
    return Schema(columns, indexes)


def patch_to(engine: Engine, baseline: Schema) -> list[str]:
    """Create what `baseline` has and the database lacks: tables, columns, then indexes; returns what it made.

    A unique index the stored rows already break (two live doc tickets for one topic, written before the index
    existed) is not created: the rows are left as they are, a warning says which index and why, and the returned
    list holds it as "!index" so the caller knows the database is not at the baseline yet.
    """
    made = _create_missing_tables(engine, baseline)
    made += _add_missing_columns(engine, baseline)
    made += _add_missing_indexes(engine, baseline)
    return made


def _create_missing_tables(engine: Engine, baseline: Schema) -> list[str]:
    have = set(inspect(engine).get_table_names())
    made: list[str] = []
    for table in SQLModel.metadata.sorted_tables:
        if table.name in have or table.name not in baseline.columns:
            continue
        if {c.name for c in table.columns} != baseline.columns[table.name]:
            raise RuntimeError(
                f"the database predates migrations and lacks the table {table.name!r}, whose columns have changed "
                "since the baseline; open it once with a docgap whose newest revision is the baseline, then again"
            )
        with engine.begin() as conn:
            table.create(conn)  # with its indexes
        made.append(table.name)
    return made


def _add_missing_columns(engine: Engine, baseline: Schema) -> list[str]:
    """Add columns the baseline has that an older data dir's tables lack, with their Python default as SQL default.

    Releases before migrations added such columns nullable; a data dir patched by one keeps that looser column
    (harmless: the code always writes a value), one patched here gets the baseline's NOT NULL.
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
                if column.name in have or column.name not in baseline.columns.get(table.name, ()):
                    continue
                field = cls.model_fields.get(column.name)
                value = field.get_default(call_default_factory=True) if field else None
                ddl = f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {column.type.compile(engine.dialect)}'
                if value is not None:
                    literal = json.dumps(value) if isinstance(value, list | dict) else value
                    ddl += f" DEFAULT {_sql_literal(literal)}"
                    if not column.nullable:
                        ddl += " NOT NULL"  # as the baseline has it: the default fills the rows already there
                conn.execute(text(ddl))
                added.append(f"{table.name}.{column.name}")
    return added


def _add_missing_indexes(engine: Engine, baseline: Schema) -> list[str]:
    existing = inspect(engine)
    created: list[str] = []
    for table in SQLModel.metadata.sorted_tables:
        if not existing.has_table(table.name):
            continue
        have = {i["name"] for i in existing.get_indexes(table.name)}
        wanted = baseline.indexes.get(table.name, frozenset())
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            if index.name in have or index.name not in wanted:
                continue
            try:
                with engine.begin() as conn:
                    index.create(conn)
            except IntegrityError as exc:
                log.warning("index %s on %s not created: the stored rows break it (%s); fix them and restart",
                            index.name, table.name, str(exc.orig).splitlines()[0])  # fmt: skip
                created.append(f"!{index.name}")
                continue
            created.append(str(index.name))
    return created


def _sql_literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"

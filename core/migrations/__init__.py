"""Schema migrations with Alembic: every database docgap opens is brought to the newest revision first.

The revision scripts live in `versions/` inside the package, so they ship with the install, and Alembic is
configured here in code (no `alembic.ini`). `upgrade` handles the three databases it can meet:

- an empty one: every revision runs, from the baseline on;
- one made before migrations (docgap's tables, no `alembic_version`): the old additive patch (`legacy`) brings it
  to the baseline once, it is stamped there, and the revisions after the baseline run;
- a versioned one: the revisions after its own run, and nothing at all when it is at the head. That check is one
  small query, because every process and many tests open databases.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from core import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from core.migrations.legacy import Schema, patch_to, schema_of

log = logging.getLogger("core.db")

BASELINE = "0001"
"""The revision that creates the schema of the last release before migrations."""

VERSION_TABLE = "alembic_version"
"""Alembic's table holding the database's revision (backups and row counts treat it as bookkeeping)."""

_SCRIPTS = Path(__file__).parent
_PG_LOCK = 0x646F6367  # "docg": the advisory lock that keeps two PostgreSQL processes from migrating at once


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did: the revision before and after (None: not versioned), and what the legacy patch made."""

    before: str | None
    after: str | None
    patched: tuple[str, ...] = ()


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, in code: the scripts' folder and, for running them, the connection to use."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def head() -> str:
    """The newest revision of the scripts that shipped (read once per process: they do not change while it runs)."""
    heads = ScriptDirectory.from_config(config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(heads)}); merge them into one")
    return heads[0]


def current(engine: Engine) -> str | None:
    """The database's revision, or None when it has no `alembic_version` (empty, or made before migrations)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> Upgrade:
    """Bring the database to the head revision; a no-op (one query) when it is there already.

    Two processes starting at once (the server and a worker) may both try: PostgreSQL serialises them with an
    advisory lock; on SQLite the one that loses finds the database at the head afterwards and carries on.
    """
    target = head()
    before = current(engine)
    if before == target:
        return Upgrade(before, before)
    try:
        patched = _upgrade(engine, before, target)
    except DBAPIError:
        if current(engine) != target:
            raise
        patched = ()  # another process migrated it meanwhile
    return Upgrade(before, current(engine), patched)


def _upgrade(engine: Engine, before: str | None, target: str) -> tuple[str, ...]:
    patched: tuple[str, ...] = ()
    if before is None and has_tables(engine):
        patched = tuple(patch_to(engine, baseline_schema()))
        if broken := [p.removeprefix("!") for p in patched if p.startswith("!")]:
            if target != BASELINE:
                raise RuntimeError(
                    f"the database predates migrations and its rows break the unique index {', '.join(broken)}: "
                    "fix those rows (see the warning above), then start again"
                )
            return patched  # left unversioned, so the next start tries the index again
        if patched:
            log.info("brought a database from before migrations to the baseline: %s", ", ".join(patched))
        with engine.begin() as conn:
            command.stamp(config(conn), BASELINE)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        command.upgrade(config(conn), "head")
    return patched


def forget_revision(engine: Engine) -> None:
    """Drop the revision record, for a database whose tables were just replaced by ones made before migrations."""
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))


@cache
def baseline_schema() -> Schema:
    """The names of the baseline's tables, columns and indexes, read from an in-memory database built by it."""
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            command.upgrade(config(conn), BASELINE)
            return schema_of(conn)
    finally:
        engine.dispose()


def differences(engine: Engine) -> list[object]:
    """What the models define that the database's schema lacks or has otherwise (Alembic's autogenerate diff).

    Empty when the revisions describe the models; a model change without its revision shows up here.
    """
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        return list(compare_metadata(context, SQLModel.metadata))


def has_tables(engine: Engine) -> bool:
    """Whether the database holds any of docgap's tables (so an unversioned one was made before migrations)."""
    return bool(set(inspect(engine).get_table_names()) & set(SQLModel.metadata.tables))


def new_revision(message: str) -> Path:
    """Write the revision script for what the models changed since the head revision, and return its path.

    For developers, in a source checkout: the head schema is built in an in-memory SQLite database and compared
    with the models, so no real database is touched. Refused when there is nothing to write.
    """
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            command.upgrade(config(conn), "head")
        if not differences(engine):
            raise RuntimeError("the models match the head revision: there is nothing to write")
        number = len(list(ScriptDirectory.from_config(config()).walk_revisions())) + 1
        with engine.begin() as conn:
            script = command.revision(config(conn), message=message, autogenerate=True, rev_id=f"{number:04d}")
    finally:
        engine.dispose()
    head.cache_clear()
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


@dataclass(frozen=True)
class Status:
    """Where a database stands, for `docgap db`: its revision against the head of the scripts that shipped."""

    database: str
    """The SQLite file, or the URL with its password hidden."""
    revision: str | None
    head: str
    predates_migrations: bool = False

    @property
    def is_head(self) -> bool:
        return self.revision == self.head

    def label(self) -> str:
        if self.revision is None:
            return "none (made before migrations)" if self.predates_migrations else "none (empty database)"
        return f"{self.revision} (head)" if self.is_head else f"{self.revision} (behind the head, {self.head})"


def _where(url: str) -> tuple[str, Path | None]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return parsed.database, Path(parsed.database)
    return parsed.render_as_string(hide_password=True), None


def status(url: str) -> Status:
    """The database's revision, read without changing anything (a SQLite file that is not there is not made)."""
    from core.db import make_engine  # core.db migrates through this module

    where, file = _where(url)
    if file is not None and not file.exists():
        return Status(where, None, head())
    engine = make_engine(url, upgrade=False)
    try:
        revision = current(engine)
        return Status(where, revision, head(), revision is None and has_tables(engine))
    finally:
        engine.dispose()


def upgrade_database(url: str) -> tuple[Status, Upgrade]:
    """`docgap db upgrade`: where the database stood, and what upgrading it to the head did."""
    from core.db import make_engine

    where, file = _where(url)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url, upgrade=False)
    try:
        before = current(engine)
        was = Status(where, before, head(), before is None and has_tables(engine))
        return was, upgrade(engine)
    finally:
        engine.dispose()

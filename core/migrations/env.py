"""Alembic's environment: runs the revisions on the connection `core.migrations` hands over, never from a URL."""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from core import models  # noqa: F401  (registers the tables on SQLModel.metadata)


def _render_item(kind: str, obj: Any, _autogen: AutogenContext) -> str | bool:
    """Render sqlmodel's `str` columns as `sa.String`: plain strings to the database, no sqlmodel import needed."""
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.impl.length})" if obj.impl.length else "sa.String()"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `docgap db upgrade` (core.migrations), which supplies the connection")
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite alters most of a table by copying it; batch mode writes revisions that way
    compare_type=True,
    render_item=_render_item,
)
with context.begin_transaction():
    context.run_migrations()

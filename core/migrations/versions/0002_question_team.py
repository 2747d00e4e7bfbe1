"""Questions keep the customer's team when the source carries one (Zendesk team field, a CSV team column).

Nullable and without a default: questions imported before have no team, and the brief then groups them by channel
as it did. On SQLite the batch block adds the column in place (no table copy).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 03:05:45.355098
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_column("team")

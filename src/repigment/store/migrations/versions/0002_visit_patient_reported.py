"""Patient-reported outcomes on a visit: VNS (1–5) and VitiQoL (items 1–15 and item 16), all nullable.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vns", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("vitiqol_items", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("vitiqol_item16", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("vitiqol_item16")
        batch_op.drop_column("vitiqol_items")
        batch_op.drop_column("vns")

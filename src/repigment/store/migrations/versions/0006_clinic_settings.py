"""A clinic's settings: its time zone (IANA name) and default language (``en`` or ``sv``).

Existing clinics get ``UTC`` and ``en`` (what the app assumed before), and one audit entry each for the
columns added (and removed again on the way down), so that ``audit verify`` still finds every clinic row
equal to its last audited value.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
NEW_COLUMNS = ("timezone", "default_language")


def upgrade() -> None:
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=False, server_default="UTC"))
        batch_op.add_column(
            sa.Column("default_language", sa.String(length=2), nullable=False, server_default="en")
        )
    _audit(adding=True)


def _audit(*, adding: bool) -> None:
    """One audit entry per clinic for the columns added (or about to be dropped)."""
    from repigment.store import audit

    conn = op.get_bind()
    table = sa.Table("clinic", sa.MetaData(), autoload_with=conn)
    records: list[audit.Record] = []
    for row in conn.execute(sa.select(table).order_by(table.c.id)):
        full: dict[str, object] = {}
        for col in table.columns:
            v = row._mapping[col.name]
            full[col.name] = v.replace(tzinfo=dt.UTC).isoformat() if isinstance(v, dt.datetime) else v
        bare = {k: v for k, v in full.items() if k not in NEW_COLUMNS}
        old, new = (bare, full) if adding else (full, bare)
        records.append(("update", "clinic", str(row._mapping["id"]), old, new))
    audit.append(conn, audit.Actor("migration 0006"), records)


def downgrade() -> None:
    _audit(adding=False)
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 too): a batch copy of the table would be refused by the
    # foreign keys of the accounts and patients that point at it.
    for column in reversed(NEW_COLUMNS):
        op.execute(sa.text(f"ALTER TABLE clinic DROP COLUMN {column}"))

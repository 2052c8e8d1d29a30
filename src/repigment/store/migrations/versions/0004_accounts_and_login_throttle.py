"""Accounts and log-in throttling.

- ``login_throttle`` is keyed by a throttle key instead of a username: one row per (username, client
  address) and one per client address (``repigment.services.security``), so that failures from one address
  cannot lock the account's owner out from another. Its rows are bookkeeping and are not carried over.
- ``app_user.must_change_password`` (a temporary password set by an administrator),
  ``password_changed_at`` and ``sessions_revoked_at`` (the account's life cycle, audited with the row).
- Usernames are unique whatever their case (an index on ``lower(username)``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import datetime as dt
import warnings

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    clash = (
        op.get_bind()
        .execute(sa.text("SELECT lower(username) FROM app_user GROUP BY lower(username) HAVING count(*) > 1"))
        .scalars()
        .all()
    )
    if clash:
        raise RuntimeError(
            "usernames that differ only in case must be renamed before this upgrade: " + ", ".join(clash)
        )
    op.drop_table("login_throttle")
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("password_changed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sessions_revoked_at", sa.DateTime(), nullable=True))
    op.create_index("uq_app_user_username_lower", "app_user", [sa.text("lower(username)")], unique=True)
    _audit_new_columns()


NEW_COLUMNS = ("must_change_password", "password_changed_at", "sessions_revoked_at")


def _audit_new_columns() -> None:
    """One audit entry per existing account for the columns added, so that ``audit verify`` finds every
    row equal to its last audited value. The row is read as the table stands at this revision."""
    from repigment.store import audit

    conn = op.get_bind()
    with warnings.catch_warnings():  # the expression index above cannot be reflected (nor is it needed)
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        table = sa.Table("app_user", sa.MetaData(), autoload_with=conn)
    records: list[audit.Record] = []
    for row in conn.execute(sa.select(table).order_by(table.c.id)):
        new: dict[str, object] = {}
        for col in table.columns:
            v = row._mapping[col.name]
            if col.name == "password_hash":
                v = audit.REDACTED
            elif col.name == "active" or col.name == "must_change_password":
                v = bool(v)
            elif isinstance(v, dt.datetime):
                v = v.replace(tzinfo=dt.UTC).isoformat()
            new[col.name] = v
        old = {k: v for k, v in new.items() if k not in NEW_COLUMNS}
        records.append(("update", "app_user", str(row._mapping["id"]), old, new))
    audit.append(conn, audit.Actor("migration 0004"), records)


def downgrade() -> None:
    op.drop_index("uq_app_user_username_lower", table_name="app_user")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("sessions_revoked_at")
        batch_op.drop_column("password_changed_at")
        batch_op.drop_column("must_change_password")
    op.drop_table("login_throttle")
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username"),
    )

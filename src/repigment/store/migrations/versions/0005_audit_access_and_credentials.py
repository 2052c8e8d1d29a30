"""The audit trail records access events and keeps credentials in the chain.

- ``audit_entry.action`` takes the access events as well as create/update/delete (reads and exports of a
  record, log-ins and log-outs, photo events, password changes), and is widened to 20 characters.
- Users' password hashes and tokens' digests are chained as a digest of the stored value (they were a
  bare marker, so a swapped password hash went unnoticed), and tokens are audited rows. The upgrade
  appends one entry per existing user (its password digest) and per existing token (its creation), by
  the actor ``migration 0005``, so that ``repigment audit verify`` explains every row afterwards. What
  the rows hold at the upgrade is taken as it is: verify the trail before upgrading.

Downgrading appends the users' entries back to the marker form; it is refused once access events are in
the trail (the older code would read them as changes to the records they name).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CHANGES = ("create", "update", "delete")
ACCESS = (
    "read",
    "export",
    "login",
    "login_failed",
    "logout",
    "photo_upload",
    "photo_view",
    "password_change",
    "password_reset",
)
ACTOR = "migration 0005"


def _check(actions: tuple[str, ...]) -> str:
    return f"action IN ({', '.join(repr(a) for a in actions)})"


def _columns(action_length: int) -> list[Any]:
    return [
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=action_length), nullable=False),
        sa.Column("table_name", sa.String(length=60), nullable=False),
        sa.Column("row_id", sa.String(length=64), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
    ]


def _set_actions(actions: tuple[str, ...], action_length: int) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("ck_audit_entry_action", "audit_entry", type_="check")
        op.alter_column(
            "audit_entry", "action", type_=sa.String(length=action_length), existing_nullable=False
        )
        op.create_check_constraint("ck_audit_entry_action", "audit_entry", _check(actions))
        return
    # SQLite alters a CHECK constraint by copying the table; the append-only triggers go with the old one.
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_entry_no_{verb}")
    op.create_table(
        "audit_entry_new",
        *_columns(action_length),
        sa.CheckConstraint(_check(actions), name="ck_audit_entry_action"),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("hash"),
    )
    op.execute("INSERT INTO audit_entry_new SELECT * FROM audit_entry")
    op.drop_table("audit_entry")
    op.rename_table("audit_entry_new", "audit_entry")
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_entry_no_{verb.lower()} BEFORE {verb} ON audit_entry "
            "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
        )


def _chain_credentials(secret_form: str) -> None:
    """One entry per user moving its password to ``secret_form`` (``digest`` or ``marker``), and on the
    way up one per existing token recording its creation."""
    from repigment.store import audit

    conn = op.get_bind()
    users = audit._table("app_user")
    records: list[audit.Record] = []
    for r in conn.execute(sa.select(users).order_by(users.c.id)):
        digest = audit.row_snapshot("app_user", r)
        marker = dict(digest, password_hash=audit.REDACTED)
        old, new = (marker, digest) if secret_form == "digest" else (digest, marker)
        records.append(("update", "app_user", str(r.id), old, new))
    if secret_form == "digest":
        tokens = audit._table("api_token")
        for r in conn.execute(sa.select(tokens).order_by(tokens.c.id)):
            records.append(("create", "api_token", str(r.id), None, audit.row_snapshot("api_token", r)))
    audit.append(conn, audit.Actor(ACTOR), records)


def upgrade() -> None:
    _set_actions(CHANGES + ACCESS, 20)
    _chain_credentials("digest")


def downgrade() -> None:
    conn = op.get_bind()
    found = conn.execute(
        sa.text(f"SELECT count(*) FROM audit_entry WHERE action NOT IN {tuple(CHANGES)!r}")
    ).scalar()
    if found:
        raise RuntimeError(
            f"the audit trail holds {found} access events: revision 0004 cannot hold them "
            "(export them with `repigment audit export` first if you must go back)"
        )
    _chain_credentials("marker")
    _set_actions(CHANGES, 10)

"""Diary entries indexed by patient, time and id: the label check of every new entry reads the ids of
the patient's last 35 days in (time, id) order, which the single-column indexes answered by scanning the
patient's whole diary and sorting. The index on patient alone is dropped: the new one starts with it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index(
            "ix_application_patient_applied", ["patient_id", "applied_at", "id"], unique=False
        )
        batch_op.drop_index("ix_application_patient_id")


def downgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index("ix_application_patient_id", ["patient_id"], unique=False)
        batch_op.drop_index("ix_application_patient_applied")

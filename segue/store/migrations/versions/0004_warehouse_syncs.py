"""Warehouse sync history: one row per sync (requested, running or finished) of a warehouse.

One new table, so nothing needs SQLite's batch mode; it goes on downgrade, and warehouses keep
working without a history. Rows go with their warehouse (`ON DELETE CASCADE`).

Revision ID: 0004
Revises: 0003
Create Date: 2025-04-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
STATUS_CHECK = "status IN ('Pending', 'Running', 'Success', 'Partial', 'Failure')"


def upgrade() -> None:
    op.create_table(
        "warehouse_syncs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("warehouse_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("notices", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouse_syncs")),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"],
            name=op.f("fk_warehouse_syncs_warehouse_id_warehouses"), ondelete="CASCADE",
        ),
        sa.CheckConstraint(STATUS_CHECK, name=op.f("ck_warehouse_syncs_status")),
    )
    op.create_index(
        op.f("ix_warehouse_syncs_warehouse_id_created_at"), "warehouse_syncs", ["warehouse_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_warehouse_syncs_warehouse_id_created_at"), table_name="warehouse_syncs")
    op.drop_table("warehouse_syncs")

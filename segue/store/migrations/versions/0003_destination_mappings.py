"""Destination mappings: Actions-style subscriptions (trigger, action, fields) per instance.

One new table, so nothing needs SQLite's batch mode (which `render_as_batch` would give any
later ALTER); it goes on downgrade, and the destinations keep working without mappings.

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "destination_mappings",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("destination_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("position", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destination_mappings")),
        sa.ForeignKeyConstraint(
            ["destination_id"], ["destinations.id"],
            name=op.f("fk_destination_mappings_destination_id_destinations"), ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_destination_mappings_destination_id"), "destination_mappings", ["destination_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_destination_mappings_destination_id"), table_name="destination_mappings")
    op.drop_table("destination_mappings")

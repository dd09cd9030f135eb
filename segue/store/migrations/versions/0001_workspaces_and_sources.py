"""Workspaces and sources.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("plan", sa.String(16), nullable=False, server_default="free"),
        sa.Column("config_version", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        sa.UniqueConstraint("slug", name=op.f("uq_workspaces_slug")),
        sa.CheckConstraint("plan IN ('free', 'team', 'business')", name=op.f("ck_workspaces_plan")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("write_key", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_sources_workspace_id_workspaces"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint("workspace_id", "slug", name=op.f("uq_sources_workspace_id_slug")),
        sa.UniqueConstraint("write_key", name=op.f("uq_sources_write_key")),
        sa.CheckConstraint(
            "type IN ('javascript', 'python', 'node', 'ios', 'android', 'http')", name=op.f("ck_sources_type")
        ),
    )


def downgrade() -> None:
    op.drop_table("sources")
    op.drop_table("workspaces")

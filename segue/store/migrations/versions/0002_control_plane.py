"""The control plane: destinations and their filters, warehouses, users, API tokens, audit trail.

Only new tables, so nothing needs SQLite's batch mode; every table goes on downgrade.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
ROLE_CHECK = "role IN ('owner', 'member', 'read_only')"


def _id() -> sa.Column:
    return sa.Column("id", sa.String(32), nullable=False)


def _times() -> list[sa.Column]:
    return [sa.Column("created_at", TIMESTAMP, nullable=False), sa.Column("updated_at", TIMESTAMP, nullable=False)]


def _parent(table: str, column: str, parent: str) -> sa.ForeignKeyConstraint:
    name = op.f(f"fk_{table}_{column}_{parent}")
    return sa.ForeignKeyConstraint([column], [f"{parent}.id"], name=name, ondelete="CASCADE")


def _workspace(table: str) -> list:
    column = sa.Column("workspace_id", sa.String(32), nullable=False)
    return [column, _parent(table, "workspace_id", "workspaces")]


def upgrade() -> None:
    op.create_table(
        "destinations",
        _id(),
        *_workspace("destinations"),
        sa.Column("source_id", sa.String(32), nullable=False),
        sa.Column("catalog_slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secret_settings", sa.Text(), nullable=True),
        *_times(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destinations")),
        _parent("destinations", "source_id", "sources"),
        sa.UniqueConstraint("source_id", "name", name=op.f("uq_destinations_source_id_name")),
        sa.CheckConstraint("mode IN ('cloud', 'device')", name=op.f("ck_destinations_mode")),
    )
    op.create_index(op.f("ix_destinations_source_id"), "destinations", ["source_id"])
    op.create_table(
        "destination_filters",
        _id(),
        sa.Column("destination_id", sa.String(32), nullable=False),
        sa.Column("title", sa.String(64), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        *_times(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destination_filters")),
        _parent("destination_filters", "destination_id", "destinations"),
    )
    op.create_index(op.f("ix_destination_filters_destination_id"), "destination_filters", ["destination_id"])
    op.create_table(
        "warehouses",
        _id(),
        *_workspace("warehouses"),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secret_settings", sa.Text(), nullable=True),
        sa.Column("source_ids", sa.JSON(), nullable=True),
        sa.Column("selective_sync", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("sync_interval_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        *_times(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouses")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_warehouses_workspace_id_name")),
    )
    op.create_table(
        "users",
        _id(),
        *_workspace("users"),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        *_times(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        sa.CheckConstraint(ROLE_CHECK, name=op.f("ck_users_role")),
    )
    op.create_table(
        "api_tokens",
        _id(),
        *_workspace("api_tokens"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_api_tokens_workspace_id_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        sa.CheckConstraint(ROLE_CHECK, name=op.f("ck_api_tokens_role")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        *_workspace("audit_events"),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_audit_events_workspace_id_id"), "audit_events", ["workspace_id", "id"])
    op.create_index(op.f("ix_audit_events_resource_id"), "audit_events", ["resource_id"])


def downgrade() -> None:
    for table in ("audit_events", "api_tokens", "users", "warehouses", "destination_filters", "destinations"):
        op.drop_table(table)

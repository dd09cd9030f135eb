"""The config store's tables, as SQLAlchemy 2 typed ORM models, and how their keys are made.

Every table hangs off a workspace (destination filters and mappings through their destination);
deleting a row deletes what hangs off it (`ON DELETE CASCADE`): a source takes its destinations
along, a destination its filters and mappings. The workspace row carries `config_version`, the counter
that every config change bumps in its own transaction, so running processes notice changes by
reading one integer. Constraints have stable names (see `NAMING_CONVENTION`) so later
migrations, including SQLite batch migrations, can address them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import unicodedata
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

PLANS = ("free", "team", "business")
SOURCE_TYPES = ("javascript", "python", "node", "ios", "android", "http")
DESTINATION_MODES = ("cloud", "device")
ROLES = ("owner", "member", "read_only")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_ID_ALPHABET = string.ascii_lowercase + string.digits
_KEY_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 16) -> str:
    """A random id such as `src_3k9x...` (prefix, underscore, lowercase letters and digits)."""
    return f"{prefix}_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_write_key() -> str:
    """32 random URL-safe alphanumeric characters (about 190 bits)."""
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(32))


def slugify(name: str) -> str:
    """Lowercase ASCII (accents folded), every run of other characters one `-`, none at either end.

    A name with no ASCII letter or digit at all ("Сайт", "!!!") gets `n` and 8 hex digits of
    its hash: still deterministic, so a slug always finds its name again.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug or "n" + hashlib.sha1(name.strip().encode()).hexdigest()[:8]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every engine (SQLite drops the zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    """`created_at` and `updated_at`, set from Python in UTC."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)


class Workspace(Timestamped, Base):
    __tablename__ = "workspaces"
    __table_args__ = (_one_of("plan", PLANS, "plan"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("ws"))
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    plan: Mapped[str] = mapped_column(String(16), default="free", server_default="free")
    config_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class Source(Timestamped, Base):
    __tablename__ = "sources"
    __table_args__ = (
        UniqueConstraint("workspace_id", "slug", name="uq_sources_workspace_id_slug"),
        _one_of("type", SOURCE_TYPES, "type"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("src"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    write_key: Mapped[str] = mapped_column(String(64), unique=True, default=new_write_key)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())


class Destination(Timestamped, Base):
    """A catalog destination connected to one source; secrets kept apart, encrypted."""

    __tablename__ = "destinations"
    __table_args__ = (
        UniqueConstraint("source_id", "name", name="uq_destinations_source_id_name"),
        _one_of("mode", DESTINATION_MODES, "mode"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("dst"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    catalog_slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    secret_settings: Mapped[str | None] = mapped_column(Text)


class DestinationFilter(Timestamped, Base):
    """An FQL condition and what to do with the events it matches, for one destination."""

    __tablename__ = "destination_filters"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("df"))
    destination_id: Mapped[str] = mapped_column(ForeignKey("destinations.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(64))
    condition: Mapped[str] = mapped_column(Text)
    actions: Mapped[list] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())


class DestinationMapping(Timestamped, Base):
    """An Actions-style mapping (subscription): an FQL trigger, the action it calls and the
    mapping-kit fields merged over the event; a destination's mappings run in `position` order."""

    __tablename__ = "destination_mappings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("map"))
    destination_id: Mapped[str] = mapped_column(ForeignKey("destinations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(32))
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    position: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class Warehouse(Timestamped, Base):
    """A warehouse the loader syncs into; `source_ids` None means every source."""

    __tablename__ = "warehouses"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_warehouses_workspace_id_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("wh"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    engine: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    secret_settings: Mapped[str | None] = mapped_column(Text)
    source_ids: Mapped[list | None] = mapped_column(JSON(none_as_null=True))
    selective_sync: Mapped[dict] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    sync_interval_seconds: Mapped[int]
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())


class User(Timestamped, Base):
    """Someone who signs in to the app; only a scrypt hash of the password is kept."""

    __tablename__ = "users"
    __table_args__ = (_one_of("role", ROLES, "role"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("usr"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))


class ApiToken(Base):
    """A token for the REST API; only its SHA-256 and its first characters are kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_api_tokens_workspace_id_name"),
        _one_of("role", ROLES, "role"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("tok"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """One change to the configuration: who, when, what (never a secret value)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_workspace_id_id", "workspace_id", "id"),
        Index("ix_audit_events_resource_id", "resource_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

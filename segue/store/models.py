"""The config store's tables, as SQLAlchemy 2 typed ORM models, and how their keys are made.

Every table hangs off a workspace. The workspace row carries `config_version`, the counter
that every config change bumps in its own transaction, so running processes notice changes by
reading one integer. Constraints have stable names (see `NAMING_CONVENTION`) so later
migrations, including SQLite batch migrations, can address them.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    MetaData,
    String,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

PLANS = ("free", "team", "business")
SOURCE_TYPES = ("javascript", "python", "node", "ios", "android", "http")

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
    """Lowercase, every run of non-alphanumerics turned into one `-`, no `-` at either end."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


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

"""The warehouse engines Segue can load into, with their connection settings (catalog data only).

Each engine's settings are a `DestinationSettings` model, so the API validates, masks and
describes them with the same helpers as destination settings (`segue.destinations.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, SecretStr

from segue.destinations.contract import DestinationSettings
from segue.destinations.registry import monogram
from segue.destinations.settings import settings_fields
from segue.errors import NotFound


@dataclass(frozen=True)
class WarehouseEngine:
    """One warehouse engine: metadata and the model of its connection settings."""

    slug: str
    name: str
    description: str
    docs_url: str
    settings: type[DestinationSettings]
    status: str = "public"  # "public" | "beta"
    default_port: int | None = None


class DuckDBSettings(DestinationSettings):
    path: str = Field("", description="Database file; empty means `<data dir>/warehouse.duckdb`.")


class PostgresSettings(DestinationSettings):
    host: str = Field(min_length=1, description="Server host name or address.")
    port: int = Field(5432, ge=1, le=65535)
    database: str = Field(min_length=1, description="Database to load into.")
    user: str = Field(min_length=1, description="A user that may create schemas and tables in the database.")
    password: SecretStr = Field(description="The user's password.")
    sslmode: Literal["disable", "prefer", "require", "verify-full"] = Field(
        "prefer", title="SSL Mode", description="How strictly to use TLS (libpq's sslmode)."
    )


class MySQLSettings(DestinationSettings):
    host: str = Field(min_length=1, description="Server host name or address.")
    port: int = Field(3306, ge=1, le=65535)
    database: str = Field(min_length=1, description="Database to load into.")
    user: str = Field(min_length=1, description="A user that may create tables in the database.")
    password: SecretStr = Field(description="The user's password.")


class SnowflakeSettings(DestinationSettings):
    account: str = Field(min_length=1, description="Account identifier, e.g. `myorg-myaccount`.")
    warehouse: str = Field(min_length=1, description="Virtual warehouse that runs the loads.")
    database: str = Field(min_length=1, description="Database to load into.")
    user: str = Field(min_length=1, description="A user that may create schemas and tables in the database.")
    password: SecretStr | None = Field(None, description="The user's password (or use a private key).")
    private_key: SecretStr | None = Field(None, description="PEM private key for key-pair authentication.")
    role: str | None = Field(None, description="Role to use; the user's default role when empty.")


class RedshiftSettings(PostgresSettings):
    port: int = Field(5439, ge=1, le=65535)


ENGINES = (
    WarehouseEngine(
        slug="duckdb", name="DuckDB", settings=DuckDBSettings,
        description="An embedded analytics database in one file, next to Segue's own data: nothing to run.",
        docs_url="https://duckdb.org/docs/",
    ),
    WarehouseEngine(
        slug="postgres", name="PostgreSQL", settings=PostgresSettings, default_port=5432,
        description="Load events into a PostgreSQL database, one schema per source, in Segment's table layout.",
        docs_url="https://www.postgresql.org/docs/current/",
    ),
    WarehouseEngine(
        slug="mysql", name="MySQL", settings=MySQLSettings, default_port=3306,
        description="Load events into a MySQL database, one table set per source, in Segment's table layout.",
        docs_url="https://dev.mysql.com/doc/",
    ),
    WarehouseEngine(
        slug="snowflake", name="Snowflake", settings=SnowflakeSettings,
        description="Load events into a Snowflake database with password or key-pair authentication.",
        docs_url="https://docs.snowflake.com/",
    ),
    WarehouseEngine(
        slug="redshift", name="Amazon Redshift", settings=RedshiftSettings, status="beta", default_port=5439,
        description="Load events into an Amazon Redshift cluster over its PostgreSQL-compatible protocol.",
        docs_url="https://docs.aws.amazon.com/redshift/",
    ),
)

WAREHOUSE_ENGINES: dict[str, WarehouseEngine] = {engine.slug: engine for engine in ENGINES}


def get_engine(slug: str) -> WarehouseEngine:
    """The engine with this slug, or NotFound."""
    try:
        return WAREHOUSE_ENGINES[slug]
    except KeyError:
        raise NotFound(f"no warehouse engine {slug!r}; use one of: {', '.join(WAREHOUSE_ENGINES)}") from None


def serialize_engine(engine: WarehouseEngine) -> dict:
    """The API's JSON for one warehouse engine."""
    return {
        "slug": engine.slug,
        "name": engine.name,
        "description": engine.description,
        "status": engine.status,
        "docsUrl": engine.docs_url,
        "logo": monogram(engine.slug, engine.name),
        "settings": settings_fields(engine.settings),
    }

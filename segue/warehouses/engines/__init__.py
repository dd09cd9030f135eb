"""One module per warehouse engine behind `base.Engine`; drivers are imported lazily.

`open_engine(slug, **settings)` builds the engine for a catalog slug (`segue.warehouses.catalog`)
from plain connection settings, importing only that engine's module and driver.
"""

from __future__ import annotations

from importlib import import_module

from segue.errors import NotFound

_CLASSES = {
    "duckdb": ("segue.warehouses.engines.duckdb", "DuckDBEngine"),
    "postgres": ("segue.warehouses.engines.postgres", "PostgresEngine"),
    "redshift": ("segue.warehouses.engines.redshift", "RedshiftEngine"),
    "mysql": ("segue.warehouses.engines.mysql", "MySQLEngine"),
    "snowflake": ("segue.warehouses.engines.snowflake", "SnowflakeEngine"),
}


def open_engine(slug: str, **settings):
    """The engine for `slug`, connected with `settings` (the engine's catalog settings)."""
    try:
        module, name = _CLASSES[slug]
    except KeyError:
        raise NotFound(f"no warehouse engine {slug!r}; use one of: {', '.join(_CLASSES)}") from None
    return getattr(import_module(module), name)(**settings)

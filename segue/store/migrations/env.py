"""Alembic environment: runs on the connection Segue hands over (see segue.store.engine)."""

from alembic import context
from sqlalchemy import create_engine

from segue.store.engine import is_config_store_name, normalize_url
from segue.store.models import Base

config = context.config


def _configure_and_run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      include_name=is_config_store_name)
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Use the given connection; else `sqlalchemy.url` (for the `alembic` command line)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    engine = create_engine(normalize_url(config.get_main_option("sqlalchemy.url")))
    with engine.connect() as connection:
        _configure_and_run(connection)


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata, render_as_batch=True,
                      include_name=is_config_store_name)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()

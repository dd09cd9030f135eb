"""`Store`: the config store's one entry point (synchronous; async callers use to_thread).

A store works on one workspace, the default one (slug `default`), which `Store.open` creates.
Every write goes through `_writing()`, which first bumps that workspace's `config_version` in
the same transaction: running servers poll `config_version()` (one primary-key read) and
reload what they cache when it moves; on PostgreSQL the transaction also notifies them
(changes.py). That first UPDATE also queues the workspace's writers
one after the other (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: the workspace row's lock), so
checks made inside a write transaction (duplicate names, plan limits, the last owner) hold.

The commands live in mixins, one module per kind of object; each change also writes its audit
event in the same transaction. Secret settings pass through the store's `SecretBox`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy import Engine, bindparam, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from segue.config import Settings
from segue.errors import ConfigError, Conflict
from segue.store.audit import AuditCommands
from segue.store.changes import CHANNEL
from segue.store.common import UNSET, apply_changes
from segue.store.destinations import DestinationCommands
from segue.store.engine import BEGIN_MODE, downgrade, make_engine, upgrade
from segue.store.filters import FilterCommands
from segue.store.mappings import MappingCommands
from segue.store.models import Workspace, utcnow
from segue.store.secrets import SecretBox, load_secret_key
from segue.store.sources import SourceCommands
from segue.store.syncs import SyncCommands
from segue.store.users import UserCommands
from segue.store.warehouses import WarehouseCommands
from segue.store.workspace import WorkspaceCommands

DEFAULT_WORKSPACE = "default"
_VERSION_QUERY = select(Workspace.config_version).where(Workspace.id == bindparam("workspace_id"))


class Store(
    WorkspaceCommands,
    SourceCommands,
    DestinationCommands,
    FilterCommands,
    MappingCommands,
    WarehouseCommands,
    SyncCommands,
    UserCommands,
    AuditCommands,
):
    """Reads and changes Segue's configuration in SQLite or PostgreSQL."""

    def __init__(self, url: str, secret_box: SecretBox | None = None) -> None:
        self.url = url
        self.engine = _engine_or_config_error(url)
        self.secret_box = secret_box
        self._workspace_id: str | None = None

    @classmethod
    def open(cls, settings: Settings) -> "Store":
        """A ready store: data dir made, secret key loaded, schema migrated, default workspace present."""
        settings.ensure_data_dir()
        store = cls(settings.config_database_url, SecretBox(load_secret_key(settings)))
        try:
            store.migrate()
            store.ensure_default_workspace()
        except OperationalError as error:
            store.close()
            raise ConfigError(f"cannot open the config store at {store.safe_url}: {error.orig}") from error
        return store

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden."""
        return make_url(self.url).render_as_string(hide_password=True)

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to `revision`."""
        upgrade(self.engine, revision)

    def downgrade(self, revision: str = "base") -> None:
        """Downgrade the schema to `revision` (`base` drops every Segue table)."""
        downgrade(self.engine, revision)
        self._workspace_id = None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def config_version(self) -> int:
        """The counter every config change bumps (cheap enough to poll twice a second)."""
        with self.engine.connect() as connection:
            return connection.execute(_VERSION_QUERY, {"workspace_id": self.workspace_id}).scalar_one()

    @property
    def workspace_id(self) -> str:
        """The id of the workspace this store works on."""
        if self._workspace_id is None:
            self._workspace_id = self._find_workspace_id(DEFAULT_WORKSPACE)
        if self._workspace_id is None:
            raise ConfigError("the config store has no default workspace; open it with Store.open")
        return self._workspace_id

    def ensure_default_workspace(self) -> str:
        """Create the default workspace unless it exists; returns its id."""
        try:
            with self._immediate_session() as session:
                if self._find_workspace_id(DEFAULT_WORKSPACE, session) is None:
                    session.add(Workspace(name="Default", slug=DEFAULT_WORKSPACE))
        except IntegrityError:
            pass  # another process created it at the same moment
        return self.workspace_id

    def _find_workspace_id(self, slug: str, session: Session | None = None) -> str | None:
        query = select(Workspace.id).where(Workspace.slug == slug)
        if session is not None:
            return session.scalar(query)
        with self._reading() as reader:
            return reader.scalar(query)

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """A transaction that has already bumped the config version; commits on success."""
        workspace_id = self.workspace_id
        try:
            with self._immediate_session() as session:
                _bump_config_version(session, workspace_id)
                yield session
        except IntegrityError as error:
            raise Conflict("the change conflicts with the existing configuration") from error

    @contextmanager
    def _immediate_session(self) -> Iterator[Session]:
        with self.engine.connect() as connection:
            connection.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
            with Session(connection, expire_on_commit=False) as session, session.begin():
                yield session

    def _update(self, row: Any, values: dict[str, Any], secrets: Any = UNSET) -> list[str]:
        """Apply `values` (and `secrets`, unless UNSET) to `row`; returns the changed names."""
        changed = apply_changes(row, values)
        if secrets is not UNSET and secrets != self._unseal(row.secret_settings):
            row.secret_settings = self._seal(secrets)
            row.updated_at = utcnow()
            changed.append("secrets")
        return changed

    def _seal(self, values: dict) -> str | None:
        """The ciphertext of secret `values` (None when there are none)."""
        return self._box().encrypt(values) if values else None

    def _unseal(self, ciphertext: str | None) -> dict:
        """The secret values sealed in `ciphertext` ({} for None)."""
        return {} if ciphertext is None else self._box().decrypt(ciphertext)

    def _box(self) -> SecretBox:
        if self.secret_box is None:
            raise ConfigError(
                "this store was opened without a secret key, so it cannot save or read secrets; "
                "open it with Store.open(settings) or pass Store(url, secret_box=SecretBox(key))"
            )
        return self.secret_box


def _bump_config_version(session: Session, workspace_id: str) -> None:
    bump = {"config_version": Workspace.config_version + 1, "updated_at": utcnow()}
    session.execute(update(Workspace).where(Workspace.id == workspace_id).values(**bump))
    if session.get_bind().dialect.name == "postgresql":  # running nodes hear it at commit (changes.py)
        session.execute(select(func.pg_notify(CHANNEL, workspace_id)))


def _engine_or_config_error(url: str) -> Engine:
    try:
        return make_engine(url)
    except (ArgumentError, ValueError) as error:
        raise ConfigError("invalid database URL; expected sqlite:///PATH or postgresql://USER@HOST/DB") from error
    except ImportError as error:
        hint = " (pip install 'segue[postgres]')" if url.startswith("postgres") else ""
        raise ConfigError(f"no database driver for this URL: {error}{hint}") from error

"""Warehouses: where the loader lands events in Segment's table layout.

`source_ids` None syncs every source; a list syncs those (given by id, name or slug, stored as
ids; deleting a source takes it off every list). `selective_sync` holds the collections and
properties turned off, as the caller shapes it. The plan's warehouse limit is counted inside the
write transaction, which the store serializes per workspace, so concurrent creates cannot both
slip under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from segue.errors import ConfigError, Conflict, NotFound, PlanLimit
from segue.store.common import (
    UNSET,
    Record,
    change_details,
    given,
    require_bool,
    require_json,
    require_text,
    validate,
)
from segue.store.models import Warehouse, utcnow


def _interval(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError("sync_interval_seconds must be a whole number of seconds, at least 1")
    return value


def _source_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ConfigError("source_ids must be a list of source ids or names, or null for every source")
    return list(value)


_CHECKS = {
    "engine": lambda value: require_text(value, "a warehouse engine", 32),
    "name": lambda value: require_text(value, "a warehouse name", 100),
    "settings": lambda value: require_json(value, "warehouse settings", dict),
    "secrets": lambda value: require_json(value, "warehouse secrets", dict),
    "source_ids": _source_list,
    "selective_sync": lambda value: require_json({} if value is None else value, "selective_sync", dict),
    "sync_interval_seconds": _interval,
    "enabled": lambda value: require_bool(value, "enabled"),
}


@dataclass(frozen=True, slots=True)
class WarehouseRecord(Record):
    """One warehouse; `secrets` decrypted (and left out of `to_json()`)."""

    _hidden = ("secrets",)

    id: str
    workspace_id: str
    engine: str
    name: str
    settings: dict
    secrets: dict
    source_ids: list | None
    selective_sync: dict
    sync_interval_seconds: int
    enabled: bool
    created_at: datetime
    updated_at: datetime


class WarehouseCommands:
    """Create, find, change and delete the workspace's warehouses."""

    workspace_id: str  # provided by Store, as are _reading(), _writing(), _seal() and _unseal()

    def create_warehouse(
        self,
        *,
        engine: str,
        name: str,
        settings: dict,
        secrets: dict,
        source_ids: list[str] | None = None,
        selective_sync: dict | None = None,
        sync_interval_seconds: int,
        enabled: bool = True,
        max_warehouses: int | None,
        actor: str,
    ) -> WarehouseRecord:
        """A new warehouse; PlanLimit when the workspace already has `max_warehouses` (None: no limit)."""
        values = validate(
            dict(engine=engine, name=name, settings=settings, secrets=secrets, source_ids=source_ids,
                 selective_sync=selective_sync, sync_interval_seconds=sync_interval_seconds, enabled=enabled),
            _CHECKS,
        )  # fmt: skip
        secrets = values.pop("secrets")
        with self._writing() as session:
            self._refuse_over_limit(session, max_warehouses)
            self._refuse_duplicate_warehouse(session, values["name"])
            values["source_ids"] = self._source_ids(session, values["source_ids"])
            now = utcnow()
            row = Warehouse(workspace_id=self.workspace_id, **values, created_at=now, updated_at=now,
                            secret_settings=self._seal(secrets))  # fmt: skip
            session.add(row)
            session.flush()
            self._audit(session, actor, "warehouse.created", row.id, values)
            return self._warehouse_record(row)

    def list_warehouses(self) -> list[WarehouseRecord]:
        """Every warehouse of the workspace, oldest first."""
        query = self._warehouses_query().order_by(Warehouse.created_at, Warehouse.id)
        with self._reading() as session:
            return [self._warehouse_record(row) for row in session.scalars(query)]

    def get_warehouse(self, id_or_name: str) -> WarehouseRecord:
        """The warehouse with this id or name; NotFound otherwise."""
        with self._reading() as session:
            return self._warehouse_record(self._find_warehouse(session, id_or_name))

    def update_warehouse(
        self,
        id_or_name: str,
        *,
        actor: str,
        name: Any = UNSET,
        settings: Any = UNSET,
        secrets: Any = UNSET,
        source_ids: Any = UNSET,
        selective_sync: Any = UNSET,
        sync_interval_seconds: Any = UNSET,
        enabled: Any = UNSET,
    ) -> WarehouseRecord:
        """Change the given fields (`settings` and `secrets` are replaced whole)."""
        fields = given(name=name, settings=settings, secrets=secrets, source_ids=source_ids, enabled=enabled,
                       selective_sync=selective_sync, sync_interval_seconds=sync_interval_seconds)  # fmt: skip
        values = validate(fields, _CHECKS)
        secrets = values.pop("secrets", UNSET)
        with self._writing() as session:
            row = self._find_warehouse(session, id_or_name)
            if values.get("name", row.name) != row.name:
                self._refuse_duplicate_warehouse(session, values["name"])
            if "source_ids" in values:
                values["source_ids"] = self._source_ids(session, values["source_ids"])
            changed = self._update(row, values, secrets)
            session.flush()
            self._audit(session, actor, "warehouse.updated", row.id, change_details(changed, values))
            return self._warehouse_record(row)

    def delete_warehouse(self, id_or_name: str, *, actor: str) -> WarehouseRecord:
        """Delete the warehouse (not the data in it); returns what it was."""
        with self._writing() as session:
            row = self._find_warehouse(session, id_or_name)
            record = self._warehouse_record(row)
            session.delete(row)
            self._audit(session, actor, "warehouse.deleted", row.id, {"name": row.name, "engine": row.engine})
            return record

    def _warehouse_record(self, row: Warehouse) -> WarehouseRecord:
        return WarehouseRecord.from_row(row, secrets=self._unseal(row.secret_settings))

    def _warehouses_query(self):
        return select(Warehouse).where(Warehouse.workspace_id == self.workspace_id)

    def _find_warehouse(self, session: Session, id_or_name: str) -> Warehouse:
        match = or_(Warehouse.id == id_or_name, Warehouse.name == id_or_name)
        row = session.scalars(self._warehouses_query().where(match)).first()
        if row is None:
            raise NotFound(f"no warehouse with name or id {id_or_name!r}")
        return row

    def _refuse_over_limit(self, session: Session, max_warehouses: int | None) -> None:
        if max_warehouses is None:
            return
        count = session.scalar(select(func.count()).select_from(self._warehouses_query().subquery()))
        if count >= max_warehouses:
            raise PlanLimit(f"this workspace's plan allows {max_warehouses} warehouse(s)")

    def _refuse_duplicate_warehouse(self, session: Session, name: str) -> None:
        if session.scalar(self._warehouses_query().where(Warehouse.name == name)) is not None:
            raise Conflict(f"a warehouse named {name!r} already exists")

    def _source_ids(self, session: Session, names_or_ids: list[str] | None) -> list[str] | None:
        """The ids of the sources named (each must exist), in order, without repeats."""
        if names_or_ids is None:
            return None
        return list(dict.fromkeys(self._find_source(session, name).id for name in names_or_ids))

    def _forget_source(self, session: Session, source_id: str) -> None:
        """Take a deleted source off every warehouse's list."""
        for row in session.scalars(self._warehouses_query().where(Warehouse.source_ids.is_not(None))):
            if source_id in row.source_ids:
                self._update(row, {"source_ids": [kept for kept in row.source_ids if kept != source_id]})

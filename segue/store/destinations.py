"""Destinations: a catalog destination connected to one source, with its settings.

Public settings are stored as JSON; secret settings (API keys, tokens) are sealed by the store's
`SecretBox` and come back decrypted in `DestinationRecord.secrets`, which `to_json()` leaves
out. The store checks shapes and lengths only: whether a catalog slug exists or the settings
fit its schema is the caller's business (the catalog sits above the store).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from segue.errors import Conflict, NotFound
from segue.store.common import (
    UNSET,
    Record,
    change_details,
    given,
    require_bool,
    require_choice,
    require_json,
    require_text,
    validate,
)
from segue.store.models import DESTINATION_MODES, Destination, Source, utcnow

_CHECKS = {
    "name": lambda value: require_text(value, "a destination name", 100),
    "catalog_slug": lambda value: require_text(value, "a catalog slug", 64),
    "mode": lambda value: require_choice(value, "connection mode", DESTINATION_MODES),
    "enabled": lambda value: require_bool(value, "enabled"),
    "settings": lambda value: require_json(value, "destination settings", dict),
    "secrets": lambda value: require_json(value, "destination secrets", dict),
}


@dataclass(frozen=True, slots=True)
class DestinationRecord(Record):
    """One connected destination; `secrets` decrypted (and left out of `to_json()`)."""

    _hidden = ("secrets",)

    id: str
    workspace_id: str
    source_id: str
    catalog_slug: str
    name: str
    mode: str
    enabled: bool
    settings: dict
    secrets: dict
    created_at: datetime
    updated_at: datetime


class DestinationCommands:
    """Connect, find, change and disconnect the workspace's destinations."""

    workspace_id: str  # provided by Store, as are _reading(), _writing(), _seal() and _unseal()

    def create_destination(
        self,
        *,
        source_id: str,
        catalog_slug: str,
        name: str,
        mode: str,
        enabled: bool,
        settings: dict,
        secrets: dict,
        actor: str,
    ) -> DestinationRecord:
        """Connect a destination to the source with this id, name or slug."""
        values = validate(dict(catalog_slug=catalog_slug, name=name, mode=mode, enabled=enabled), _CHECKS)
        values["settings"], secrets = _CHECKS["settings"](settings), _CHECKS["secrets"](secrets)
        with self._writing() as session:
            source = self._find_source(session, source_id)
            self._refuse_duplicate_destination(session, source, values["name"])
            now = utcnow()
            row = Destination(workspace_id=self.workspace_id, source_id=source.id, **values, created_at=now,
                              updated_at=now, secret_settings=self._seal(secrets))  # fmt: skip
            session.add(row)
            session.flush()
            self._audit(session, actor, "destination.created", row.id, {"source_id": source.id, **values})
            return self._destination_record(row)

    def list_destinations(self, source_id: str | None = None) -> list[DestinationRecord]:
        """The workspace's destinations (of one source, by id, name or slug), oldest first."""
        with self._reading() as session:
            query = self._destinations_query()
            if source_id is not None:
                query = query.where(Destination.source_id == self._find_source(session, source_id).id)
            rows = session.scalars(query.order_by(Destination.created_at, Destination.id))
            return [self._destination_record(row) for row in rows]

    def get_destination(self, destination_id: str) -> DestinationRecord:
        """The destination with this id; NotFound otherwise."""
        with self._reading() as session:
            return self._destination_record(self._find_destination(session, destination_id))

    def update_destination(
        self,
        destination_id: str,
        *,
        actor: str,
        name: Any = UNSET,
        enabled: Any = UNSET,
        mode: Any = UNSET,
        settings: Any = UNSET,
        secrets: Any = UNSET,
    ) -> DestinationRecord:
        """Change the given fields (`settings` and `secrets` are replaced whole)."""
        values = validate(given(name=name, enabled=enabled, mode=mode, settings=settings, secrets=secrets), _CHECKS)
        secrets = values.pop("secrets", UNSET)
        with self._writing() as session:
            row = self._find_destination(session, destination_id)
            if values.get("name", row.name) != row.name:
                self._refuse_duplicate_destination(session, session.get(Source, row.source_id), values["name"])
            changed = self._update(row, values, secrets)
            session.flush()
            self._audit(session, actor, "destination.updated", row.id, change_details(changed, values))
            return self._destination_record(row)

    def delete_destination(self, destination_id: str, *, actor: str) -> DestinationRecord:
        """Disconnect the destination (its filters and mappings go too); returns what it was."""
        with self._writing() as session:
            row = self._find_destination(session, destination_id)
            record = self._destination_record(row)
            session.delete(row)
            self._audit(session, actor, "destination.deleted", row.id, {"name": row.name, "source_id": row.source_id})
            return record

    def _destination_record(self, row: Destination) -> DestinationRecord:
        return DestinationRecord.from_row(row, secrets=self._unseal(row.secret_settings))

    def _destinations_query(self):
        return select(Destination).where(Destination.workspace_id == self.workspace_id)

    def _find_destination(self, session: Session, destination_id: str) -> Destination:
        row = session.scalars(self._destinations_query().where(Destination.id == destination_id)).first()
        if row is None:
            raise NotFound(f"no destination with id {destination_id!r}")
        return row

    def _refuse_duplicate_destination(self, session: Session, source: Source, name: str) -> None:
        query = select(Destination.id).where(Destination.source_id == source.id, Destination.name == name)
        if session.scalar(query) is not None:
            raise Conflict(f"a destination named {name!r} is already connected to source {source.name!r}")

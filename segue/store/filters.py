"""Destination filters: an FQL condition and the actions taken on events that match it.

The store keeps the condition as text (at most 5 KB) and the actions as a JSON list; parsing
FQL and checking actions belong to the mapping layer, above the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from segue.errors import ConfigError, NotFound
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
from segue.store.models import Destination, DestinationFilter, utcnow

MAX_CONDITION_BYTES = 5 * 1024


def _condition(value: Any) -> str:
    condition = require_text(value, "a filter condition", MAX_CONDITION_BYTES)
    if len(condition.encode()) > MAX_CONDITION_BYTES:
        raise ConfigError(f"a filter condition may take at most {MAX_CONDITION_BYTES} bytes")
    return condition


_CHECKS = {
    "title": lambda value: require_text(value, "a filter title", 64),
    "condition": _condition,
    "actions": lambda value: require_json(value, "filter actions", list),
    "enabled": lambda value: require_bool(value, "enabled"),
}


@dataclass(frozen=True, slots=True)
class FilterRecord(Record):
    """One filter of one destination."""

    id: str
    destination_id: str
    title: str
    condition: str
    actions: list
    enabled: bool
    created_at: datetime
    updated_at: datetime


class FilterCommands:
    """Add, list, change and remove a destination's filters."""

    workspace_id: str  # provided by Store, as are _reading() and _writing()

    def create_filter(
        self, destination_id: str, *, title: str, condition: str, actions: list, enabled: bool = True, actor: str
    ) -> FilterRecord:
        """A new filter on the destination with this id."""
        values = validate(dict(title=title, condition=condition, actions=actions, enabled=enabled), _CHECKS)
        with self._writing() as session:
            destination = self._find_destination(session, destination_id)
            now = utcnow()
            row = DestinationFilter(destination_id=destination.id, **values, created_at=now, updated_at=now)
            session.add(row)
            session.flush()
            self._audit(session, actor, "filter.created", row.id, {"destination_id": destination.id, **values})
            return FilterRecord.from_row(row)

    def list_filters(self, destination_id: str) -> list[FilterRecord]:
        """The destination's filters, oldest first; NotFound for an unknown destination."""
        with self._reading() as session:
            self._find_destination(session, destination_id)
            query = select(DestinationFilter).where(DestinationFilter.destination_id == destination_id)
            rows = session.scalars(query.order_by(DestinationFilter.created_at, DestinationFilter.id))
            return [FilterRecord.from_row(row) for row in rows]

    def update_filter(
        self,
        filter_id: str,
        *,
        actor: str,
        title: Any = UNSET,
        condition: Any = UNSET,
        actions: Any = UNSET,
        enabled: Any = UNSET,
    ) -> FilterRecord:
        """Change the given fields of the filter."""
        values = validate(given(title=title, condition=condition, actions=actions, enabled=enabled), _CHECKS)
        with self._writing() as session:
            row = self._find_filter(session, filter_id)
            changed = self._update(row, values)
            session.flush()
            details = {"destination_id": row.destination_id, **change_details(changed, values)}
            self._audit(session, actor, "filter.updated", row.id, details)
            return FilterRecord.from_row(row)

    def delete_filter(self, filter_id: str, *, actor: str) -> FilterRecord:
        """Remove the filter; returns what it was."""
        with self._writing() as session:
            row = self._find_filter(session, filter_id)
            session.delete(row)
            details = {"destination_id": row.destination_id, "title": row.title}
            self._audit(session, actor, "filter.deleted", row.id, details)
            return FilterRecord.from_row(row)

    def _find_filter(self, session: Session, filter_id: str) -> DestinationFilter:
        query = (
            select(DestinationFilter)
            .join(Destination, Destination.id == DestinationFilter.destination_id)
            .where(Destination.workspace_id == self.workspace_id, DestinationFilter.id == filter_id)
        )
        row = session.scalars(query).first()
        if row is None:
            raise NotFound(f"no destination filter with id {filter_id!r}")
        return row

"""Destination filters: an FQL condition and the actions taken on events that match it.

The store keeps the condition as text (at most 5 KB) and the actions as a JSON list; parsing
FQL and checking actions belong to the mapping layer, above the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from segue.store.children import DestinationChildren
from segue.store.common import (
    UNSET,
    Record,
    given,
    require_bool,
    require_fql_text,
    require_json,
    require_text,
    validate,
)
from segue.store.models import DestinationFilter, utcnow

_CHECKS = {
    "title": lambda value: require_text(value, "a filter title", 64),
    "condition": lambda value: require_fql_text(value, "a filter condition"),
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


class FilterCommands(DestinationChildren):
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
        return self._update_child(DestinationFilter, FilterRecord, "filter", filter_id, values, actor)

    def delete_filter(self, filter_id: str, *, actor: str) -> FilterRecord:
        """Remove the filter; returns what it was."""
        return self._delete_child(DestinationFilter, FilterRecord, "filter", filter_id, "title", actor)

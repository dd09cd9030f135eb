"""Destination mappings (Actions-style subscriptions): a trigger, an action and mapping-kit fields.

The store keeps the trigger as text (at most 5 KB), the action's name and the fields as a JSON
object, and orders a destination's mappings by `position` (new ones go last). It checks shapes,
lengths and the 50-mappings limit (spec 4.3) inside the write transaction; parsing FQL, checking
fields and whether the destination has the action belong above the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from segue.errors import ConfigError
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
from segue.store.models import DestinationMapping, utcnow

MAX_MAPPINGS = 50
_CHECKS = {
    "name": lambda value: require_text(value, "a mapping name", 100),
    "trigger": lambda value: require_fql_text(value, "a mapping trigger"),
    "action": lambda value: require_text(value, "a mapping action", 32),
    "fields": lambda value: require_json(value, "mapping fields", dict),
    "enabled": lambda value: require_bool(value, "enabled"),
}


@dataclass(frozen=True, slots=True)
class MappingRecord(Record):
    """One mapping of one destination."""

    id: str
    destination_id: str
    name: str
    trigger: str
    action: str
    fields: dict
    enabled: bool
    position: int
    created_at: datetime
    updated_at: datetime


class MappingCommands(DestinationChildren):
    """Add, list, change, reorder and remove a destination's mappings."""

    workspace_id: str  # provided by Store, as are _reading(), _writing() and _find_destination()

    def create_mapping(
        self, destination_id: str, *, name: str, trigger: str, action: str, fields: dict, enabled: bool = True, actor: str
    ) -> MappingRecord:
        """A new mapping, last in the destination's order."""
        values = dict(name=name, trigger=trigger, action=action, fields=fields, enabled=enabled)
        return self.create_mappings(destination_id, [values], actor=actor)[0]

    def create_mappings(self, destination_id: str, mappings: Iterable[Mapping[str, Any]], *, actor: str) -> list[MappingRecord]:
        """Several new mappings in one transaction, in the order given, after the existing ones.

        Each item holds `name`, `trigger`, `action`, `fields` and optionally `enabled` (default true).
        """
        checked = [validate({"enabled": True, **item}, _CHECKS) for item in mappings]
        with self._writing() as session:
            destination = self._find_destination(session, destination_id)
            count, last = session.execute(_count_and_last(destination.id)).one()
            if count + len(checked) > MAX_MAPPINGS:
                raise ConfigError(f"a destination has at most {MAX_MAPPINGS} mappings; this one has {count}")
            start = -1 if last is None else last
            return [self._add_mapping(session, destination.id, start + 1 + index, values, actor)
                    for index, values in enumerate(checked)]  # fmt: skip

    def list_mappings(self, destination_id: str) -> list[MappingRecord]:
        """The destination's mappings in order; NotFound for an unknown destination."""
        with self._reading() as session:
            self._find_destination(session, destination_id)
            return [MappingRecord.from_row(row) for row in session.scalars(_ordered(destination_id))]

    def update_mapping(
        self,
        mapping_id: str,
        *,
        actor: str,
        name: Any = UNSET,
        trigger: Any = UNSET,
        action: Any = UNSET,
        fields: Any = UNSET,
        enabled: Any = UNSET,
    ) -> MappingRecord:
        """Change the given fields of the mapping (`fields` is replaced whole)."""
        values = validate(given(name=name, trigger=trigger, action=action, fields=fields, enabled=enabled), _CHECKS)
        return self._update_child(DestinationMapping, MappingRecord, "mapping", mapping_id, values, actor)

    def delete_mapping(self, mapping_id: str, *, actor: str) -> MappingRecord:
        """Remove the mapping; returns what it was."""
        return self._delete_child(DestinationMapping, MappingRecord, "mapping", mapping_id, "name", actor)

    def reorder_mappings(self, destination_id: str, mapping_ids: list[str], *, actor: str) -> list[MappingRecord]:
        """Put the destination's mappings in this order; `mapping_ids` must name each one once."""
        with self._writing() as session:
            destination = self._find_destination(session, destination_id)
            rows = {row.id: row for row in session.scalars(_ordered(destination.id))}
            if sorted(mapping_ids) != sorted(rows):
                raise ConfigError(f"a new order must name each of the destination's {len(rows)} mappings once")
            for position, mapping_id in enumerate(mapping_ids):
                self._update(rows[mapping_id], {"position": position})
            session.flush()
            self._audit(session, actor, "mapping.reordered", destination.id, {"order": list(mapping_ids)})
            return [MappingRecord.from_row(rows[mapping_id]) for mapping_id in mapping_ids]

    def _add_mapping(self, session: Session, destination_id: str, position: int, values: dict, actor: str) -> MappingRecord:
        now = utcnow()
        row = DestinationMapping(destination_id=destination_id, **values, position=position, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        self._audit(session, actor, "mapping.created", row.id, {"destination_id": destination_id, **values})
        return MappingRecord.from_row(row)


def _ordered(destination_id: str):
    query = select(DestinationMapping).where(DestinationMapping.destination_id == destination_id)
    return query.order_by(DestinationMapping.position, DestinationMapping.created_at, DestinationMapping.id)


def _count_and_last(destination_id: str):
    columns = (func.count(DestinationMapping.id), func.max(DestinationMapping.position))
    return select(*columns).where(DestinationMapping.destination_id == destination_id)

"""Destination mappings: Actions-style subscriptions of a destination instance (spec 4.3).

A mapping has a name, a trigger (FQL), an action (one of the destination's translations, named
after a Segment method) and mapping-kit `fields` merged over the event before the translation
sees it. A new instance gets its destination's presets as mappings (or, when its settings are
copied from another instance, that instance's mappings). Rules: at most 50 mappings per
instance; on the free and team plans a trigger has at most 2 conditions. Every error names the
field it is about (`trigger: invalid FQL at position 7: ...`).
"""

from __future__ import annotations

from typing import Any, Mapping

from segue.control.access import Actor, require_write
from segue.control.plans import check_trigger_conditions
from segue.control.views import mapping_view
from segue.errors import ConfigError, NotFound
from segue.mapping import fql
from segue.mapping.errors import FQLError, MappingError
from segue.mapping.kit import validate_mapping


def count_conditions(expression: fql.Expression) -> int:
    """The conditions of a trigger: each comparison, function call or value joined by and/or/!."""
    if isinstance(expression, (fql.And, fql.Or)):
        return sum(count_conditions(operand) for operand in expression.operands)
    if isinstance(expression, fql.Not):
        return count_conditions(expression.operand)
    return 1


class MappingUseCases:
    """List, create, change, reorder and delete a destination instance's mappings."""

    def list_mappings(self, destination_id: str) -> list[dict]:
        return [mapping_view(record) for record in self.store.list_mappings(self.store.get_destination(destination_id).id)]

    def create_mapping(
        self, actor: Actor, destination_id: str, *, name: str, trigger: str, action: str, fields: Mapping, enabled: bool = True
    ) -> dict:
        """A new mapping, last in the instance's order."""
        require_write(actor)
        record = self.store.get_destination(destination_id)
        self._check_mapping(record, name=name, trigger=trigger, action=action, fields=fields)
        created = self.store.create_mapping(
            record.id, name=name, trigger=trigger, action=action, fields=dict(fields), enabled=enabled, actor=actor.name
        )
        return mapping_view(created)

    def update_mapping(self, actor: Actor, destination_id: str, mapping_id: str, *, position: int | None = None,
                       **changes: Any) -> dict:  # fmt: skip
        """Change a mapping's name, trigger, action, fields or enabled flag (None leaves it);
        `position` moves it to that place (0 is first) in the instance's order."""
        require_write(actor)
        current = self._mapping(destination_id, mapping_id)
        given = {key: value for key, value in changes.items() if value is not None}
        merged = {"name": current.name, "trigger": current.trigger, "action": current.action, "fields": current.fields}
        merged.update((key, value) for key, value in given.items() if key in merged)
        self._check_mapping(self.store.get_destination(current.destination_id), **merged, check_plan="trigger" in given)
        updated = self.store.update_mapping(current.id, actor=actor.name, **given) if given else current
        if position is not None:
            updated = self._move(actor, updated, position)
        return mapping_view(updated)

    def delete_mapping(self, actor: Actor, destination_id: str, mapping_id: str) -> dict:
        """Remove a mapping (an instance left with none sends each event to its method's translation)."""
        require_write(actor)
        return mapping_view(self.store.delete_mapping(self._mapping(destination_id, mapping_id).id, actor=actor.name))

    def reorder_mappings(self, actor: Actor, destination_id: str, mapping_ids: list[str]) -> list[dict]:
        """Put the instance's mappings in this order (each id once)."""
        require_write(actor)
        record = self.store.get_destination(destination_id)
        return [mapping_view(item) for item in self.store.reorder_mappings(record.id, list(mapping_ids), actor=actor.name)]

    def _add_default_mappings(self, actor: Actor, record: Any, destination: Any, copy_from: str | None) -> None:
        """A new instance's mappings: the copied instance's, else the destination's presets."""
        if copy_from is not None:
            items = [
                dict(name=item.name, trigger=item.trigger, action=item.action, fields=item.fields, enabled=item.enabled)
                for item in self.store.list_mappings(self.store.get_destination(copy_from).id)
            ]
        else:
            items = [
                dict(name=preset.name, trigger=preset.trigger, action=preset.action, fields=dict(preset.fields))
                for preset in destination.presets
            ]
        if items:
            self.store.create_mappings(record.id, items, actor=actor.name)

    def _check_mapping(self, record: Any, *, name: Any, trigger: Any, action: Any, fields: Any, check_plan: bool = True) -> None:
        """ConfigError (or FQLError, MappingError, PlanLimit) naming the field that breaks a rule."""
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
            raise ConfigError("name: a mapping name needs 1 to 100 characters")
        expression = _parsed_trigger(trigger)
        if check_plan:
            check_trigger_conditions(self.plan, count_conditions(expression))
        destination = self.catalog.get(record.catalog_slug)
        if action not in destination.translations:
            choices = ", ".join(destination.methods)
            raise ConfigError(f"action: {destination.name} has no {action!r} action; use one of: {choices}")
        _check_fields(fields)

    def _mapping(self, destination_id: str, mapping_id: str) -> Any:
        for record in self.store.list_mappings(self.store.get_destination(destination_id).id):
            if record.id == mapping_id:
                return record
        raise NotFound(f"destination {destination_id!r} has no mapping {mapping_id!r}")

    def _move(self, actor: Actor, mapping: Any, position: int) -> Any:
        if position < 0:
            raise ConfigError("position: must be 0 (first) or more")
        order = [item.id for item in self.store.list_mappings(mapping.destination_id) if item.id != mapping.id]
        order.insert(min(position, len(order)), mapping.id)
        moved = self.store.reorder_mappings(mapping.destination_id, order, actor=actor.name)
        return next(item for item in moved if item.id == mapping.id)


def _parsed_trigger(trigger: Any) -> fql.Expression:
    if not isinstance(trigger, str) or not trigger.strip():
        raise ConfigError("trigger: a mapping needs a trigger in FQL, e.g. type = \"track\"")
    try:
        return fql.parse(trigger)
    except FQLError as error:
        raise FQLError(f"trigger: {error.message}", details=error.details) from None


def _check_fields(fields: Any) -> None:
    if not isinstance(fields, Mapping):
        raise ConfigError("fields: must be a JSON object of mapping-kit fields, e.g. {\"event\": {\"@path\": \"$.name\"}}")
    try:
        validate_mapping(dict(fields))
    except MappingError as error:
        raise MappingError(f"fields: {error.message}", details=error.details) from None

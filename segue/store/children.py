"""What filters and mappings share: rows that hang off a destination instance.

`DestinationChildren` is mixed into the filter and mapping commands; it finds a child row
within the workspace, changes it or deletes it, writing the audit row each time.
"""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from segue.errors import NotFound
from segue.store.common import change_details
from segue.store.models import Destination


class DestinationChildren:
    """Find, update and delete a destination's filter or mapping (mixed into Store)."""

    workspace_id: str  # provided by Store, as are _writing(), _update() and _audit()

    def _find_child(self, session: Session, model: type, child_id: str, kind: str) -> Any:
        query = (
            select(model)
            .join(Destination, Destination.id == model.destination_id)
            .where(Destination.workspace_id == self.workspace_id, model.id == child_id)
        )
        row = session.scalars(query).first()
        if row is None:
            raise NotFound(f"no destination {kind} with id {child_id!r}")
        return row

    def _update_child(self, model: type, record: type, kind: str, child_id: str, values: Mapping, actor: str) -> Any:
        """Change `values` of the child; audit `<kind>.updated` with what changed."""
        with self._writing() as session:
            row = self._find_child(session, model, child_id, kind)
            changed = self._update(row, values)
            session.flush()
            details = {"destination_id": row.destination_id, **change_details(changed, values)}
            self._audit(session, actor, f"{kind}.updated", row.id, details)
            return record.from_row(row)

    def _delete_child(self, model: type, record: type, kind: str, child_id: str, label: str, actor: str) -> Any:
        """Delete the child; audit `<kind>.deleted` naming it by its `label` field."""
        with self._writing() as session:
            row = self._find_child(session, model, child_id, kind)
            session.delete(row)
            details = {"destination_id": row.destination_id, label: getattr(row, label)}
            self._audit(session, actor, f"{kind}.deleted", row.id, details)
            return record.from_row(row)

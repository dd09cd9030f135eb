"""The audit trail: one row per configuration change, written in the change's own transaction.

Actions are `<resource type>.<verb>`, such as `source.created`, `destination.updated`,
`workspace.plan_changed` or `token.created`. Details name what changed and show new values,
never secret ones (see `common.SECRET_FIELDS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from segue.store.common import SECRET_FIELDS, Record
from segue.store.models import AuditEvent, utcnow

MAX_AUDIT_PAGE = 1000
_ACTOR_LENGTH = 100


@dataclass(frozen=True, slots=True)
class AuditRecord(Record):
    """One change: who made it, when, to what."""

    id: int
    at: datetime
    actor: str
    action: str
    resource_type: str
    resource_id: str
    details: dict


class AuditCommands:
    """Write and read the workspace's audit trail."""

    workspace_id: str  # provided by Store, as are _reading() and _writing()

    def list_audit(
        self, limit: int = 100, before_id: int | None = None, resource_id: str | None = None
    ) -> list[AuditRecord]:
        """The newest `limit` events (at most 1000), older than `before_id` when given."""
        query = select(AuditEvent).where(AuditEvent.workspace_id == self.workspace_id)
        if before_id is not None:
            query = query.where(AuditEvent.id < before_id)
        if resource_id is not None:
            query = query.where(AuditEvent.resource_id == resource_id)
        query = query.order_by(AuditEvent.id.desc()).limit(max(1, min(limit, MAX_AUDIT_PAGE)))
        with self._reading() as session:
            return [AuditRecord.from_row(row) for row in session.scalars(query)]

    def _audit(self, session: Session, actor: str, action: str, resource_id: str, details: dict | None = None) -> None:
        """Record `action` (`type.verb`) on `resource_id` by `actor`, in the caller's transaction."""
        details = {name: value for name, value in (details or {}).items() if name not in SECRET_FIELDS}
        event = AuditEvent(
            workspace_id=self.workspace_id,
            at=utcnow(),
            actor=(actor or "unknown")[:_ACTOR_LENGTH],
            action=action,
            resource_type=action.split(".", 1)[0],
            resource_id=resource_id,
            details=details,
        )
        session.add(event)

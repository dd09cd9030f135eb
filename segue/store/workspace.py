"""The workspace itself: its name, its plan and the config version every change bumps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from segue.store.common import Record, apply_changes, require_choice, require_text
from segue.store.models import PLANS, Workspace


@dataclass(frozen=True, slots=True)
class WorkspaceRecord(Record):
    """The workspace as the rest of Segue sees it."""

    id: str
    name: str
    slug: str
    plan: str
    config_version: int
    created_at: datetime
    updated_at: datetime


class WorkspaceCommands:
    """Read the workspace; change its plan or its name."""

    workspace_id: str  # provided by Store, as are _reading() and _writing()

    def get_workspace(self) -> WorkspaceRecord:
        with self._reading() as session:
            return WorkspaceRecord.from_row(self._workspace_row(session))

    def set_plan(self, plan: str, *, actor: str) -> WorkspaceRecord:
        """Move the workspace to another plan (free, team, business)."""
        require_choice(plan, "plan", PLANS)
        with self._writing() as session:
            row = self._workspace_row(session)
            before = row.plan
            apply_changes(row, {"plan": plan})
            self._audit(session, actor, "workspace.plan_changed", row.id, {"from": before, "to": plan})
            return WorkspaceRecord.from_row(row)

    def rename_workspace(self, name: str, *, actor: str) -> WorkspaceRecord:
        """Give the workspace a new display name (its slug stays)."""
        name = require_text(name, "a workspace name", 100)
        with self._writing() as session:
            row = self._workspace_row(session)
            before = row.name
            apply_changes(row, {"name": name})
            self._audit(session, actor, "workspace.renamed", row.id, {"from": before, "to": name})
            return WorkspaceRecord.from_row(row)

    def _workspace_row(self, session: Session) -> Workspace:
        return session.get_one(Workspace, self.workspace_id)

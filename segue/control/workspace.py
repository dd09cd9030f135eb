"""The workspace (its name and plan), its audit trail, its users and its API tokens."""

from __future__ import annotations

from segue.control.access import ROLES, Actor, require_owner, require_write
from segue.control.plans import rules_for, warehouse_limit_message
from segue.control.views import audit_view, token_view, user_view, workspace_view
from segue.errors import ConfigError, PlanLimit

MAX_AUDIT_PAGE = 1_000


class WorkspaceUseCases:
    """Workspace settings, plan changes, audit, users and tokens (mixed into ControlPlane)."""

    def get_workspace(self) -> dict:
        return workspace_view(self.store.get_workspace())

    def update_workspace(self, actor: Actor, *, name: str | None = None, plan: str | None = None) -> dict:
        """Rename the workspace (members) or change its plan (owners)."""
        require_write(actor)
        if plan is not None:
            self.set_plan(actor, plan)
        if name is not None:
            self.store.rename_workspace(name, actor=actor.name)
        return self.get_workspace()

    def set_plan(self, actor: Actor, plan: str) -> dict:
        """Change the plan; refused while the workspace uses more than the new plan allows."""
        require_owner(actor, "change the plan")
        rules = rules_for(plan)
        warehouses = self.store.list_warehouses()
        if rules.max_warehouses is not None and len(warehouses) > rules.max_warehouses:
            raise PlanLimit(f"{warehouse_limit_message(plan, rules.max_warehouses)}; delete warehouses first (there are {len(warehouses)})")
        for warehouse in warehouses:
            if warehouse.sync_interval_seconds < rules.min_sync_interval_seconds:
                self.store.update_warehouse(warehouse.id, actor=actor.name, sync_interval_seconds=rules.min_sync_interval_seconds)
        self.store.set_plan(plan, actor=actor.name)
        return self.get_workspace()

    def list_audit(self, limit: int = 100, before_id: int | None = None, resource_id: str | None = None) -> list[dict]:
        """The newest changes first: who changed what and when."""
        limit = max(1, min(limit, MAX_AUDIT_PAGE))
        records = self.store.list_audit(limit=limit, before_id=before_id, resource_id=resource_id)
        return [audit_view(record) for record in records]

    def list_users(self) -> list[dict]:
        return [user_view(record) for record in self.store.list_users()]

    def get_user(self, username: str) -> dict:
        return user_view(self.store.get_user(username))

    def create_user(self, actor: Actor, username: str, password: str, role: str = "member") -> dict:
        require_owner(actor, "add users")
        _check_role(role)
        return user_view(self.store.create_user(username, password, role, actor=actor.name))

    def set_user_role(self, actor: Actor, username: str, role: str) -> dict:
        require_owner(actor, "change roles")
        _check_role(role)
        return user_view(self.store.set_user_role(username, role, actor=actor.name))

    def set_user_password(self, actor: Actor, username: str, password: str) -> dict:
        """Owners set anyone's password; others only their own."""
        if actor.name != f"user:{username}":
            require_owner(actor, "set other users' passwords")
        return user_view(self.store.set_user_password(username, password, actor=actor.name))

    def delete_user(self, actor: Actor, username: str) -> dict:
        require_owner(actor, "remove users")
        return user_view(self.store.delete_user(username, actor=actor.name))

    def list_tokens(self) -> list[dict]:
        return [token_view(record) for record in self.store.list_tokens()]

    def create_token(self, actor: Actor, name: str, role: str = "member") -> dict:
        """A new API token; the plain token is in the result once and never again."""
        require_owner(actor, "create API tokens")
        _check_role(role)
        record, token = self.store.create_token(name, role, actor=actor.name)
        return {**token_view(record), "token": token}

    def delete_token(self, actor: Actor, ref: str) -> dict:
        require_owner(actor, "revoke API tokens")
        return token_view(self.store.delete_token(ref, actor=actor.name))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")

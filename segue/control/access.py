"""Who is acting, and what their role lets them do.

Roles: `owner` (everything, including the plan, users, tokens and Selective Sync), `member`
(every other change), `read_only` (reads only). The CLI acts as `OPERATOR`, an owner: whoever
can run it can already read the data dir.
"""

from __future__ import annotations

from dataclasses import dataclass

from segue.errors import Forbidden

ROLES = ("owner", "member", "read_only")


@dataclass(frozen=True, slots=True)
class Actor:
    """A user or API token acting on the workspace; `name` is what the audit trail shows."""

    name: str
    role: str

    @property
    def can_write(self) -> bool:
        return self.role in ("owner", "member")

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


OPERATOR = Actor("cli", "owner")


def require_write(actor: Actor) -> None:
    """Forbidden unless the actor may change the configuration."""
    if not actor.can_write:
        raise Forbidden(f"{actor.name} has the {actor.role} role, which cannot change anything")


def require_owner(actor: Actor, what: str) -> None:
    """Forbidden unless the actor is an owner; `what` names the action in the message."""
    if not actor.is_owner:
        raise Forbidden(f"only workspace owners can {what}; {actor.name} has the {actor.role} role")

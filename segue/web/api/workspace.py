"""`/workspace`, `/audit`, `/users` and `/tokens`: the workspace, its history and its people."""

from __future__ import annotations

from fastapi import APIRouter, Query

from segue.web.api.deps import ERRORS, Caller, Plane
from segue.web.api.schemas import (
    AuditEvent,
    NewToken,
    Token,
    TokenIn,
    User,
    UserChange,
    UserIn,
    Workspace,
    WorkspaceChange,
    envelope,
)

router = APIRouter(responses=ERRORS)
OneUser = envelope("user", User)
AuditList = envelope("auditEvents", list[AuditEvent])


@router.get("/workspace", response_model=envelope("workspace", Workspace), tags=["Workspace"])
def get_workspace(plane: Plane, caller: Caller):
    """The workspace, its plan and what the plan allows."""
    return {"data": {"workspace": plane.get_workspace()}}


@router.patch("/workspace", response_model=envelope("workspace", Workspace), tags=["Workspace"])
def update_workspace(body: WorkspaceChange, plane: Plane, caller: Caller):
    """Rename the workspace, or (owners) change its plan."""
    return {"data": {"workspace": plane.update_workspace(caller, name=body.name, plan=body.plan)}}


@router.get("/audit", response_model=AuditList, tags=["Workspace"])
def list_audit(
    plane: Plane,
    caller: Caller,
    limit: int = Query(100, ge=1, le=1000),
    before: int | None = Query(None, ge=1, le=2**62, description="Only events with a smaller id (next page)."),
    resourceId: str | None = Query(None, max_length=100),
):
    """Who changed what and when, newest first."""
    return {"data": {"auditEvents": plane.list_audit(limit=limit, before_id=before, resource_id=resourceId)}}


router.add_api_route("/audit-events", list_audit, response_model=AuditList, include_in_schema=False)


@router.get("/users", response_model=envelope("users", list[User]), tags=["Users"])
def list_users(plane: Plane, caller: Caller):
    """Everyone who can sign in to the app."""
    return {"data": {"users": plane.list_users()}}


@router.post("/users", response_model=OneUser, status_code=201, tags=["Users"])
def create_user(body: UserIn, plane: Plane, caller: Caller):
    """Add a user (owners only)."""
    return {"data": {"user": plane.create_user(caller, body.username, body.password, body.role)}}


@router.patch("/users/{username}", response_model=OneUser, tags=["Users"])
def update_user(username: str, body: UserChange, plane: Plane, caller: Caller):
    """Change a user's role (owners) or password (owners, or the user themself)."""
    user = None
    if body.role is not None:
        user = plane.set_user_role(caller, username, body.role)
    if body.password is not None:
        user = plane.set_user_password(caller, username, body.password)
    return {"data": {"user": user or plane.get_user(username)}}


@router.delete("/users/{username}", response_model=OneUser, tags=["Users"])
def delete_user(username: str, plane: Plane, caller: Caller):
    """Remove a user (owners only; never the last owner)."""
    return {"data": {"user": plane.delete_user(caller, username)}}


@router.get("/tokens", response_model=envelope("tokens", list[Token]), tags=["Tokens"])
def list_tokens(plane: Plane, caller: Caller):
    """API tokens (their names and prefixes, never the tokens)."""
    return {"data": {"tokens": plane.list_tokens()}}


@router.post("/tokens", response_model=envelope("token", NewToken), status_code=201, tags=["Tokens"])
def create_token(body: TokenIn, plane: Plane, caller: Caller):
    """A new API token (owners only); the response is the only time it is shown."""
    return {"data": {"token": plane.create_token(caller, body.name, body.role)}}


@router.delete("/tokens/{tokenId}", response_model=envelope("revokedToken", Token), tags=["Tokens"])
def delete_token(tokenId: str, plane: Plane, caller: Caller):
    """Revoke an API token."""
    return {"data": {"revokedToken": plane.delete_token(caller, tokenId)}}

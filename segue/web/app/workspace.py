"""Settings: the workspace's plan, its users and roles, API tokens and the audit trail."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segue.control import ROLES
from segue.control.plans import PLAN_RULES
from segue.errors import ConfigError
from segue.web.app.render import actor, flash, form, page, plane, redirect

AUDIT_ROWS = 50


def settings_page(request: Request, error: str | None = None, new_token: dict | None = None, status: int = 200) -> Response:
    control = plane(request)
    return page(
        request, "settings.html", status=status, nav="settings", workspace=control.get_workspace(),
        plans=PLAN_RULES, roles=ROLES, users=control.list_users(), tokens=control.list_tokens(),
        audit=control.list_audit(limit=AUDIT_ROWS), error=error, new_token=new_token,
    )


def change_plan(request: Request) -> Response:
    return _act(request, lambda: plane(request).set_plan(actor(request), form(request).get("plan", "")), "Plan changed.")


def add_user(request: Request) -> Response:
    values = form(request)
    return _act(request, lambda: plane(request).create_user(
        actor(request), values.get("username", "").strip(), values.get("password", ""), values.get("role", "member")
    ), f"User {values.get('username', '')} added.")


def remove_user(request: Request) -> Response:
    username = request.path_params["username"]
    return _act(request, lambda: plane(request).delete_user(actor(request), username), f"User {username} removed.")


def create_token(request: Request) -> Response:
    values = form(request)
    try:
        token = plane(request).create_token(actor(request), values.get("name", "").strip(), values.get("role", "member"))
    except ConfigError as error:
        return settings_page(request, error=error.message, status=error.status)
    return settings_page(request, new_token=token)


def revoke_token(request: Request) -> Response:
    token_id = request.path_params["token_id"]
    return _act(request, lambda: plane(request).delete_token(actor(request), token_id), "Token revoked.")


def _act(request: Request, change, done: str) -> Response:
    """Run a change; back to the settings page with a message, or with the refusal shown."""
    try:
        change()
    except ConfigError as error:
        return settings_page(request, error=error.message, status=error.status)
    flash(request, done)
    return redirect(request, "/settings")


ROUTES = [
    Route("/settings", settings_page, methods=["GET"]),
    Route("/settings/plan", change_plan, methods=["POST"]),
    Route("/settings/users", add_user, methods=["POST"]),
    Route("/settings/users/{username}/delete", remove_user, methods=["POST"]),
    Route("/settings/tokens", create_token, methods=["POST"]),
    Route("/settings/tokens/{token_id}/delete", revoke_token, methods=["POST"]),
]

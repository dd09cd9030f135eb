"""`segue users ...` (who signs in to the app) and `segue tokens ...` (who calls the REST API).

Passwords never appear on the command line: they are prompted for (hidden, twice) or read
from stdin with `--password-stdin`. An API token is printed once, when it is created; only
its hash is kept.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from segue.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonFlag,
    Role,
    bold,
    console,
    control_plane,
    day,
    group,
    minute,
    new_table,
    operator,
    print_json,
    print_json_lines,
    report,
    say,
)
from segue.errors import ConfigError

users_app = group("Add and manage the people who sign in to the app.")
tokens_app = group("Create and revoke API tokens for the REST API.")

Username = Annotated[str, typer.Argument(help="The user's name (what they sign in with).")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin (its first line) instead of prompting.")
]


def read_password(from_stdin: bool) -> str:
    """The password from stdin's first line, or prompted for twice without echo."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ConfigError("--password-stdin read an empty password")
        return password
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


# ---- users -----------------------------------------------------------------------------------


@users_app.command("create")
def users_create(
    username: Username,
    role: Annotated[Role, typer.Option("--role", help="owner: everything; member: every other change; read_only: reads only.")] = "member",
    password_stdin: PasswordStdin = False,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a user who can sign in to the app."""
    password = read_password(password_stdin)
    with control_plane(data_dir, database_url) as plane:
        view = plane.create_user(operator(), username, password, role)
    report(view, as_json, f"Created user {bold(view['username'])} ({view['role']}).")


@users_app.command("list")
def users_list(as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List the users and their roles."""
    with control_plane(data_dir, database_url) as plane:
        views = plane.list_users()
    if as_json:
        return print_json_lines(views)
    if not views:
        return console().print("No users yet. Add one with: segue users create USERNAME --role owner", markup=False)
    table = new_table("Username", "Role", "Id", "Created")
    for view in views:
        table.add_row(escape(view["username"]), view["role"], view["id"], day(view["createdAt"]))
    console().print(table)


@users_app.command("set-role")
def users_set_role(
    username: Username,
    role: Annotated[Role, typer.Argument(help="The new role: owner, member or read_only.")],
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change a user's role."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.set_user_role(operator(), username, role)
    report(view, as_json, f"{bold(view['username'])} is now {view['role']}.")


@users_app.command("set-password")
def users_set_password(
    username: Username,
    password_stdin: PasswordStdin = False,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Set a user's password (prompted for twice, or read from stdin)."""
    password = read_password(password_stdin)
    with control_plane(data_dir, database_url) as plane:
        view = plane.set_user_password(operator(), username, password)
    report(view, as_json, f"Set the password of {bold(view['username'])}.")


@users_app.command("delete")
def users_delete(username: Username, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Remove a user (the last owner cannot be removed)."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.delete_user(operator(), username)
    report(view, as_json, f"Deleted user {bold(view['username'])}.")


# ---- tokens ----------------------------------------------------------------------------------


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. terraform (shown in the audit trail).")],
    role: Annotated[Role, typer.Option("--role", help="What the token may do: owner, member or read_only.")] = "member",
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API token and print it (once: only its hash is kept)."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.create_token(operator(), name, role)
    if as_json:
        return print_json(view)
    say(f"Created API token {bold(view['name'])} ({view['role']}). Copy it now, it will not be shown again:")
    typer.echo(view["token"])


@tokens_app.command("list")
def tokens_list(as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List the API tokens (their first characters only)."""
    with control_plane(data_dir, database_url) as plane:
        views = plane.list_tokens()
    if as_json:
        return print_json_lines(views)
    if not views:
        return console().print("No API tokens yet. Create one with: segue tokens create NAME", markup=False)
    table = new_table("Id", "Name", "Role", "Starts with", "Created by", "Created", "Last used")
    for view in views:
        last_used = minute(view["lastUsedAt"]) if view["lastUsedAt"] else "never"
        cells = (view["id"], view["name"], view["role"], f"{view['prefix']}…", view["createdBy"], day(view["createdAt"]), last_used)
        table.add_row(*(escape(str(text)) for text in cells))
    console().print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    token: Annotated[str, typer.Argument(help="The token's id or name.")],
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke an API token: it stops working at once."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.delete_token(operator(), token)
    report(view, as_json, f"Revoked API token {bold(view['name'])}.")

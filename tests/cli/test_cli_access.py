"""`segue users ...`, `segue tokens ...` and `segue secret-key generate`."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from segue.errors import SegueError

PASSWORD = "correct horse battery"


def test_create_user_from_stdin_and_list(segue):
    created = segue.one("users", "create", "alice", "--role", "owner", "--password-stdin", input=PASSWORD + "\n")
    assert (created["username"], created["role"]) == ("alice", "owner")
    assert "password" not in created and PASSWORD not in segue.ok("audit", "--json").stdout
    assert segue.json_lines("users", "list") == [created]
    assert "alice" in segue.ok("users", "list").stdout
    with segue.store() as store:
        assert store.authenticate("alice", PASSWORD).username == "alice"


def test_create_user_prompts_twice_without_echo(segue):
    result = segue.ok("users", "create", "bob", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert "Created user bob (member)" in result.stdout and PASSWORD not in result.stdout
    mismatch = segue("users", "create", "carol", input=f"{PASSWORD}\nsomething else\n")
    assert mismatch.exit_code != 0
    assert [user["username"] for user in segue.json_lines("users", "list")] == ["bob"]


def test_password_rules(segue):
    assert "8" in segue.fails("users", "create", "dave", "--password-stdin", input="short\n")
    assert "empty password" in segue.fails("users", "create", "dave", "--password-stdin", input="\n")


def test_set_role_set_password_delete(segue):
    segue.ok("users", "create", "alice", "--role", "owner", "--password-stdin", input=PASSWORD)
    segue.ok("users", "create", "bob", "--password-stdin", input=PASSWORD)
    assert segue.one("users", "set-role", "bob", "read_only")["role"] == "read_only"
    assert "Set the password of bob" in segue.ok("users", "set-password", "bob", "--password-stdin", input="another password").stdout
    assert "Set the password of bob" in segue.ok("users", "set-password", "bob", input="third password\nthird password\n").stdout
    assert "last owner" in segue.fails("users", "set-role", "alice", "member")
    assert "last owner" in segue.fails("users", "delete", "alice")
    assert "Deleted user bob" in segue.ok("users", "delete", "bob").stdout
    assert [user["username"] for user in segue.json_lines("users", "list")] == ["alice"]


def test_unknown_user_and_role(segue):
    assert "nobody" in segue.fails("users", "delete", "nobody")
    assert segue("users", "create", "x", "--role", "admin", "--password-stdin", input=PASSWORD).exit_code == 2


def test_token_json_authenticates(segue):
    created = segue.one("tokens", "create", "ci", "--role", "read_only")
    assert created["token"] and created["token"].startswith(created["prefix"])
    assert (created["name"], created["role"], created["createdBy"]) == ("ci", "read_only", "cli")
    with segue.store() as store:
        found = store.token_for(created["token"])
    assert found is not None and (found.id, found.role) == (created["id"], "read_only")


def test_token_human_output_warns_it_is_shown_once(segue):
    output = segue.ok("tokens", "create", "deploy").stdout
    assert "will not be shown again" in output
    token = output.splitlines()[-1]
    with segue.store() as store:
        assert store.token_for(token).role == "member"


def test_token_list_never_shows_the_token(segue):
    created = segue.one("tokens", "create", "ci")
    [listed] = segue.json_lines("tokens", "list")
    assert "token" not in listed and listed["id"] == created["id"]
    for output in (segue.ok("tokens", "list").stdout, segue.ok("audit", "--json").stdout, segue.ok("audit").stdout):
        assert created["token"] not in output
    assert "ci" in segue.ok("tokens", "list").stdout


@pytest.mark.parametrize("ref", ["id", "name"])
def test_revoke_by_id_or_name(segue, ref):
    created = segue.one("tokens", "create", "ci")
    revoked = segue.one("tokens", "revoke", created[ref])
    assert revoked["id"] == created["id"]
    assert segue.json_lines("tokens", "list") == []
    with segue.store() as store:
        assert store.token_for(created["token"]) is None
    assert "ci" in segue.fails("tokens", "revoke", "ci")


def test_empty_lists_say_how_to_add(segue):
    assert "segue users create" in segue.ok("users", "list").stdout
    assert "segue tokens create" in segue.ok("tokens", "list").stdout


def test_secret_key_generate_prints_a_fernet_key(segue):
    first = segue.ok("secret-key", "generate").stdout.strip()
    second = segue.ok("secret-key", "generate").stdout.strip()
    assert first != second and len(first) == 44
    Fernet(first.encode())  # a valid key


def test_generated_key_works_as_segue_secret_key(segue, web):
    env = {"SEGUE_SECRET_KEY": segue.ok("secret-key", "generate").stdout.strip()}
    flags = ("--setting", "url=http://x.test/", "--setting", "sharedSecret=abc123abc123abc", "--json")
    created = json.loads(segue.ok("destinations", "create", "webhook", "--source", "web", *flags, env=env).stdout)
    assert segue.ok("destinations", "show", created["id"], env=env).stdout
    with segue.store() as store:  # the key file in the data dir is another key
        with pytest.raises(SegueError, match="SEGUE_SECRET_KEY"):
            store.get_destination(created["id"])

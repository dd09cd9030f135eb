"""Users and API tokens in the config store, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from segue.errors import ConfigError, NotFound
from segue.store import TokenRecord, UserRecord
from segue.store.models import ApiToken, utcnow
from tests.store.conftest import raw_database_bytes

PASSWORD = "correct horse battery"


def test_create_get_and_list_users(store):
    alice = store.create_user("alice@example.com", PASSWORD, "owner", actor="setup")
    bob = store.create_user("bob", PASSWORD, "read_only", actor="alice")
    assert re.fullmatch(r"usr_[a-z0-9]{16}", alice.id)
    assert (alice.username, alice.role) == ("alice@example.com", "owner")
    assert set(UserRecord.__dataclass_fields__) == {"id", "username", "role", "created_at", "updated_at"}
    assert store.get_user("bob") == bob == store.get_user(bob.id)
    assert store.list_users() == [alice, bob]
    assert store.list_audit(limit=1)[0].details == {"username": "bob", "role": "read_only"}
    with pytest.raises(NotFound):
        store.get_user("carol")


@pytest.mark.parametrize(
    "username, password, role, message",
    [
        ("", PASSWORD, "owner", "username needs 1 to 64"),
        ("a" * 65, PASSWORD, "owner", "username needs 1 to 64"),
        ("bob smith", PASSWORD, "owner", "letters, digits"),
        ("bob", "short", "owner", "password needs 8"),
        ("bob", PASSWORD, "admin", "unknown role 'admin'; use one of: owner, member, read_only"),
    ],
)
def test_create_user_rejects_bad_values(store, username, password, role, message):
    with pytest.raises(ConfigError, match=message):
        store.create_user(username, password, role, actor="setup")
    assert store.list_users() == []


def test_usernames_are_unique(store):
    store.create_user("bob", PASSWORD, "member", actor="setup")
    with pytest.raises(ConfigError, match="the username 'bob' is taken"):
        store.create_user("bob", PASSWORD, "owner", actor="setup")


def test_authenticate_checks_the_password(store):
    bob = store.create_user("bob", PASSWORD, "member", actor="setup")
    assert store.authenticate("bob", PASSWORD) == bob
    assert store.authenticate("bob", PASSWORD + "!") is None
    assert store.authenticate("nobody", PASSWORD) is None


def test_set_password_replaces_the_old_one(store):
    store.create_user("bob", PASSWORD, "member", actor="setup")
    store.set_user_password("bob", "a brand new one", actor="bob")
    assert store.authenticate("bob", PASSWORD) is None
    assert store.authenticate("bob", "a brand new one").username == "bob"
    event = store.list_audit(limit=1)[0]
    assert (event.action, event.details) == ("user.password_changed", {"changed": ["password"]})
    with pytest.raises(ConfigError, match="password needs 8"):
        store.set_user_password("bob", "short", actor="bob")


def test_the_last_owner_can_be_neither_demoted_nor_deleted(store):
    store.create_user("alice", PASSWORD, "owner", actor="setup")
    bob = store.create_user("bob", PASSWORD, "member", actor="setup")
    with pytest.raises(ConfigError, match="cannot demote the last owner"):
        store.set_user_role("alice", "member", actor="alice")
    with pytest.raises(ConfigError, match="cannot delete the last owner"):
        store.delete_user("alice", actor="alice")
    assert store.set_user_role("bob", "owner", actor="alice").role == "owner"
    assert store.set_user_role("alice", "member", actor="bob").role == "member"
    assert store.delete_user("alice", actor="bob").username == "alice"
    assert [user.id for user in store.list_users()] == [bob.id]
    with pytest.raises(NotFound):
        store.delete_user("alice", actor="bob")


def test_ensure_owner_creates_the_first_owner_once(store):
    generated = store.ensure_owner("admin", None)
    assert generated is not None and len(generated) == 20
    assert store.authenticate("admin", generated).role == "owner"
    assert store.ensure_owner("admin", None) is None
    assert store.ensure_owner("other", "given password") is None
    assert [user.username for user in store.list_users()] == ["admin"]
    assert store.list_audit(limit=1)[0].actor == "system"


def test_ensure_owner_with_a_given_password_returns_none(store):
    assert store.ensure_owner("root", "given password") is None
    assert store.authenticate("root", "given password").role == "owner"


def test_passwords_are_never_stored(store):
    store.create_user("bob", PASSWORD, "member", actor="setup")
    store.set_user_password("bob", "second secret words", actor="bob")
    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("scrypt$16384$8$1$")
    raw = raw_database_bytes(store)
    assert PASSWORD.encode() not in raw and b"second secret words" not in raw


# ---- API tokens ------------------------------------------------------------------------------


def test_create_token_returns_the_plain_token_once(store):
    record, token = store.create_token("deploy bot", "member", actor="alice")
    assert re.fullmatch(r"sgt_[A-Za-z0-9_-]{40}", token)
    assert re.fullmatch(r"tok_[a-z0-9]{16}", record.id)
    assert (record.name, record.role, record.prefix, record.created_by) == ("deploy bot", "member", token[:12], "alice")
    assert record.last_used_at is None
    fields = {"id", "name", "role", "prefix", "created_by", "created_at", "last_used_at"}
    assert set(TokenRecord.__dataclass_fields__) == fields
    assert store.list_tokens() == [record]
    assert token not in repr(store.list_audit()) and token not in repr(record.to_json())


def test_tokens_are_looked_up_by_their_hash(store):
    record, token = store.create_token("ci", "read_only", actor="alice")
    found = store.token_for(token)
    assert found.id == record.id and found.last_used_at is not None
    assert store.token_for(token + "x") is None
    assert store.token_for("") is None
    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM api_tokens")).scalar_one()
    assert re.fullmatch(r"[0-9a-f]{64}", stored) and stored != token


def test_the_plain_token_is_never_stored(store):
    _, token = store.create_token("ci", "member", actor="alice")
    store.token_for(token)
    raw = raw_database_bytes(store)
    assert token.encode() not in raw and token[12:].encode() not in raw


def test_token_use_is_recorded_at_most_once_a_minute_without_a_config_change(store):
    record, token = store.create_token("ci", "member", actor="alice")
    version = store.config_version()
    first = store.token_for(token).last_used_at
    assert store.token_for(token).last_used_at == first
    assert store.list_tokens()[0].last_used_at == first
    earlier = utcnow() - timedelta(minutes=2)
    with store._immediate_session() as session:
        session.execute(update(ApiToken).where(ApiToken.id == record.id).values(last_used_at=earlier))
    assert store.token_for(token).last_used_at > first
    assert store.config_version() == version


def test_delete_token_by_name_or_id(store):
    first, token = store.create_token("one", "member", actor="alice")
    second, _ = store.create_token("two", "owner", actor="alice")
    assert store.delete_token("one", actor="bob") == first
    assert store.token_for(token) is None
    assert store.delete_token(second.id, actor="bob").name == "two"
    with pytest.raises(NotFound):
        store.delete_token("one", actor="bob")
    assert [event.action for event in store.list_audit(limit=2)] == ["token.deleted", "token.deleted"]


def test_token_names_are_unique_and_roles_checked(store):
    store.create_token("ci", "member", actor="alice")
    with pytest.raises(ConfigError, match="a token named 'ci' already exists"):
        store.create_token("ci", "member", actor="alice")
    with pytest.raises(ConfigError, match="unknown role"):
        store.create_token("other", "root", actor="alice")
    with pytest.raises(ConfigError, match="token name needs 1 to 100"):
        store.create_token(" ", "member", actor="alice")

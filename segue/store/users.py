"""Users (sign in to the app) and API tokens (call the REST API), each with a role.

Only hashes are stored: scrypt for passwords, SHA-256 for tokens (see `credentials`). The last
owner can be neither deleted nor demoted, so a workspace always has someone who can manage it.
Token use is recorded in `last_used_at` at most once a minute, outside the config version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from segue.errors import ConfigError, Conflict, NotFound
from segue.store.common import Record, apply_changes, require_choice, require_text
from segue.store.credentials import (
    hash_password,
    hash_token,
    new_api_token,
    new_password,
    verify_password,
    waste_password_check,
)
from segue.store.models import ROLES, ApiToken, User, utcnow

USERNAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
TOKEN_PREFIX_LENGTH = 12
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class UserRecord(Record):
    """A user, without the password hash."""

    id: str
    username: str
    role: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TokenRecord(Record):
    """An API token, without the token: `prefix` is its first characters, for recognising it."""

    id: str
    name: str
    role: str
    prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None


def _username(value: str) -> str:
    if not isinstance(value, str) or not USERNAME.fullmatch(value):
        raise ConfigError("a username needs 1 to 64 characters: letters, digits and _ . @ -")
    return value


def _password(value: str) -> str:
    if not isinstance(value, str) or not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise ConfigError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return value


class UserCommands:
    """Users, their passwords and roles; API tokens."""

    workspace_id: str  # provided by Store, as are _reading() and _writing()

    def create_user(self, username: str, password: str, role: str, *, actor: str) -> UserRecord:
        """A new user; ConfigError for a taken or malformed username, a short password, a bad role."""
        username, password_hash = _username(username), hash_password(_password(password))
        require_choice(role, "role", ROLES)
        with self._writing() as session:
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                raise Conflict(f"the username {username!r} is taken")
            now = utcnow()
            row = User(workspace_id=self.workspace_id, username=username, password_hash=password_hash, role=role,
                       created_at=now, updated_at=now)  # fmt: skip
            session.add(row)
            session.flush()
            self._audit(session, actor, "user.created", row.id, {"username": username, "role": role})
            return UserRecord.from_row(row)

    def list_users(self) -> list[UserRecord]:
        """Every user of the workspace, oldest first."""
        with self._reading() as session:
            rows = session.scalars(self._users_query().order_by(User.created_at, User.username))
            return [UserRecord.from_row(row) for row in rows]

    def get_user(self, username_or_id: str) -> UserRecord:
        with self._reading() as session:
            return UserRecord.from_row(self._find_user(session, username_or_id))

    def set_user_role(self, username_or_id: str, role: str, *, actor: str) -> UserRecord:
        """Give the user another role; refused when it would leave the workspace without an owner."""
        require_choice(role, "role", ROLES)
        with self._writing() as session:
            row = self._find_user(session, username_or_id)
            if row.role == "owner" and role != "owner":
                self._refuse_last_owner(session, "demote")
            changed = apply_changes(row, {"role": role})
            self._audit(session, actor, "user.role_changed", row.id, {"changed": changed, "role": role})
            return UserRecord.from_row(row)

    def set_user_password(self, username_or_id: str, password: str, *, actor: str) -> UserRecord:
        password_hash = hash_password(_password(password))
        with self._writing() as session:
            row = self._find_user(session, username_or_id)
            apply_changes(row, {"password_hash": password_hash})
            self._audit(session, actor, "user.password_changed", row.id, {"changed": ["password"]})
            return UserRecord.from_row(row)

    def delete_user(self, username_or_id: str, *, actor: str) -> UserRecord:
        """Delete the user; refused for the last owner."""
        with self._writing() as session:
            row = self._find_user(session, username_or_id)
            if row.role == "owner":
                self._refuse_last_owner(session, "delete")
            session.delete(row)
            self._audit(session, actor, "user.deleted", row.id, {"username": row.username})
            return UserRecord.from_row(row)

    def authenticate(self, username: str, password: str) -> UserRecord | None:
        """The user when the password is theirs; None otherwise (unknown users take as long)."""
        with self._reading() as session:
            row = session.scalars(self._users_query().where(User.username == username)).first()
        if row is None:
            waste_password_check(password)
            return None
        return UserRecord.from_row(row) if verify_password(password, row.password_hash) else None

    def ensure_owner(self, username: str, password: str | None) -> str | None:
        """Create an owner when the workspace has no user; returns the password if it made one up."""
        if self._has_users():
            return None
        generated = None if password else new_password()
        username, password_hash = _username(username), hash_password(_password(password or generated))
        with self._writing() as session:
            if session.scalar(self._users_query().with_only_columns(User.id).limit(1)) is not None:
                return None  # another process got there first
            now = utcnow()
            row = User(workspace_id=self.workspace_id, username=username, password_hash=password_hash, role="owner",
                       created_at=now, updated_at=now)  # fmt: skip
            session.add(row)
            session.flush()
            self._audit(session, "system", "user.created", row.id, {"username": username, "role": "owner"})
        return generated

    def create_token(self, name: str, role: str, *, actor: str) -> tuple[TokenRecord, str]:
        """A new API token: its record and the token itself, which is shown this once only."""
        name = require_text(name, "a token name", 100)
        require_choice(role, "role", ROLES)
        token = new_api_token()
        with self._writing() as session:
            if session.scalar(self._tokens_query().where(ApiToken.name == name)) is not None:
                raise Conflict(f"a token named {name!r} already exists")
            row = ApiToken(workspace_id=self.workspace_id, name=name, role=role, token_hash=hash_token(token),
                           prefix=token[:TOKEN_PREFIX_LENGTH], created_by=actor[:100], created_at=utcnow())  # fmt: skip
            session.add(row)
            session.flush()
            self._audit(session, actor, "token.created", row.id, {"name": name, "role": role, "prefix": row.prefix})
            return TokenRecord.from_row(row), token

    def list_tokens(self) -> list[TokenRecord]:
        with self._reading() as session:
            rows = session.scalars(self._tokens_query().order_by(ApiToken.created_at, ApiToken.name))
            return [TokenRecord.from_row(row) for row in rows]

    def delete_token(self, id_or_name: str, *, actor: str) -> TokenRecord:
        """Revoke the token with this id or name; returns what it was."""
        with self._writing() as session:
            match = or_(ApiToken.id == id_or_name, ApiToken.name == id_or_name)
            row = session.scalars(self._tokens_query().where(match)).first()
            if row is None:
                raise NotFound(f"no API token with name or id {id_or_name!r}")
            session.delete(row)
            self._audit(session, actor, "token.deleted", row.id, {"name": row.name})
            return TokenRecord.from_row(row)

    def token_for(self, plain_token: str) -> TokenRecord | None:
        """The token's record (looked up by its hash), None when unknown; notes its use."""
        with self._reading() as session:
            row = session.scalars(self._tokens_query().where(ApiToken.token_hash == hash_token(plain_token))).first()
        if row is None:
            return None
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH_INTERVAL:
            self._touch_token(row.id, now)
            row.last_used_at = now
        return TokenRecord.from_row(row)

    def _touch_token(self, token_id: str, now: datetime) -> None:
        """Set last_used_at unless another request just did; best effort, no config version bump."""
        stale = or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOKEN_TOUCH_INTERVAL)
        try:
            with self._immediate_session() as session:
                session.execute(update(ApiToken).where(ApiToken.id == token_id, stale).values(last_used_at=now))
        except OperationalError:
            pass  # the store is busy: the next request records the use

    def _users_query(self):
        return select(User).where(User.workspace_id == self.workspace_id)

    def _tokens_query(self):
        return select(ApiToken).where(ApiToken.workspace_id == self.workspace_id)

    def _has_users(self) -> bool:
        with self._reading() as session:
            return session.scalar(self._users_query().with_only_columns(User.id).limit(1)) is not None

    def _find_user(self, session: Session, username_or_id: str) -> User:
        match = or_(User.id == username_or_id, User.username == username_or_id)
        row = session.scalars(self._users_query().where(match)).first()
        if row is None:
            raise NotFound(f"no user with username or id {username_or_id!r}")
        return row

    def _refuse_last_owner(self, session: Session, verb: str) -> None:
        owners = session.scalar(self._users_query().where(User.role == "owner").with_only_columns(func.count()))
        if owners <= 1:
            raise ConfigError(f"cannot {verb} the last owner; make another user an owner first")

"""Password guessing on the login form: 429 with Retry-After once a user name or an address has
failed too often, without checking the password; a success clears the user name's count."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from segue.config import Settings
from segue.control import ControlPlane
from segue.log import MemoryLog
from segue.store import Store
from segue.web.app import build_web_app
from segue.web.app.login_throttle import LoginThrottle

PASSWORD = "the-right-password-1"


@pytest.fixture
def app(tmp_path):
    with Store.open(Settings.load(environ={}, data_dir=tmp_path)) as store:
        store.create_user("ada", PASSWORD, "owner", actor="test")
        store.create_user("bob", PASSWORD, "member", actor="test")
        yield build_web_app(ControlPlane(store), MemoryLog(), b"k" * 32)


def sign_in(client: TestClient, username: str, password: str):
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    return client.post("/login", data={"csrf": token, "username": username, "password": password, "next": "/"},
                       follow_redirects=False)


def test_five_failures_lock_the_user_name_with_retry_after_even_for_the_right_password(app, monkeypatch):
    client = TestClient(app)
    assert [sign_in(client, "ada", "guess").status_code for _ in range(5)] == [400] * 5
    checked = []
    monkeypatch.setattr(app.state.plane.store, "authenticate", lambda *args: checked.append(args))
    locked = sign_in(client, "ADA ", PASSWORD)  # the same user name, however typed
    assert locked.status_code == 429 and checked == []  # the password was not even checked
    assert 1 <= int(locked.headers["Retry-After"]) <= 300
    assert "Too many failed sign-ins" in locked.text


def test_a_success_clears_the_user_names_count(app):
    client = TestClient(app)
    for _ in range(4):
        sign_in(client, "bob", "guess")
    assert sign_in(client, "bob", PASSWORD).status_code == 303
    assert [sign_in(client, "bob", "guess").status_code for _ in range(4)] == [400] * 4


def test_one_address_guessing_many_user_names_is_locked_too():
    throttle = LoginThrottle()
    for n in range(20):
        assert throttle.refusal(f"user{n}", "10.0.0.9") is None
        throttle.failed(f"user{n}", "10.0.0.9")
    assert throttle.refusal("someone-else", "10.0.0.9").retry_after > 0
    assert throttle.refusal("someone-else", "10.0.0.10") is None  # another address is not

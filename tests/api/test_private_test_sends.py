"""The Event Tester ("Test connection") obeys the private-address rule, like delivery does."""

from __future__ import annotations

import pytest

from segue.control import ControlPlane
from tests.api.helpers import data, make_source, make_webhook


@pytest.fixture
def plane(store):
    """The control plane as `segue serve` builds it without SEGUE_ALLOW_PRIVATE_DESTINATIONS."""
    return ControlPlane(store)


def test_a_test_send_to_a_local_address_is_refused_with_the_reason(owner, receiver):
    source = make_source(owner)
    hook = make_webhook(owner, source["id"], settings={"url": receiver.url + "/hook"})
    result = data(owner.post(f"/api/v1/destinations/{hook['id']}/test", json={}), "testResult")
    assert result["delivered"] is False and result["requests"][0]["response"] is None
    error = result["requests"][0]["error"]
    assert "refused: 127.0.0.1 is a loopback address; set SEGUE_ALLOW_PRIVATE_DESTINATIONS=1" in error
    assert receiver.received == []


def test_a_token_request_to_a_local_address_is_refused():
    from types import SimpleNamespace

    from segue.control.oauth import OAuthError, request_token

    destination = SimpleNamespace(slug="acme", name="Acme", oauth=SimpleNamespace(token_url="http://localhost:9/token"))
    record = SimpleNamespace(settings={"clientId": "id"}, secrets={"clientSecret": "secret"})
    with pytest.raises(OAuthError, match=r"Acme's token endpoint: refused: localhost \((127\.0\.0\.1|::1)\) is a loopback"):
        request_token(destination, record, {"grant_type": "refresh_token"})

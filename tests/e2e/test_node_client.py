"""The official @segment/analytics-node client, unchanged, pointed at a running `segue serve`.

Needs node and the client installed from the committed lock file (`make node-deps`, which
runs `npm ci` in tests/e2e/node); skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.e2e_checks import assert_clean, assert_timestamps, by_message_id

pytestmark = pytest.mark.slow

NODE_DIR = Path(__file__).parent / "node"
CLIENT_PACKAGE = NODE_DIR / "node_modules" / "@segment" / "analytics-node" / "package.json"

# method -> (the client's call parameters, fields expected on the stored message)
CALLS: dict[str, tuple[dict, dict]] = {
    "identify": (
        {"userId": "user-42", "traits": {"email": "ada@example.com", "plan": "pro"}},
        {"userId": "user-42", "traits": {"email": "ada@example.com", "plan": "pro"}},
    ),
    "track": (
        {
            "userId": "user-42",
            "event": "Order Completed",
            "properties": {"revenue": 42.5, "currency": "EUR", "products": [{"sku": "sku-1"}]},
            "context": {"ip": "203.0.113.7", "locale": "fr-FR"},
            "integrations": {"All": False, "Mixpanel": True},
        },
        {
            "userId": "user-42",
            "event": "Order Completed",
            "properties": {"revenue": 42.5, "currency": "EUR", "products": [{"sku": "sku-1"}]},
            "integrations": {"All": False, "Mixpanel": True},
        },
    ),
    "page": (
        {"anonymousId": "anon-7", "category": "Docs", "name": "Install", "properties": {"path": "/docs/install"}},
        # the client itself copies `category` into properties
        {"anonymousId": "anon-7", "category": "Docs", "name": "Install",
         "properties": {"path": "/docs/install", "category": "Docs"}},
    ),
    "screen": (
        {"userId": "user-42", "name": "Settings", "properties": {"tab": "privacy"}},
        {"userId": "user-42", "name": "Settings", "properties": {"tab": "privacy"}},
    ),
    "group": (
        {"userId": "user-42", "groupId": "acme", "traits": {"name": "Acme Inc", "employees": 120}},
        {"userId": "user-42", "groupId": "acme", "traits": {"name": "Acme Inc", "employees": 120}},
    ),
    "alias": (
        {"previousId": "anon-7", "userId": "user-42"},
        {"previousId": "anon-7", "userId": "user-42"},
    ),
}


def _require_node_client() -> str:
    """The client's version; skips the test when node or the installed client is missing."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the @segment/analytics-node tests need Node.js 20+")
    if not CLIENT_PACKAGE.exists():
        pytest.skip("@segment/analytics-node is not installed: run `make node-deps` (npm ci in tests/e2e/node)")
    return json.loads(CLIENT_PACKAGE.read_text())["version"]


def send_with_node(url: str, write_key: str, auth: str) -> tuple[dict[str, dict], list[int]]:
    """Run every call in CALLS through the Node client: what it sent, by method, and the HTTP statuses."""
    config = {
        "writeKey": write_key,
        "host": url,
        "flushAt": 3,
        "auth": auth,
        "calls": [{"method": method, "params": params} for method, (params, _) in CALLS.items()],
    }
    completed = subprocess.run(
        ["node", "send.mjs", json.dumps(config)], cwd=NODE_DIR, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, f"node client failed:\n{completed.stdout}\n{completed.stderr}"
    lines = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    sent = {line["method"]: line for line in lines if "method" in line}
    return sent, [line["status"] for line in lines if "status" in line]


@pytest.fixture(scope="module")
def client_version() -> str:
    return _require_node_client()


@pytest.fixture(scope="module", params=["both", "basic-only"], ids=["basic-and-body-key", "basic-auth-only"])
def delivery(request, client_version, live_server):
    """One run of the Node client per way of passing the write key: (source, sent, statuses)."""
    source = live_server.create_source(f"node-{request.param}", "node")
    sent, statuses = send_with_node(live_server.url, source["write_key"], request.param)
    return source, sent, statuses


def test_every_batch_is_acknowledged(delivery):
    _, sent, statuses = delivery

    assert sorted(sent) == sorted(CALLS)
    assert statuses and all(status == 200 for status in statuses)


@pytest.mark.parametrize("method", list(CALLS))
def test_each_call_is_stored_as_sent(client_version, delivery, live_server, method):
    source, sent, _ = delivery
    params, expected = CALLS[method]

    stored = by_message_id(live_server.events(source["name"]))[sent[method]["messageId"]]

    assert stored["type"] == method
    for field, value in expected.items():
        assert stored[field] == value, field
    assert stored["context"]["library"] == {"name": "@segment/analytics-node", "version": client_version}
    for key, value in params.get("context", {}).items():
        assert stored["context"][key] == value
    if "integrations" in params:
        assert stored["integrations"] == params["integrations"]
    assert_timestamps(stored, sent[method]["timestamp"])
    assert_clean(stored)

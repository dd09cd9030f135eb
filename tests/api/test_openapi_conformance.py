"""Schemathesis against a running `segue serve`: the OpenAPI document is what the API does.

Schemathesis's own runner (its CLI: its pytest plugin does not run on pytest 9 yet) calls
every operation with generated requests, valid and invalid, examples, edge cases and
stateful sequences (create, then read, change and delete what was created), with an owner
token. All of its checks must pass: no 5xx, documented status codes, content types and
headers, bodies that match the schema, invalid data refused, valid data accepted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def owner_token(live_server) -> str:
    source = live_server.create_source("Schemathesis", "javascript")
    live_server.cli("destinations", "create", "webhook", "--source", source["id"], "--setting", "url=http://127.0.0.1:9/")
    return json.loads(live_server.cli("tokens", "create", "schemathesis", "--role", "owner", "--json"))["token"]


def test_api_matches_its_openapi_document(live_server, owner_token, tmp_path):
    if not SCHEMATHESIS.exists():
        pytest.skip(f"schemathesis is not installed next to {sys.executable}")
    command = [
        str(SCHEMATHESIS), "run", f"{live_server.url}/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {owner_token}",
        "--checks", "all",
        "--max-examples", "20",
        "--seed", "20261129",
        "--request-timeout", "10",
        "--workers", "2",
        # Revoking its own token would leave the rest of the run unauthenticated.
        "--exclude-path", "/v1/tokens/{tokenId}",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    report = completed.stdout[-20_000:] + completed.stderr[-5_000:]
    assert completed.returncode == 0, report

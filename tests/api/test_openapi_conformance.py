"""Schemathesis against a running `segue serve`: the OpenAPI document is what the API does.

Every operation is called with generated requests (valid and invalid) using an owner token.
Checks: no 5xx, documented status codes and content types, response bodies that match the
schema. A source and a destination exist first so that some generated ids hit real objects.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def owner_token(live_server) -> str:
    source = live_server.create_source("Schemathesis", "javascript")
    created = json.loads(live_server.cli("tokens", "create", "schemathesis", "--role", "owner", "--json"))
    live_server.cli("destinations", "create", "webhook", "--source", source["id"], "--setting", "url=http://127.0.0.1:9/")
    return created["token"]


@pytest.fixture(scope="module")
def api_schema(live_server):
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_openapi_document(case, owner_token, live_server):
    # The test event endpoint would send generated events to a blackhole URL: keep it quick.
    case.call_and_validate(headers={"Authorization": f"Bearer {owner_token}"}, checks=CHECKS, timeout=30)

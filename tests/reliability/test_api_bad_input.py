"""Schemathesis against the REST API's OpenAPI document, in this process (no network), with an
owner token: whatever it sends, never a 5xx, and every error is the one error body.

Path parameters get real ids of fresh objects most of the time (`World`), so generated requests
get past the 404s into the code behind them. tests/api/test_openapi_conformance.py runs
schemathesis' full set of checks against a live server; this one is about robustness and runs
inside the default test run, bounded by `EXAMPLES` per operation.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segue.control import OPERATOR
from tests.reliability.conftest import World
from tests.reliability.test_api_authorisation import ID_OF

EXAMPLES = 12
REAL_SLUGS = {"slug": "webhook"}


@pytest.fixture(scope="module")
def owner(segue):
    return segue.token_client("owner")


@pytest.fixture(scope="module")
def schema(segue, owner):
    document = owner.get("/api/v1/openapi.json").json()
    return schemathesis.openapi.from_dict(document)


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def with_real_ids(case, world: World) -> None:
    for name in case.path_parameters or {}:
        if name in ID_OF:
            attribute, key = ID_OF[name]
            case.path_parameters[name] = getattr(world, attribute)[key]
        elif name == "slug":
            case.path_parameters[name] = "duckdb" if "/catalog/warehouses" in case.path else "webhook"


def send(owner, case):
    kwargs = case.as_transport_kwargs(base_url="http://testserver/api")
    kwargs.pop("timeout", None)
    kwargs.pop("allow_redirects", None)
    kwargs.pop("cookies", None)
    # The owner's token, in place of whatever credentials the security scheme made up.
    kwargs["headers"] = {**(kwargs.get("headers") or {}), "Authorization": owner.headers["Authorization"]}
    if "data" in kwargs and not isinstance(kwargs["data"], (bytes, str)):
        kwargs["data"] = str(kwargs["data"]).encode()
    files = kwargs.pop("files", None)
    return owner.request(**kwargs, files=files) if files else owner.request(**kwargs)


def check(response) -> None:
    assert response.status_code < 500, (response.request.method, response.request.url, response.text[:1000])
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        assert body["success"] is False and isinstance(body["code"], str) and isinstance(body["message"], str), body


def test_no_generated_request_gets_a_5xx_or_another_error_body(segue, owner, schema):
    for operation in operations(schema):
        if operation.path == "/v1/tokens/{tokenId}" or operation.path == "/v1/oauth/callback":
            continue  # revoking tokens is in the matrix; the callback answers HTML pages

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), real=st.integers(0, 3))
        def run(case, real):
            segue.plane.update_workspace(OPERATOR, plan="business")
            if real:
                with_real_ids(case, World(segue.plane))
            check(send(owner, case))

        run()



def test_a_replay_of_centuries_reads_only_the_hours_archived(tmp_path):
    """Found by this file: a generated replay of 0001-9999 walked 87 million hours in a background
    thread (and kept the process from exiting). Now only existing hour directories are read."""
    from datetime import datetime

    from segue.pipeline.archive import iter_archive

    assert list(iter_archive(tmp_path, "src_1", datetime(1, 1, 1), datetime(9999, 12, 31))) == []

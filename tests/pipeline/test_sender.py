"""Sender against a real local HTTP server: answers, timeouts, refused connections, concurrency."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import pytest

from segue.destinations.contract import Request
from segue.destinations.webhook import interpret as webhook_interpret
from segue.pipeline.delivery import Sender
from segue.pipeline.http import HttpClient
from tests.pipeline.http_server import closed_port_url

pytestmark = pytest.mark.slow


def post(server, payload: bytes = b"{\"event\": \"x\"}", **answer) -> Request:
    return Request("POST", f"{server.url}/hook?{urlencode(answer)}", {"Content-Type": "application/json"}, payload)


async def send(*requests: Request, interpret=None, **options):
    http = HttpClient(allow_private=True)
    try:
        return await Sender(http, **options).send(list(requests), interpret)
    finally:
        await http.close()


async def test_200_is_delivered_and_the_request_arrives_as_given(server):
    outcome, exchanges = await send(post(server, b'{"event": "Signed Up"}', status=200, body="ok"))
    assert (outcome.kind, outcome.status, outcome.response_body) == ("delivered", 200, "ok")
    assert outcome.duration_ms > 0
    received = server.recorder.received[0]
    assert (received["method"], received["body"]) == ("POST", b'{"event": "Signed Up"}')
    assert received["headers"]["content-type"] == "application/json"
    [exchange] = exchanges
    assert exchange["request"]["body"] == '{"event": "Signed Up"}'
    assert exchange["response"]["status"] == 200 and exchange["response"]["body"] == "ok"
    assert exchange["error"] is None


async def test_500_is_retried(server):
    outcome, exchanges = await send(post(server, status=500, body="boom"))
    assert (outcome.kind, outcome.status, outcome.message, outcome.response_body) == ("retry", 500, "HTTP 500", "boom")
    assert exchanges[0]["response"]["status"] == 500


async def test_429_carries_retry_after(server):
    outcome, _ = await send(post(server, status=429, retry_after="17"))
    assert (outcome.kind, outcome.retry_after) == ("retry", 17.0)


async def test_400_with_a_json_body_is_final_with_the_vendors_message(server):
    body = json.dumps({"message": "invalid userId"})
    outcome, exchanges = await send(post(server, status=400, body=body, type="application/json"), interpret=webhook_interpret)
    assert (outcome.kind, outcome.status, outcome.message) == ("failed", 400, "invalid userId")
    assert json.loads(exchanges[0]["response"]["body"]) == {"message": "invalid userId"}


async def test_a_server_slower_than_the_timeout_is_a_retry(server):
    started = time.monotonic()
    outcome, exchanges = await send(post(server, sleep=3), timeout=0.3)
    assert (outcome.kind, outcome.status, outcome.message) == ("retry", None, "timeout after 0.3 s")
    assert time.monotonic() - started < 2
    assert exchanges[0]["response"] is None and exchanges[0]["error"] == "timeout after 0.3 s"


async def test_connection_refused_is_a_retry():
    outcome, exchanges = await send(Request("POST", closed_port_url(), {}, b"{}"))
    assert (outcome.kind, outcome.status, outcome.message) == ("retry", None, "connection refused")
    assert exchanges[0]["error"] == "connection refused"


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/x", "http://"])
async def test_a_request_that_cannot_be_made_is_final(url):
    outcome, _ = await send(Request("POST", url, {}, b""))
    assert outcome.kind == "failed" and outcome.message.startswith("invalid request")


async def test_an_events_requests_go_in_order_and_stop_at_the_first_not_delivered(server):
    requests = [post(server, b"1", status=200), post(server, b"2", status=503), post(server, b"3", status=200)]
    outcome, exchanges = await send(*requests)
    assert (outcome.kind, outcome.status, outcome.message) == ("retry", 503, "request 2 of 3: HTTP 503")
    assert [item["body"] for item in server.recorder.received] == [b"1", b"2"]
    assert len(exchanges) == 2


async def test_all_delivered_gives_the_last_outcome_and_the_total_duration(server):
    outcome, exchanges = await send(post(server, status=200), post(server, status=202))
    assert (outcome.kind, outcome.status) == ("delivered", 202)
    assert outcome.duration_ms == pytest.approx(sum(item["durationMs"] for item in exchanges), abs=0.2)


async def test_no_requests_is_nothing_to_deliver():
    outcome, exchanges = await send()
    assert (outcome.kind, exchanges) == ("delivered", [])


async def test_a_large_response_is_shown_cut(server):
    outcome, _ = await send(post(server, status=500, body="x" * 1000, repeat=200))
    assert outcome.response_body == "x" * 2000


async def test_concurrency_limit_is_honoured(server):
    http = HttpClient(allow_private=True)
    sender = Sender(http, concurrency=3)
    results = await asyncio.gather(*(sender.send([post(server, sleep=0.15)]) for _ in range(10)))
    await http.close()
    assert all(outcome.kind == "delivered" for outcome, _ in results)
    assert server.recorder.peak == 3


async def test_an_unknown_host_is_a_retry_naming_the_dns_failure():
    outcome, _ = await send(Request("GET", "http://segue-test.invalid/", {}, None), timeout=3)
    assert outcome.kind == "retry"
    assert outcome.message.startswith(("DNS lookup failed", "timeout"))


async def test_a_request_without_content_type_gets_none_and_segue_names_itself(server):
    await send(Request("POST", f"{server.url}/hook?status=200", {}, b"raw"))
    headers = server.recorder.received[0]["headers"]
    assert "content-type" not in headers and headers["user-agent"].startswith("Segue/")


async def test_a_redirect_is_not_followed(server):
    outcome, _ = await send(post(server, status=301))
    assert (outcome.kind, outcome.status) == ("failed", 301)


async def test_a_vendor_rate_limit_spaces_the_requests(server):
    """8 requests at 4 per second: the burst is one second's worth, the rest follow the rate."""
    http = HttpClient(allow_private=True)
    sender = Sender(http, concurrency=8, rate_limit=4)
    await asyncio.gather(*(sender.send([post(server, status=200)]) for _ in range(8)))
    await http.close()
    arrivals = sorted(item["at"] for item in server.recorder.received)
    assert len(arrivals) == 8 and arrivals[-1] - arrivals[0] >= 0.9


@pytest.mark.parametrize("rate", [0.5, 1, 250])
def test_any_positive_rate_makes_a_pacer(rate):
    from segue.pipeline.delivery import pacer

    assert pacer(rate) is not None and pacer(0).__class__.__name__ == "nullcontext"

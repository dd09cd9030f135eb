"""Destinations reach only public addresses unless the operator allows private ones.

No test here needs the outside network: refused addresses are refused before any connection,
and names are resolved by a fake resolver (or /etc/hosts for `localhost`).
"""

from __future__ import annotations

import socket

import httpx
import pytest
from aiohttp.abc import AbstractResolver

from segue.config import Settings
from segue.destinations.contract import Request
from segue.pipeline.addresses import ALLOW_HINT, DestinationRefused, httpx_client, public_only, refusal
from segue.pipeline.delivery import Sender
from segue.pipeline.http import HttpClient, PublicOnlyConnector
from segue.pipeline.transports import TransportError, Transports

PUBLIC_V4, PUBLIC_V6 = "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.0.0.5", "private"), ("172.16.4.4", "private"), ("192.168.1.1", "private"), ("fd12:3456::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("fe80::1%eth0", "link-local"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("224.0.0.251", "multicast"), ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"), ("100.64.0.1", "non-public"), ("::ffff:127.0.0.1", "loopback"),
])
def test_non_public_addresses_are_named(address, kind):
    assert refusal(address) == f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} address"


@pytest.mark.parametrize("address", [PUBLIC_V4, "8.8.8.8", PUBLIC_V6, "::ffff:93.184.216.34"])
def test_public_addresses_pass(address):
    assert refusal(address) is None


def test_public_only_keeps_public_addresses_and_refuses_a_host_with_none():
    assert public_only("mixed.example", ["10.0.0.5", PUBLIC_V4]) == [PUBLIC_V4]
    with pytest.raises(DestinationRefused) as refused:
        public_only("internal.example", ["10.0.0.5", "127.0.0.1"])
    assert refused.value.message == f"refused: internal.example (10.0.0.5) is a private address; {ALLOW_HINT}"
    assert refused.value.retryable is False


def test_the_setting_is_off_by_default_and_read_from_the_environment():
    assert Settings.load(environ={}).allow_private_destinations is False
    assert Settings.load(environ={"SEGUE_ALLOW_PRIVATE_DESTINATIONS": "1"}).allow_private_destinations is True


class FakeResolver(AbstractResolver):
    """Answers from a table, the way a DNS server under someone else's control might."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET):
        return [{"hostname": host, "host": address, "port": port, "family": socket.AF_INET6 if ":" in address
                 else socket.AF_INET, "proto": 0, "flags": socket.AI_NUMERICHOST} for address in self.table[host]]

    async def close(self) -> None:
        pass


async def resolved(table: dict[str, list[str]], host: str) -> list[str]:
    connector = PublicOnlyConnector(resolver=FakeResolver(table), use_dns_cache=False)
    try:
        return [result["host"] for result in await connector._resolve_host(host, 80)]
    finally:
        await connector.close()


async def test_the_connector_keeps_only_public_answers():
    table = {"public.example": [PUBLIC_V4], "mixed.example": ["10.0.0.5", PUBLIC_V4, "::1"]}
    assert await resolved(table, "public.example") == [PUBLIC_V4]
    assert await resolved(table, "mixed.example") == [PUBLIC_V4]


async def test_the_connector_refuses_a_name_resolving_to_metadata():
    with pytest.raises(DestinationRefused, match=r"rebind\.example \(169\.254\.169\.254\) is a link-local"):
        await resolved({"rebind.example": ["169.254.169.254"]}, "rebind.example")


async def send_one(url: str, allow_private: bool = False):
    http = HttpClient(allow_private=allow_private)
    try:
        return await Sender(http, timeout=2.0).send([Request("POST", url, {}, b"{}")])
    finally:
        await http.close()


@pytest.mark.parametrize("url, named", [
    ("http://127.0.0.1:{port}/hook", "127.0.0.1 is a loopback address"),
    ("http://[::1]:{port}/hook", "::1 is a loopback address"),
    ("http://10.0.0.5/hook", "10.0.0.5 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://localhost:{port}/hook", "localhost (127.0.0.1) is a loopback address"),
])
async def test_delivery_to_a_non_public_address_fails_for_good(server, url, named):
    outcome, exchange = await send_one(url.format(port=server.url.rsplit(":", 1)[1]))
    assert outcome.kind == "failed" and outcome.status is None
    assert outcome.message.startswith(f"refused: {named}") or (
        "localhost" in url and outcome.message.startswith("refused: localhost (::1) is a loopback address"))
    assert ALLOW_HINT in outcome.message and exchange[0]["error"] == outcome.message
    assert server.recorder.received == []


async def test_the_allowance_lets_delivery_reach_a_local_server(server):
    outcome, _ = await send_one(f"{server.url}/hook", allow_private=True)
    assert outcome.kind == "delivered" and len(server.recorder.received) == 1


@pytest.mark.parametrize("url", [
    "redis://127.0.0.1:6379/0?stream=events", "nats://10.1.2.3:4222/events", "amqp://guest:guest@localhost/%2F",
    "mqtt://[::1]:1883/events", "s3://key:secret@bucket/events.ndjson?endpoint=http%3A%2F%2F169.254.169.254",
])
async def test_stream_transports_refuse_non_public_brokers(url):
    transports = Transports()
    with pytest.raises(TransportError) as refused:
        await transports.send(Request("POST", url, {}, b"{}"), 1.0)
    assert refused.value.message.startswith("refused: ") and refused.value.retryable is False
    assert "secret" not in refused.value.message


def test_test_sends_and_token_requests_refuse_local_addresses():
    with httpx_client(False, timeout=2.0) as client:
        with pytest.raises(httpx.ConnectError, match=r"refused: localhost \((127\.0\.0\.1|::1)\) is a loopback"):
            client.get("http://localhost:9/")
        with pytest.raises(httpx.ConnectError, match="refused: 169.254.169.254 is a link-local address"):
            client.get("http://169.254.169.254/latest/meta-data/")


def test_segue_serve_takes_the_flag(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    import segue.server
    from segue.cli import app

    started = []
    monkeypatch.setattr(segue.server, "serve", started.append)
    environ = {"SEGUE_ALLOW_PRIVATE_DESTINATIONS": "0"}
    for args in (["--allow-private-destinations"], []):
        result = CliRunner().invoke(app, ["serve", "--data-dir", str(tmp_path), *args], env=environ)
        assert result.exit_code == 0, result.output
    assert [settings.allow_private_destinations for settings in started] == [True, False]


async def test_plain_text_brokers_are_connected_to_the_checked_address():
    from segue.pipeline.transports import _public_request

    async def checked(host: str) -> str:
        return {"broker.example": PUBLIC_V4, "v6.example": PUBLIC_V6}[host]

    plain = Request("POST", "redis://u:p%40ss@broker.example:6379/0?stream=events", {}, b"{}")
    assert (await _public_request(plain, "redis", checked)).url == f"redis://u:p%40ss@{PUBLIC_V4}:6379/0?stream=events"
    six = Request("POST", "nats://v6.example/events", {}, b"{}")
    assert (await _public_request(six, "nats", checked)).url == f"nats://[{PUBLIC_V6}]/events"
    tls = Request("POST", "rediss://broker.example:6380/0?stream=events", {}, b"{}")
    assert (await _public_request(tls, "rediss", checked)).url == tls.url  # the name stays, for the certificate

"""Shared helpers: sample settings for any destination, a no-I/O guard, request checks."""

from __future__ import annotations

import builtins
import contextlib
import os
import random
import socket
import time
import typing
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest
from pydantic import SecretStr

from segue.destinations.contract import TRANSPORT_SCHEMES, Destination, DestinationSettings, Request
from segue.destinations.settings import validate_settings

# Settings that make a destination send more (secrets, templates, options) than its required
# minimum: `rich/<slug>.json`, one file per destination.
RICH_DIR = Path(__file__).parent / "rich"


def rich_settings(slug: str) -> dict:
    """The destination's rich settings, {} when it has none."""
    path = RICH_DIR / f"{slug}.json"
    return orjson.loads(path.read_bytes()) if path.exists() else {}


def _sample_value(name: str, annotation: typing.Any) -> typing.Any:
    """A valid-looking value for a required field, from its name and type."""
    members = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    kind = members[0]
    if typing.get_origin(kind) is typing.Literal:
        return typing.get_args(kind)[0]
    if typing.get_origin(kind) is typing.Annotated:
        kind = typing.get_args(kind)[0]
    if "url" in name.lower():
        return "https://hooks.example.com/services/T000/B000/XXXX"
    if kind is SecretStr:
        return "sample-secret-0123456789"
    return {bool: True, int: 1, float: 1.0, list: [], dict: {}}.get(typing.get_origin(kind) or kind, "sample-value")


def sample_settings(destination: Destination, rich: bool = False) -> DestinationSettings:
    """Validated settings filling every required field (plus `rich/<slug>.json` when `rich`)."""
    model = destination.settings
    values = {
        (info.alias or name): _sample_value(name, info.annotation)
        for name, info in model.model_fields.items() if info.is_required()
    }
    if destination.oauth is not None:  # what "log in to the tool" would have stored
        values.update(OAUTH_LOGIN)
    if rich:
        values.update(rich_settings(destination.slug))
    return validate_settings(model, {key: value for key, value in values.items() if _has_field(model, key)})


OAUTH_LOGIN = {"accessToken": "sample-access-token", "instanceUrl": "https://acme.my.salesforce.com",
               "apiDomain": "https://acme.pipedrive.com"}


def _has_field(model: type[DestinationSettings], key: str) -> bool:
    return any(key in (name, info.alias) for name, info in model.model_fields.items())


def _forbidden(*args, **kwargs):
    raise AssertionError("a translation did I/O or read the clock or randomness")


@contextlib.contextmanager
def no_io():
    """Fail on network, files, clock and randomness while the block runs."""
    with pytest.MonkeyPatch.context() as patch:
        for owner, name in ((socket.socket, "connect"), (socket, "create_connection"), (socket, "getaddrinfo"),
                            (builtins, "open"), (os, "open"), (time, "time"), (time, "time_ns"),
                            (time, "monotonic"), (random, "random"), (os, "urandom"), (uuid, "uuid4")):
            patch.setattr(owner, name, _forbidden)
        yield


def check_request(request: Request) -> None:
    """The shape the delivery engine relies on."""
    assert isinstance(request, Request)
    parts = urlsplit(request.url)
    assert parts.scheme in TRANSPORT_SCHEMES and parts.netloc, request.url
    http = parts.scheme in ("http", "https")
    assert request.method in (("GET", "POST", "PUT", "PATCH", "DELETE") if http else ("PUBLISH", "PUT")), request.method
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in request.headers.items())
    assert request.body is None or isinstance(request.body, bytes)


def describe(requests: list[Request]) -> list[dict]:
    """Requests as comparable JSON: bodies parsed when they are JSON."""
    return [
        {"method": r.method, "url": r.url, "headers": dict(r.headers), "body": _body(r)}
        for r in requests
    ]


def _body(request: Request) -> typing.Any:
    if request.body is None:
        return None
    if "json" in request.headers.get("Content-Type", ""):
        return orjson.loads(request.body)
    return request.body.decode()

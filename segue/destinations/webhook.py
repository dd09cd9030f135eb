"""Webhook: every event, as is, POSTed (or PUT/PATCHed) as JSON to a URL of your choice.

The body is the enriched Segment message. With a shared secret, the `X-Signature` header
carries the hex HMAC-SHA1 of the exact body bytes, so the receiver can check that the call
came from this workspace (Segment's Webhooks destination does the same).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from segue.destinations.common import (
    JSON_HEADERS,
    encode_json,
    error_text,
    json_or_none,
    method_presets,
)
from segue.destinations.contract import (
    METHODS,
    Destination,
    DestinationSettings,
    Request,
)
from segue.destinations.settings import HttpUrlText

BATCH_SIZE = 1000


class Settings(DestinationSettings):
    url: HttpUrlText = Field(title="Webhook URL", description="Where each event is sent (http or https).")
    method: Literal["POST", "PUT", "PATCH"] = Field("POST", title="HTTP Method")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers sent with every call.")
    enable_batching: bool = Field(
        False, title="Send batches", description="Send up to 1,000 events per call, as one JSON array, instead of one call per event."
    )
    shared_secret: SecretStr | None = Field(
        None, description="When set, each call carries `X-Signature`: hex HMAC-SHA1 of the body with this secret."
    )

    @field_validator("headers")
    @classmethod
    def _no_line_breaks(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not name.strip() or any(char in name + value for char in "\r\n"):
                raise ValueError(f"invalid header {name!r}: empty name or a line break")
        return headers


def sign(body: bytes, secret: str) -> str:
    """Hex HMAC-SHA1 of `body` keyed by `secret`: the `X-Signature` header value."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def _request(payload: object, settings: Settings) -> Request:
    body = encode_json(payload)
    headers = {**JSON_HEADERS, **settings.headers}
    if settings.shared_secret is not None:
        headers["X-Signature"] = sign(body, settings.shared_secret.get_secret_value())
    return Request(method=settings.method, url=settings.url, headers=headers, body=body)


def send(event: dict, settings: Settings) -> list[Request]:
    """Any method: one call whose body is the event."""
    return [_request(event, settings)]


def send_batch(events: list, settings: Settings) -> list[Request]:
    """Many events: one call whose body is the JSON array of the events."""
    return [_request(list(events), settings)] if events else []


def interpret(status: int, body: bytes) -> str | None:
    """The partner contract's `{"message": ...}`, else the start of a plain-text body."""
    parsed = json_or_none(body)
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        return parsed["message"]
    return error_text(body)


DESTINATION = Destination(
    slug="webhook",
    name="Webhooks",
    categories=("Raw Data",),
    description=(
        "Forward every event, unchanged, to an HTTP endpoint you run. Each call carries the full "
        "Segment message as JSON; batches send a JSON array. Set a shared secret to have each "
        "call signed so your endpoint can tell genuine calls from forged ones."
    ),
    docs_url="https://segment.com/docs/connections/destinations/catalog/webhooks/",
    settings=Settings,
    translations={method: send for method in METHODS},
    replay=True,
    presets=method_presets(METHODS),
    batch=send_batch,
    batch_size=BATCH_SIZE,
    interpret=interpret,
)

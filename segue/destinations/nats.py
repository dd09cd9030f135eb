"""NATS: every event, as JSON, published to a subject (core NATS or JetStream).

The request is `PUBLISH nats://[user:password@|token@]host:port/<subject>[?jetstream=1]` with
the event as the body and the headers as NATS message headers (see
`segue/pipeline/transports/nats.py`). With JetStream the `Nats-Msg-Id` header is the messageId,
so the stream drops a duplicate published within its duplicate window; the stream's ack is the
success.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator

from segue.destinations._streams import PLACEHOLDER, broker_url, broker_url_type, fill_template
from segue.destinations.common import JSON_HEADERS, encode_json, method_presets, text
from segue.destinations.contract import METHODS, Destination, DestinationSettings, Request

INVALID_SUBJECT = re.compile(r"[\s*>]|^\.|\.$|\.\.")


class Settings(DestinationSettings):
    server_url: broker_url_type("nats") = Field(  # type: ignore[valid-type]
        "nats://127.0.0.1:4222", title="Server URL", description="The NATS server, `nats://host:port`."
    )
    subject_template: str = Field(
        "segue.{type}",
        description="Subject per event; `{field}` takes an event field (`{type}`, `{event}`, `{userId}`).",
    )
    username: str | None = Field(None, description="User name, when the server asks for user and password.")
    password: SecretStr | None = Field(None, description="Password for the user name.")
    token: SecretStr | None = Field(None, description="Authentication token (instead of user and password).")
    jetstream: bool = Field(
        False, title="Publish to JetStream", description="Wait for a stream's ack; dedups on messageId (Nats-Msg-Id)."
    )

    @field_validator("subject_template")
    @classmethod
    def _valid_subject(cls, template: str) -> str:
        if not template or INVALID_SUBJECT.search(PLACEHOLDER.sub("x", template)):
            raise ValueError("a subject is dot-separated tokens without spaces or the wildcards * and >")
        return template


def _url(subject: str, settings: Settings) -> str:
    """Token auth puts the token alone in the userinfo, as NATS URLs do."""
    user = settings.token.get_secret_value() if settings.token else settings.username
    password = None if settings.token else settings.password
    query = {"jetstream": "1" if settings.jetstream else None}
    return broker_url(settings.server_url, user, password, "/" + quote(subject, safe=""), query)


def publish(event: dict, settings: Settings) -> list[Request]:
    """Any method: the event as JSON on the templated subject."""
    message_id = text(event, "messageId")
    headers = {**JSON_HEADERS, **({"Nats-Msg-Id": message_id} if settings.jetstream and message_id else {})}
    subject = fill_template(settings.subject_template, event)
    return [Request("PUBLISH", _url(subject, settings), headers, encode_json(event))]


DESTINATION = Destination(
    slug="nats",
    name="NATS",
    categories=("Raw Data",),
    description=(
        "Stream every event, as the JSON Segue stores, to a NATS subject built from the event "
        "(`segue.track` by default). Publish with core NATS, or to JetStream for persistence, "
        "acknowledged writes and deduplication on the event's messageId."
    ),
    docs_url="https://docs.nats.io/nats-concepts/jetstream/streams",
    settings=Settings,
    translations={method: publish for method in METHODS},
    replay=True,
    presets=method_presets(METHODS),
    rate_limit=0.0,  # a self-hosted server: no vendor limit
)

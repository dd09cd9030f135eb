"""RabbitMQ: every event, as JSON, published to an exchange (AMQP 0-9-1).

The request is `PUBLISH amqp[s]://[user:password@]host:port/<vhost>?exchange=<name>&routing_key=<key>`
(the vhost percent-encoded, `%2F` for `/`). Headers become message properties in the transport
(`segue/pipeline/transports/amqp.py`): `Content-Type` -> content_type, `Message-Id` -> message_id
(the event's messageId, for consumer-side dedup), `Delivery-Mode: 2` -> persistent; any other
header goes into the message's headers table. The transport publishes with publisher confirms,
so a send succeeds only once the broker has the message.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

from pydantic import Field, SecretStr

from segue.destinations._streams import broker_url, broker_url_type, fill_template
from segue.destinations.common import JSON_HEADERS, compact, encode_json, method_presets, text
from segue.destinations.contract import METHODS, Destination, DestinationSettings, Request

PERSISTENT = "2"
MAX_ROUTING_KEY = 255  # AMQP 0-9-1 short string


class Settings(DestinationSettings):
    amqp_url: broker_url_type("amqp", "amqps") = Field(  # type: ignore[valid-type]
        "amqp://127.0.0.1:5672/%2F", title="AMQP URL",
        description="`amqp://host:port/vhost` (`amqps://` for TLS; vhost `/` is `%2F`), without credentials.",
    )
    username: str | None = Field(None, description="The broker user (RabbitMQ's default is guest).")
    password: SecretStr | None = Field(None, description="The user's password.")
    exchange: str = Field(
        "amq.topic", description="The exchange to publish to; it must exist. Empty for the default exchange."
    )
    routing_key_template: str = Field(
        "segue.{type}", max_length=MAX_ROUTING_KEY, description="Routing key per event; `{field}` takes an event field."
    )


def _vhost_path(settings: Settings) -> str:
    vhost = unquote(urlsplit(settings.amqp_url).path[1:]) or "/"
    return "/" + quote(vhost, safe="")


def publish(event: dict, settings: Settings) -> list[Request]:
    """Any method: the event as a persistent JSON message with message_id = messageId."""
    routing_key = fill_template(settings.routing_key_template, event)[:MAX_ROUTING_KEY]
    query = {"exchange": settings.exchange, "routing_key": routing_key}
    url = broker_url(settings.amqp_url, settings.username, settings.password, _vhost_path(settings), query)
    headers = compact({**JSON_HEADERS, "Message-Id": text(event, "messageId"), "Delivery-Mode": PERSISTENT})
    return [Request("PUBLISH", url, headers, encode_json(event))]


DESTINATION = Destination(
    slug="rabbitmq",
    name="RabbitMQ",
    categories=("Raw Data",),
    description=(
        "Publish every event as a persistent JSON message to a RabbitMQ exchange, with a routing "
        "key built from the event (`segue.track` on `amq.topic` by default) and the messageId as "
        "the message id. Publisher confirms make a delivery count only once the broker has it."
    ),
    docs_url="https://www.rabbitmq.com/docs/publishers",
    settings=Settings,
    translations={method: publish for method in METHODS},
    replay=True,
    presets=method_presets(METHODS),
    rate_limit=0.0,  # a self-hosted broker: no vendor limit
)

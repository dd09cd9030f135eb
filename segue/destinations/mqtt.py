"""MQTT: every event, as JSON, published to a topic (MQTT 3.1.1).

The request is `PUBLISH mqtt[s]://[user:password@]host:port/<topic>?qos=<0|1|2>&retain=<0|1>`,
the topic being the URL path (its `/` levels kept, other characters percent-encoded). MQTT
3.1.1 messages have no headers, so the request has none. With QoS 1 or 2 the transport
(`segue/pipeline/transports/mqtt.py`) waits for the broker's PUBACK / PUBCOMP.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator

from segue.destinations._streams import broker_url, broker_url_type, fill_template
from segue.destinations.common import encode_json, method_presets
from segue.destinations.contract import METHODS, Destination, DestinationSettings, Request


class Settings(DestinationSettings):
    broker_url: broker_url_type("mqtt", "mqtts") = Field(  # type: ignore[valid-type]
        "mqtt://127.0.0.1:1883", title="Broker URL",
        description="`mqtt://host:port` (`mqtts://` for TLS), without credentials.",
    )
    username: str | None = Field(None, description="User name, when the broker asks for one.")
    password: SecretStr | None = Field(None, description="The user's password.")
    topic_template: str = Field(
        "segue/{type}", description="Topic per event; `{field}` takes an event field (`segue/{type}/{event}`)."
    )
    qos: Literal[0, 1, 2] = Field(1, title="QoS", description="0: at most once, 1: at least once, 2: exactly once.")
    retain: bool = Field(False, description="Ask the broker to keep the last message of each topic.")

    @field_validator("topic_template")
    @classmethod
    def _valid_topic(cls, template: str) -> str:
        if not template or any(char in template for char in "+#\0"):
            raise ValueError("a topic to publish to is not empty and has no wildcards (+, #)")
        return template


def publish(event: dict, settings: Settings) -> list[Request]:
    """Any method: the event as JSON on the templated topic."""
    topic = fill_template(settings.topic_template, event)
    query = {"qos": settings.qos, "retain": int(settings.retain)}
    url = broker_url(settings.broker_url, settings.username, settings.password, "/" + quote(topic, safe="/"), query)
    return [Request("PUBLISH", url, {}, encode_json(event))]


DESTINATION = Destination(
    slug="mqtt",
    name="MQTT",
    categories=("Raw Data",),
    description=(
        "Publish every event as JSON to an MQTT broker (Mosquitto, EMQX, HiveMQ...) on a topic "
        "built from the event, `segue/track` by default, at the QoS you choose: with QoS 1 or 2 "
        "a delivery counts once the broker has acknowledged it."
    ),
    docs_url="https://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html",
    settings=Settings,
    translations={method: publish for method in METHODS},
    replay=True,
    presets=method_presets(METHODS),
    rate_limit=0.0,  # a self-hosted broker: no vendor limit
)

"""RabbitMQ specifics: vhost, exchange and routing key in the URL."""

from __future__ import annotations

import pytest

from segue.destinations import rabbitmq
from segue.destinations.settings import InvalidSettings, validate_settings
from tests.destinations.events import minimal


def test_the_url_must_be_amqp():
    with pytest.raises(InvalidSettings):
        validate_settings(rabbitmq.Settings, {"amqpUrl": "http://localhost:5672/"})


def test_rabbitmq_keeps_the_vhost_and_defaults_to_slash():
    settings = validate_settings(rabbitmq.Settings, {"amqpUrl": "amqp://h:5672"})
    (request,) = rabbitmq.publish(minimal("identify"), settings)
    assert request.url == "amqp://h:5672/%2F?exchange=amq.topic&routing_key=segue.identify"
    named = validate_settings(rabbitmq.Settings, {"amqpUrl": "amqp://h/prod", "exchange": ""})
    assert rabbitmq.publish(minimal("identify"), named)[0].url == "amqp://h/prod?exchange=&routing_key=segue.identify"


def test_long_routing_keys_are_cut_to_255_characters():
    settings = validate_settings(rabbitmq.Settings, {"routingKeyTemplate": "segue.{event}"})
    (request,) = rabbitmq.publish({**minimal("track"), "event": "x" * 300}, settings)
    assert request.url.endswith("routing_key=segue." + "x" * 249)

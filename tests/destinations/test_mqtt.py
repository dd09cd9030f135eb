"""MQTT specifics: topic levels, wildcards refused, QoS in the URL."""

from __future__ import annotations

import pytest

from segue.destinations import mqtt
from segue.destinations.settings import InvalidSettings, validate_settings
from tests.destinations.events import minimal


def test_mqtt_topics_refuse_wildcards_and_keep_levels():
    with pytest.raises(InvalidSettings):
        validate_settings(mqtt.Settings, {"topicTemplate": "segue/#"})
    settings = validate_settings(mqtt.Settings, {"topicTemplate": "segue/{type}/{userId}", "qos": 0})
    (request,) = mqtt.publish(minimal("alias"), settings)
    assert request.url == "mqtt://127.0.0.1:1883/segue/alias/user-1234?qos=0&retain=0"

"""Salesforce specifics: required Lead fields, not connected, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations.salesforce import Settings, group, identify, interpret
from segue.errors import InvalidMessage

CONNECTED = Settings(access_token="token", instance_url="https://x.my.salesforce.com")


def body(requests):
    return orjson.loads(requests[0].body)


def test_a_lead_always_has_last_name_and_company():
    fields = body(identify({"type": "identify", "userId": "u", "traits": {"email": "a@b.c"}}, CONNECTED))
    assert fields == {"LastName": "a@b.c", "Email": "a@b.c", "Company": "Unknown"}


def test_anonymous_identify_sends_nothing():
    assert identify({"type": "identify", "anonymousId": "a", "traits": {"email": "a@b.c"}}, CONNECTED) == []


def test_not_connected_without_token_or_instance_url():
    for settings in (Settings(), Settings(access_token="token")):
        with pytest.raises(InvalidMessage, match="log in to Salesforce") as raised:
            group({"type": "group", "groupId": "g"}, settings)
        assert raised.value.code == "not_connected"


def test_external_id_value_is_path_encoded():
    (request,) = group({"type": "group", "groupId": "a/b c"}, CONNECTED)
    assert request.url.endswith("/sobjects/Account/Segue_Group_Id__c/a%2Fb%20c")


def test_interpret_reads_salesforce_error_lists():
    error = b'[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]'
    assert interpret(400, error) == "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]"
    assert interpret(400, b"[]") == "[]"

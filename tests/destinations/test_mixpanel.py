"""Mixpanel specifics: insert ids, auth choice, batch merging, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import mixpanel
from segue.destinations.settings import InvalidSettings, validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(mixpanel.Settings, {"projectToken": "tok"})


@pytest.mark.parametrize("message_id", ["29fc2962-6d9c-455d-95ad-95b84f09b9e4", "abc", "A-1"])
def test_acceptable_message_ids_are_insert_ids(message_id):
    assert mixpanel.insert_id(message_id) == message_id


@pytest.mark.parametrize("message_id", ["ajs-next-1709647629123-3f2b1c0e-7d6a-4e8f", "has space", "a_b", "é"])
def test_other_message_ids_become_a_stable_hash(message_id):
    derived = mixpanel.insert_id(message_id)
    assert derived == mixpanel.insert_id(message_id) and len(derived) == 32 and derived.isalnum()


def test_batch_merges_requests_by_endpoint():
    events = [maximal(method) for method in mixpanel.METHODS] * 3
    requests = mixpanel.translate_batch(events, SETTINGS)
    urls = [request.url for request in requests]
    assert len(urls) == len(set(urls)) == 3  # /import, /engage, /groups
    imported = orjson.loads(requests[0].body)
    assert len(imported) == 3 * 5  # track, page, screen, $identify, $create_alias per round


def test_batch_refuses_unknown_types():
    with pytest.raises(InvalidMessage):
        mixpanel.translate_batch([{**minimal("track"), "type": "merge"}], SETTINGS)


def test_reserved_traits_use_mixpanel_names_and_camel_case_wins():
    assert mixpanel.profile_properties({"first_name": "b", "firstName": "a", "created": 1, "plan": "x"}) == {
        "plan": "x", "$first_name": "a", "$created": 1,
    }


def test_engage_and_groups_skip_geolocation_of_the_server():
    urls = [request.url for request in mixpanel.group(maximal("group"), SETTINGS)]
    assert all(url.endswith("?strict=1&ip=0") for url in urls)


def test_identify_without_traits_or_both_ids_sends_nothing():
    assert mixpanel.identify(minimal("identify", known=True), SETTINGS) == []


def test_alias_needs_both_ids():
    with pytest.raises(InvalidMessage):
        mixpanel.alias({**minimal("alias"), "previousId": None}, SETTINGS)


def test_region_must_be_known():
    with pytest.raises(InvalidSettings):
        validate_settings(mixpanel.Settings, {"projectToken": "tok", "region": "APAC"})


def test_interpret_lists_failed_records():
    error = (b'{"code": 400, "error": "some data points in the request failed validation", "failed_records": '
             b'[{"index": 0, "$insert_id": "x", "field": "properties.time", "message": "must be in the past"}]}')
    assert mixpanel.interpret(400, error) == (
        "some data points in the request failed validation; properties.time: must be in the past")
    assert mixpanel.interpret(401, b'{"error": "Invalid credentials", "status": 0}') == "Invalid credentials"
    assert mixpanel.interpret(200, b'{"code": 200, "status": "OK"}') is None


def test_service_account_needs_all_three_parts():
    with pytest.raises(InvalidSettings, match="service account needs"):
        validate_settings(mixpanel.Settings, {"projectToken": "tok", "serviceAccountUsername": "sa"})

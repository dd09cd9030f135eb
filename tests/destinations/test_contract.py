"""The destination contract, checked over every destination registered in the catalog."""

from __future__ import annotations

import re

import orjson
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from hypothesis import strategies as st

from segue.destinations.contract import CATEGORIES, METHODS, MODES, PLATFORMS, STATUSES, Destination
from segue.destinations.registry import load_catalog, serialize
from segue.destinations.settings import json_schema, settings_fields
from segue.errors import InvalidMessage
from tests.destinations.events import all_events, maximal, minimal
from tests.destinations.helpers import check_request, no_io, sample_settings

DESTINATIONS = load_catalog().all()
BUILT_IN = {"webhook", "amplitude", "mixpanel", "slack", "customerio"}
KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def by_slug(destination: Destination) -> str:
    return destination.slug


pytestmark = pytest.mark.parametrize("destination", DESTINATIONS, ids=by_slug)


def test_slug_is_lowercase_kebab_and_unique(destination):
    assert KEBAB.fullmatch(destination.slug)
    assert [d.slug for d in DESTINATIONS].count(destination.slug) == 1


def test_metadata_uses_known_values(destination):
    assert destination.methods and set(destination.methods) <= set(METHODS)
    assert set(destination.translations) <= set(METHODS)
    assert destination.categories and set(destination.categories) <= set(CATEGORIES)
    assert destination.modes and set(destination.modes) <= set(MODES)
    assert destination.platforms and set(destination.platforms) <= set(PLATFORMS)
    assert destination.status in STATUSES
    assert destination.name and destination.description and destination.docs_url.startswith("https://")
    assert (destination.batch is None) == (destination.batch_size == 0)


def test_settings_schema_and_fields_serialise(destination):
    orjson.dumps(json_schema(destination.settings))
    fields = settings_fields(destination.settings)
    orjson.dumps(fields)
    assert [f["name"] for f in fields] == list(json_schema(destination.settings)["properties"])


def test_catalog_entry_serialises(destination):
    entry = orjson.loads(orjson.dumps(serialize(destination)))
    assert entry["slug"] == destination.slug
    assert entry["logo"].startswith("<svg")
    assert {preset["actionId"] for preset in entry["presets"]} <= set(destination.methods)


def test_presets_are_valid_mappings(destination):
    """Presets become a new instance's mappings: their triggers parse and their fields validate."""
    from segue.mapping import fql
    from segue.mapping.kit import validate_mapping

    for preset in destination.presets:
        fql.parse(preset.trigger)
        validate_mapping(dict(preset.fields))
        assert preset.name and len(preset.name) <= 100 and preset.action in destination.translations


@pytest.mark.parametrize("rich", [False, True], ids=["required-settings", "rich-settings"])
def test_translations_are_pure_and_well_formed(destination, rich):
    settings = sample_settings(destination, rich)
    for event in all_events(tuple(destination.translations)):
        translate = destination.translations[event["type"]]
        with no_io():
            first, second = translate(event, settings), translate(event, settings)
        assert first == second, event["type"]
        for request in first:
            check_request(request)


def test_batch_is_pure_and_well_formed(destination):
    if destination.batch is None:
        pytest.skip("no batch translation")
    settings = sample_settings(destination, rich=True)
    events = all_events(tuple(destination.translations))
    with no_io():
        first, second = destination.batch(events, settings), destination.batch(events, settings)
    assert first == second and first
    for request in first:
        check_request(request)
    assert destination.batch([], settings) == []


def test_interpret_never_raises(destination):
    if destination.interpret is None:
        pytest.skip("no interpret")
    for body in (b"", b"not json", b"[]", b"null", b'{"error": 3}', b'{"message": "bad"}', "\u00e9t\u00e9".encode()):
        result = destination.interpret(400, body)
        assert result is None or isinstance(result, str)


def test_built_ins_are_registered(destination):
    assert BUILT_IN <= {d.slug for d in DESTINATIONS}


JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
JSON_OBJECTS = st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=6)
FIELDS = st.sampled_from([
    "properties", "traits", "context", "integrations", "event", "name", "category", "groupId", "userId", "anonymousId",
    "messageId", "previousId",
])


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_arbitrary_fields_raise_only_invalid_message(destination, data):
    if not destination.translations:
        pytest.skip("device mode only: nothing is translated on the server")
    method = data.draw(st.sampled_from(tuple(destination.translations)))
    event = data.draw(st.sampled_from([minimal(method), maximal(method)]))
    for field in data.draw(st.lists(FIELDS, max_size=3, unique=True)):
        event[field] = data.draw(JSON_OBJECTS | JSON_VALUES)
    settings = sample_settings(destination, rich=data.draw(st.booleans()))
    try:
        requests = destination.translations[method](event, settings)
    except InvalidMessage:
        return
    for request in requests:
        check_request(request)

"""Routing with Actions-style mappings: triggers, mapping-kit fields, the action's translation."""

from __future__ import annotations

from types import SimpleNamespace

import orjson
import pytest

from segue.destinations import webhook
from segue.destinations.common import method_presets
from segue.destinations.contract import Destination, DestinationSettings, Request
from segue.errors import InvalidMessage
from segue.pipeline.routing import (
    NO_MATCHING_MAPPING,
    NOTHING_TO_SEND,
    InstanceConfig,
    compile_mappings,
    route,
)

HOOK = webhook.DESTINATION
HOOK_SETTINGS = webhook.Settings(url="http://example.test/hook")
VIEWED = {"event": {"@template": "Viewed {{name}}"}, "type": "track"}


def mapping(name: str, trigger: str, action: str = "track", fields: dict | None = None, enabled: bool = True):
    return SimpleNamespace(name=name, trigger=trigger, action=action, fields=fields or {}, enabled=enabled)


def instance(*mappings, destination: Destination = HOOK, settings=HOOK_SETTINGS, filters=()) -> InstanceConfig:
    return InstanceConfig("dst_1", "src_1", destination, settings, (), tuple(filters), compile_mappings(mappings))


def bodies(decision) -> list[dict]:
    return [orjson.loads(request.body) for request in decision.requests]


PAGE = {"type": "page", "name": "Pricing", "messageId": "m1", "userId": "u1", "properties": {"path": "/pricing"}}
ORDER = {"type": "track", "event": "Order Completed", "messageId": "m2", "userId": "u1", "properties": {"total": 30}}


def test_a_page_becomes_a_viewed_track_for_the_webhook():
    decision = route(PAGE, instance(mapping("Pages", 'type = "page"', fields=VIEWED)))
    assert decision.filtered is None and decision.failed is None
    [body] = bodies(decision)
    assert body["type"] == "track" and body["event"] == "Viewed Pricing"
    assert body["name"] == "Pricing" and body["properties"] == {"path": "/pricing"} and body["messageId"] == "m1"
    assert decision.event is PAGE  # the event recorded is the one received (after filters)


def test_each_matching_mapping_makes_its_requests_in_order():
    decision = route(ORDER, instance(
        mapping("Orders", 'event = "Order Completed"', fields={"event": "Purchase"}),
        mapping("Other pages", 'type = "page"', fields=VIEWED),
        mapping("All tracks", 'type = "track"'),
    ))
    assert [body["event"] for body in bodies(decision)] == ["Purchase", "Order Completed"]
    assert [(action, merged["event"]) for action, merged in decision.mapped] == [("track", "Purchase"), ("track", "Order Completed")]
    assert all(request.url == "http://example.test/hook" for request in decision.requests)


def test_an_event_no_mapping_matches_is_filtered():
    decision = route(ORDER, instance(mapping("Pages", 'type = "page"', fields=VIEWED)))
    assert (decision.filtered, decision.requests, decision.failed) == (NO_MATCHING_MAPPING, (), None)


def test_disabled_mappings_do_not_run_but_still_count_as_configured():
    decision = route(ORDER, instance(mapping("All tracks", 'type = "track"', enabled=False)))
    assert decision.filtered == NO_MATCHING_MAPPING


def test_triggers_on_the_event_name():
    mappings = (mapping("Orders", 'type = "track" and event = "Order Completed"', fields={"properties": {"@path": "$.properties"}}),)
    assert bodies(route(ORDER, instance(*mappings)))[0]["properties"] == {"total": 30}
    assert route({**ORDER, "event": "Order Started"}, instance(*mappings)).filtered == NO_MATCHING_MAPPING


def test_fields_replace_top_level_keys_and_whole_objects():
    fields = {"properties": {"revenue": {"@path": "$.properties.total"}}, "context": {"@literal": {"app": "x"}}}
    [body] = bodies(route({**ORDER, "context": {"ip": "1.2.3.4"}}, instance(mapping("M", "true", fields=fields))))
    assert body["properties"] == {"revenue": 30} and body["context"] == {"app": "x"}
    assert body["event"] == "Order Completed"


def test_a_directive_at_the_top_of_the_fields_merges_its_object():
    fields = {"@merge": {"direction": "right", "objects": [{"@path": "$.properties"}, {"event": "Merged"}]}}
    [body] = bodies(route(ORDER, instance(mapping("M", "true", fields=fields))))
    assert (body["total"], body["event"], body["properties"]) == (30, "Merged", {"total": 30})
    [same] = bodies(route(ORDER, instance(mapping("M", "true", fields={"@path": "$.event"}))))
    assert same == ORDER  # a result that is not an object adds nothing


@pytest.mark.parametrize("value, matches", [("track", True), ("Track", False), (None, False), (1, False), (["track"], False)])
def test_simple_triggers_keep_fqls_typed_equality(value, matches):
    event = {**ORDER, "type": value}
    for trigger in ('type = "track"', '(type = "track") and true'):  # the fast path and the general one
        decision = route(event, instance(mapping("Tracks", trigger)))
        assert (decision.filtered is None) is matches, (trigger, value)


def test_an_instance_without_mappings_routes_by_method_as_before():
    decision = route(PAGE, instance())
    assert bodies(decision) == [PAGE] and decision.mapped == ()


def test_presets_reproduce_the_default_behaviour():
    presets = [mapping(p.name, p.trigger, p.action, dict(p.fields)) for p in method_presets(("track", "page"))]
    assert bodies(route(PAGE, instance(*presets))) == bodies(route(PAGE, instance()))
    assert bodies(route(ORDER, instance(*presets))) == bodies(route(ORDER, instance()))
    assert route({**PAGE, "type": "identify"}, instance(*presets)).filtered == NO_MATCHING_MAPPING


def test_filters_run_before_mappings():
    drop = {"title": "No orders", "if": 'event = "Order Completed"', "actions": [{"type": "DROP"}], "enabled": True}
    decision = route(ORDER, instance(mapping("Tracks", 'type = "track"'), filters=[drop]))
    assert decision.filtered == "filter 'No orders': DROP"
    trim = {"title": "Trim", "if": "true", "actions": [{"type": "DROP_PROPERTIES", "fields": {"": ["event"]}}], "enabled": True}
    decision = route(ORDER, instance(mapping("Named", "event != null"), filters=[trim]))
    assert decision.filtered == NO_MATCHING_MAPPING  # the trigger sees the filtered event


def test_a_mapping_that_fails_at_run_time_fails_the_event_naming_it(monkeypatch):
    from segue.pipeline import routing

    def broken(fields, event):
        raise ValueError("boom")

    monkeypatch.setattr(routing, "resolve", broken)
    decision = route(ORDER, instance(mapping("Tracks", "true"), mapping("Broken", 'type = "track"', fields={"a": 1})))
    assert decision.requests == () and decision.event is ORDER
    assert decision.failed == "mapping 'Broken' failed: boom"


def test_stored_mappings_that_cannot_run_fail_the_events_they_would_take():
    bad_trigger = route(ORDER, instance(mapping("Bad", 'type = "track')))
    assert bad_trigger.failed.startswith("mapping 'Bad' cannot run: trigger: invalid FQL at position")
    bad_fields = instance(mapping("Pages", 'type = "page"', fields={"a": {"@nope": 1}}), mapping("Tracks", 'type = "track"'))
    assert "mapping 'Pages' cannot run: fields: invalid mapping at $.a" in route(PAGE, bad_fields).failed
    assert len(route(ORDER, bad_fields).requests) == 1  # events it does not match are not affected
    unknown_action = route(ORDER, instance(mapping("X", "true", action="fly")))
    assert unknown_action.failed == "mapping 'X': Webhooks has no 'fly' action"


class _Strict(DestinationSettings):
    pass


def _needs_user(event: dict, settings) -> list[Request]:
    if not event.get("userId"):
        raise InvalidMessage("userId is required for this destination")
    return [Request("POST", "http://strict.test/", {}, b"{}")] if event.get("event") != "Nothing" else []


STRICT = Destination(slug="strict", name="Strict", categories=("Analytics",), description="", docs_url="",
                     settings=_Strict, translations={"track": _needs_user})  # fmt: skip


def test_a_translation_refusing_the_mapped_event_fails_it_naming_the_mapping():
    decision = route(ORDER, instance(mapping("No user", "true", fields={"userId": None}), destination=STRICT, settings=_Strict()))
    assert decision.failed == "mapping 'No user': Strict cannot take this event: userId is required for this destination"
    nothing = route({**ORDER, "event": "Nothing"}, instance(mapping("M", "true"), destination=STRICT, settings=_Strict()))
    assert nothing.filtered == NOTHING_TO_SEND


@pytest.mark.parametrize("name", ["amplitude", "customerio", "mixpanel", "slack", "webhook"])
def test_every_built_in_destinations_presets_compile_and_name_its_actions(name):
    from segue.destinations.registry import load_catalog

    destination = load_catalog().get(name)
    compiled = compile_mappings(mapping(p.name, p.trigger, p.action, dict(p.fields)) for p in destination.presets)
    assert compiled and all(item.error is None and item.action in destination.translations for item in compiled)
    assert {item.action for item in compiled} == set(destination.methods)


def test_batch_requests_leave_out_only_the_events_the_batch_call_refuses():
    from dataclasses import replace

    from segue.pipeline.routing import batch_requests

    def batch(events: list, settings) -> list:
        if any(event.get("refuse") for event in events):
            raise InvalidMessage("too odd")
        return [Request("POST", "https://vendor.example/batch", body=orjson.dumps([event["n"] for event in events]))]

    instance = InstanceConfig("dst_1", "src_1", replace(webhook.DESTINATION, batch=batch), SimpleNamespace())
    events = [{"n": 0}, {"n": 1, "refuse": True}, {"n": 2}, {"n": 3, "refuse": True}]
    kept, requests, refused = batch_requests(instance, events)
    assert kept == [0, 2] and [orjson.loads(request.body) for request in requests] == [[0, 2]]
    assert set(refused) == {1, 3} and "cannot take this event: too odd" in refused[1]
    assert batch_requests(instance, [{"n": 5}]) == ([0], batch([{"n": 5}], None), {})
    assert batch_requests(instance, [{"n": 6, "refuse": True}])[:2] == ([], [])

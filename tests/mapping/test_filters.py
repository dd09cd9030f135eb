"""Destination Filters (spec 4.6): each action, their order, fail-closed, deterministic sampling."""

import copy

import pytest

from segue.mapping.filters import apply_filters, hash_unit

EVENT = {
    "type": "track", "messageId": "m1", "userId": "u1", "event": "Order Completed",
    "properties": {"email": "a@b.co", "plan": "pro", "total": 30, "address": {"city": "Oslo", "zip": "0150"}},
    "context": {"ip": "1.2.3.4", "traits": {"email": "a@b.co", "name": "Ann"}},
}


def never(_filter, _path):
    raise AssertionError("the sampler should not be asked")


def run(*filters, sample=never, event=EVENT):
    before = copy.deepcopy(event)
    result = apply_filters(list(filters), event, sample)
    assert event == before, "the input event was changed"
    return result


def rule(title, condition, *actions, enabled=True):
    return {"title": title, "if": condition, "actions": list(actions), "enabled": enabled}


def test_drop_when_the_condition_matches():
    assert run(rule("No tests", "event = 'Order Completed'", {"type": "DROP"})) == (None, "filter 'No tests': DROP")
    assert run(rule("No tests", "event = 'Test'", {"type": "DROP"})) == (EVENT, None)
    assert run(rule("Only users", "length( userId ) < 1", {"type": "DROP"})) == (EVENT, None)


def test_disabled_filters_and_no_filters_change_nothing():
    assert run(rule("off", "type = 'track'", {"type": "DROP"}, enabled=False)) == (EVENT, None)
    event, reason = run()
    assert event is EVENT and reason is None


@pytest.mark.parametrize("draw, percent, kept", [(0.05, 0.1, True), (0.1, 0.1, False), (0.5, 0.1, False),
                                                 (0.0, 0.0, False), (0.999, 1.0, True)])
def test_sample_keeps_the_given_share(draw, percent, kept):
    calls = []

    def sample(filter_, path):
        calls.append((filter_["title"], path))
        return draw

    event, reason = run(rule("tenth", "type = 'track'", {"type": "SAMPLE", "percent": percent}), sample=sample)
    assert calls == [("tenth", None)]
    assert (event, reason) == ((EVENT, None) if kept else (None, "filter 'tenth': SAMPLE"))


def test_sampling_by_path_is_deterministic_per_value():
    sampled = rule("by user", "type = 'track'", {"type": "SAMPLE", "percent": 0.3, "path": "userId"})
    outcomes = {}
    for index in range(2000):
        event = {**EVENT, "userId": f"user-{index}"}
        outcomes[index] = run(sampled, event=event)[0] is not None
        assert (run(sampled, event=event)[0] is not None) == outcomes[index]
    assert 0.25 < sum(outcomes.values()) / len(outcomes) < 0.35
    assert hash_unit("user-1") == hash_unit("user-1") and 0 <= hash_unit({"a": [1]}) < 1
    assert hash_unit({"a": 1, "b": 2}) == hash_unit({"b": 2, "a": 1})


def test_drop_properties_top_level_nested_and_dotted():
    event, reason = run(rule("pii", "type = 'track'", {"type": "DROP_PROPERTIES", "fields": {
        "": ["userId"], "properties": ["email", "absent"], "context.traits": ["email"], "properties.address": ["zip"],
        "nowhere.deep": ["x"],
    }}))
    assert reason is None
    assert "userId" not in event and event["messageId"] == "m1"
    assert event["properties"] == {"plan": "pro", "total": 30, "address": {"city": "Oslo"}}
    assert event["context"] == {"ip": "1.2.3.4", "traits": {"name": "Ann"}}


def test_allow_properties_keeps_only_the_listed_fields():
    event, _ = run(rule("few", "type = 'track'", {"type": "ALLOW_PROPERTIES", "fields": {
        "properties": ["plan", "total"], "context.traits": ["name"], "missing": ["x"],
    }}))
    assert event["properties"] == {"plan": "pro", "total": 30}
    assert event["context"]["traits"] == {"name": "Ann"}
    assert event["userId"] == "u1"
    top, _ = run(rule("top", "type = 'track'", {"type": "ALLOW_PROPERTIES", "fields": {"": ["event"]}}))
    assert top == {"type": "track", "messageId": "m1", "event": "Order Completed"}


def test_untouched_parts_are_shared_not_copied():
    event, _ = run(rule("pii", "type = 'track'", {"type": "DROP_PROPERTIES", "fields": {"properties": ["email"]}}))
    assert event is not EVENT and event["properties"] is not EVENT["properties"]
    assert event["context"] is EVENT["context"] and event["properties"]["address"] is EVENT["properties"]["address"]


def test_actions_run_in_segment_order_whatever_the_filter_order():
    allow = rule("allow", "type = 'track'", {"type": "ALLOW_PROPERTIES", "fields": {"properties": ["email", "plan"]}})
    drop_email = rule("drop email", "type = 'track'", {"type": "DROP_PROPERTIES", "fields": {"properties": ["email"]}})
    drop = rule("drop", "type = 'track'", {"type": "DROP"})
    sample = rule("sample", "type = 'track'", {"type": "SAMPLE", "percent": 0.5})
    event, _ = run(allow, drop_email)
    assert event["properties"] == {"plan": "pro"}
    assert run(allow, drop, sample, sample=lambda f, p: 0.9) == (None, "filter 'sample': SAMPLE")
    assert run(allow, drop, sample, sample=lambda f, p: 0.1) == (None, "filter 'drop': DROP")


def test_conditions_are_evaluated_on_the_event_as_received():
    trim = rule("trim", "type = 'track'", {"type": "DROP_PROPERTIES", "fields": {"": ["event"]}})
    drop = rule("drop", "event = 'Order Completed'", {"type": "DROP"})
    assert run(trim, drop) == (None, "filter 'drop': DROP")


@pytest.mark.parametrize("broken, fragment", [
    (rule("bad fql", "userId = oops\"", {"type": "DROP_PROPERTIES", "fields": {}}), "invalid FQL at position"),
    (rule("no fql", None, {"type": "DROP"}), "its condition is not FQL text"),
    (rule("no actions", "type = 'x'"), "it has no actions"),
    (rule("odd action", "type = 'x'", {"type": "EXPLODE"}), "unknown action type 'EXPLODE'"),
    (rule("odd percent", "type = 'x'", {"type": "SAMPLE", "percent": 2}), "percent between 0 and 1"),
    (rule("odd path", "type = 'x'", {"type": "SAMPLE", "percent": 0.5, "path": 3}), "path must be a field path"),
    (rule("odd fields", "type = 'x'", {"type": "ALLOW_PROPERTIES", "fields": ["email"]}), "needs fields"),
])
def test_a_filter_that_cannot_be_understood_drops_the_event(broken, fragment):
    harmless = rule("harmless", "type = 'identify'", {"type": "DROP"})
    event, reason = run(harmless, broken)
    assert event is None
    assert reason.startswith(f"filter {broken['title']!r}: ") and fragment in reason
    assert reason.endswith("so the event is dropped")


def test_a_disabled_broken_filter_is_ignored():
    assert run(rule("bad", "((", {"type": "DROP"}, enabled=False)) == (EVENT, None)

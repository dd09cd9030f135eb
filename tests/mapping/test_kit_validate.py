"""Mapping validation errors name the JSON path; a rich mapping never raises on any event."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segue.errors import ConfigError
from segue.mapping.kit import MappingError, map_event, validate_mapping

PATH = {"@path": "$.x"}


@pytest.mark.parametrize("mapping, path, fragment", [
    ({"a": {"@path": "$.x", "b": 1}}, "$.a", "cannot sit beside other keys, found 'b'"),
    ({"a": {"@path": "$.x", "@template": "y"}}, "$.a", "only one @ directive"),
    ({"a": [1, {"@nope": 1}]}, "$.a[1]", "unknown directive @nope"),
    ({"a": {"@liquid": "{{x}}"}}, "$.a", "Liquid templates are not supported"),
    ({"a b": {"@path": 5}}, '$["a b"].@path', "should be a string or a directive, not a number"),
    ({"a": {"@template": {"x": 1}}}, "$.a.@template", "should be a string or a directive, not an object"),
    ({"a": {"@if": {"then": 1}}}, "$.a.@if", "exactly one of 'exists' or 'blank'"),
    ({"a": {"@if": {"exists": 1, "blank": 1}}}, "$.a.@if", "exactly one of 'exists' or 'blank'"),
    ({"a": {"@if": {"exists": 1, "than": 1}}}, "$.a.@if.than", "unknown option"),
    ({"a": {"@if": {"exists": {"@bad": 1}}}}, "$.a.@if.exists", "unknown directive @bad"),
    ({"a": {"@if": "x"}}, "$.a.@if", "should be an object of options, not a string"),
    ({"a": {"@arrayPath": "$.x"}}, "$.a.@arrayPath", "should be [path] or [path, item shape]"),
    ({"a": {"@arrayPath": ["$.x", 1]}}, "$.a.@arrayPath[1]", "should be an object or a directive"),
    ({"a": {"@arrayPath": ["$.x", {"k": {"@path": 1}}]}}, "$.a.@arrayPath[1].k.@path", "should be a string"),
    ({"a": {"@case": {"operator": "title", "value": PATH}}}, "$.a.@case.operator", "should be one of 'lower', 'upper'"),
    ({"a": {"@case": {"operator": "lower"}}}, "$.a.@case", "needs 'value'"),
    ({"a": {"@replace": {"pattern": "abcdefghijk", "value": PATH}}}, "$.a.@replace.pattern", "1 to 10 characters"),
    ({"a": {"@replace": {"pattern": "", "value": PATH}}}, "$.a.@replace.pattern", "1 to 10 characters"),
    ({"a": {"@replace": {"pattern": "-", "replacement": "x" * 11, "value": PATH}}}, "$.a.@replace.replacement", "0 to 10"),
    ({"a": {"@replace": {"pattern": "-", "pattern2": "y" * 11, "value": PATH}}}, "$.a.@replace.pattern2", "1 to 10"),
    ({"a": {"@replace": {"pattern": "-", "value": PATH, "global": "yes"}}}, "$.a.@replace.global", "true or false"),
    ({"a": {"@replace": {"pattern": "-"}}}, "$.a.@replace", "needs 'value'"),
    ({"a": {"@json": {"mode": "pretty", "value": PATH}}}, "$.a.@json.mode", "'encode', 'decode'"),
    ({"a": {"@flatten": {"value": PATH, "separator": ""}}}, "$.a.@flatten.separator", "1 to 100"),
    ({"a": {"@merge": {"objects": [PATH]}}}, "$.a.@merge", "needs 'direction'"),
    ({"a": {"@merge": {"direction": "up", "objects": []}}}, "$.a.@merge.direction", "'left', 'right'"),
    ({"a": {"@merge": {"direction": "left", "objects": {"x": 1}}}}, "$.a.@merge.objects", "should be an array"),
    ({"a": {"@merge": {"direction": "left", "objects": [{}, 1]}}}, "$.a.@merge.objects[1]", "object or a directive"),
    ({"a": {"@transform": {"apply": {}}}}, "$.a.@transform", "needs 'mapping'"),
    ({"a": {"@transform": {"@path": {}}}}, "$.a.@transform", "should be an object of options"),
    ({"a": {"b": {1, 2}}}, "$.a.b", "should be a JSON value, not a set"),
])
def test_errors_name_the_json_path(mapping, path, fragment):
    with pytest.raises(MappingError) as caught:
        validate_mapping(mapping)
    error = caught.value
    assert isinstance(error, ConfigError) and error.code == "invalid_mapping"
    assert error.details == {"path": path}
    assert error.message.startswith(f"invalid mapping at {path}: ")
    assert fragment in error.message


def test_map_event_validates_first():
    with pytest.raises(MappingError):
        map_event({"a": {"@path": "$.x", "extra": 1}}, {})


def test_metadata_may_sit_beside_a_directive_and_depth_is_bounded():
    validate_mapping({"a": {"@path": "$.x", "_metadata": {"anything": True}}})
    deep = {"@literal": 1}
    for _ in range(70):
        deep = {"k": deep}
    with pytest.raises(MappingError, match="nested deeper than 64 levels"):
        validate_mapping(deep)


RICH = {
    "user": {"@path": "$.userId"},
    "first": {"@path": "$.properties.products[0].name"},
    "everything": {"@path": "$."},
    "greeting": {"@template": "Hi {{traits.name}} ({{userId}}) {{{properties}}}"},
    "literal": {"@literal": {"x": [1, None]}},
    "maybe": {"@if": {"exists": {"@path": "$.traits.email"}, "then": {"@path": "$.traits.email"}, "else": None}},
    "blank": {"@if": {"blank": {"@path": "$.event"}, "then": True}},
    "items": {"@arrayPath": ["$.properties.products", {"id": {"@path": "$.id"}, "all": {"@path": "$."}}]},
    "raw_items": {"@arrayPath": ["$.properties"]},
    "lower": {"@case": {"operator": "lower", "value": {"@path": "$.event"}}},
    "replaced": {"@replace": {"pattern": "a", "replacement": "b", "ignorecase": True, "pattern2": "1",
                              "value": {"@path": "$.event"}}},
    "encoded": {"@json": {"mode": "encode", "value": {"@path": "$.properties"}}},
    "decoded": {"@json": {"mode": "decode", "value": {"@path": "$.event"}}},
    "flat": {"@flatten": {"value": {"@path": "$.properties"}, "separator": "_"}},
    "merged": {"@merge": {"direction": "left", "objects": [{"@path": "$.traits"}, {"@path": "$.properties"}, {"z": 1}]}},
    "transformed": {"@transform": {"apply": {"p": {"@path": "$.properties"}}, "mapping": {"q": {"@path": "$.p.products"}}}},
    "clean": {"@excludeWhenNull": {"@path": "$.properties"}},
    "list": [{"@path": "$.missing"}, {"@template": "{{event}}"}],
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
keys = st.sampled_from(["userId", "event", "properties", "traits", "products", "name", "id", "email", "0", ""])
events = st.dictionaries(keys, json_values | st.dictionaries(keys, json_values, max_size=4), max_size=6)


@given(events)
def test_a_rich_mapping_never_raises_on_any_event(event):
    validate_mapping(RICH)
    assert isinstance(map_event(RICH, event), dict)


raw_keys = st.text(max_size=6).filter(lambda key: not key.startswith("@"))
raw_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(raw_keys, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(raw_keys, raw_values, max_size=5))
def test_a_mapping_without_directives_maps_to_itself(mapping):
    assert map_event(mapping, {"any": "event"}) == mapping

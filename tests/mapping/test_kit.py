"""Mapping-kit directives (spec 4.3 table, vector 10) and their documented edge cases."""

import copy

import pytest

from segue.mapping.kit import UNDEFINED, map_event, map_value

DATA = {
    "type": "track", "userId": "u1",
    "properties": {
        "neighborhood": "Latrobe", "noun": "neighbor", "price": 1.0, "ok": True, "nothing": None,
        "products": [{"productId": "123", "price": 0.5}, {"productId": "456", "price": 0.99}],
        "tags": ["a", "b"], "nested": {"a": "special", "b": 2},
    },
    "integrations": {"Actions Amplitude": {"session_id": "s1"}},
}


def value(mapping, data=DATA):
    return map_value(mapping, data)


def test_vector_10():
    mapping = {
        "name": "Mr. Rogers",
        "neighborhood": {"@path": "$.properties.neighborhood"},
        "greeting": {"@template": "Won't you be my {{properties.noun}}?"},
    }
    event = {"properties": {"neighborhood": "Latrobe", "noun": "neighbor"}}
    assert map_event(mapping, event) == {"name": "Mr. Rogers", "neighborhood": "Latrobe", "greeting": "Won't you be my neighbor?"}
    assert value({"@if": {"exists": {"@path": "$.nope"}, "then": "yep", "else": "nope"}}, event) == "nope"


@pytest.mark.parametrize("path, expected", [
    ("$.userId", "u1"), ("userId", "u1"), ("$.properties.products[1].productId", "456"),
    ("properties.products.0.price", 0.5), ("$.integrations.Actions Amplitude.session_id", "s1"),
    ("$.properties.nothing", None), ("$.properties.missing", UNDEFINED), ("$.userId.deeper", UNDEFINED),
    ("$.properties.products[7]", UNDEFINED), ("$.", DATA), ("", DATA),
])
def test_path(path, expected):
    assert value({"@path": path}) == expected if expected is not UNDEFINED else value({"@path": path}) is UNDEFINED


def test_path_may_come_from_a_directive_and_missing_keys_disappear():
    assert value({"@path": {"@template": "properties.{{type}}"}}, {"type": "x", "properties": {"x": 7}}) == 7
    assert map_event({"a": {"@path": "$.oops"}, "b": None, "c": {"d": {"@path": "$.oops"}}}, DATA) == {"b": None, "c": {}}
    assert map_event({"list": [{"@path": "$.oops"}, 1]}, DATA) == {"list": [None, 1]}


@pytest.mark.parametrize("template, expected", [
    ("Hello, {{properties.noun}}!", "Hello, neighbor!"),
    ("{{ properties.noun }}/{{{properties.noun}}}", "neighbor/neighbor"),
    ("{{oops.yo}}", ""), ("{{properties.nothing}}", ""), ("{{properties.price}}", "1"),
    ("{{properties.ok}}", "true"), ("{{properties.tags}}", "a,b"), ("{{properties.nested}}", "[object Object]"),
    ("<b>{{properties.noun}}</b> & {{type}}", "<b>neighbor</b> & track"), ("{{foo}}}", "}"), ("no curlies", "no curlies"),
])
def test_template(template, expected):
    assert value({"@template": template}) == expected


def test_template_does_not_expand_substituted_text():
    assert value({"@template": "{{a}}"}, {"a": "{{b}}", "b": "secret"}) == "{{b}}"


def test_literal():
    assert value({"@literal": True}) is True
    assert value({"@literal": {"x": {"@path": "$.userId"}}}) == {"x": "u1"}


@pytest.mark.parametrize("condition, key, expected", [
    ("exists", "a", 1), ("exists", "d", 2), ("exists", "x", 2), ("exists", "e", 1),
    ("blank", "a", 1), ("blank", "d", 2), ("blank", "x", 2), ("blank", "e", 2),
])
def test_if(condition, key, expected):
    data = {"a": 1, "d": None, "e": ""}
    assert value({"@if": {condition: {"@path": f"$.{key}"}, "then": 1, "else": 2}}, data) == expected


def test_if_missing_branch_removes_the_key():
    mapping = {"x": {"@if": {"exists": {"@path": "$.nope"}, "then": True}}, "y": {"@if": {"exists": 1, "else": 0}}}
    assert map_event(mapping, {}) == {}
    assert value({"@if": {"exists": 0, "then": {"@path": "$.userId"}}}) == "u1"


def test_array_path():
    shape = {"product_id": {"@path": "$.productId"}, "monies": {"@path": "$.price"}, "gone": {"@path": "$.x"}}
    expected = [{"product_id": "123", "monies": 0.5}, {"product_id": "456", "monies": 0.99}]
    assert value({"@arrayPath": ["$.properties.products"]}) == DATA["properties"]["products"]
    assert value({"@arrayPath": ["$.properties.products", shape]}) == expected
    directive_path = {"@if": {"exists": {"@path": "$.properties.products"}, "then": {"@path": "$.properties.products"}, "else": []}}
    assert value({"@arrayPath": [directive_path, shape]}) == expected
    assert value({"@arrayPath": ["$.properties.nested", shape]}) == [{}]
    assert value({"@arrayPath": ["$.p", shape]}, {"p": {"productId": "9", "price": 1}}) == [{"product_id": "9", "monies": 1}]
    assert value({"@arrayPath": ["$.properties.tags", {"tag": {"@path": "$."}}]}) == [{"tag": "a"}, {"tag": "b"}]
    assert value({"@arrayPath": ["$.missing", shape]}) is UNDEFINED
    assert value({"@arrayPath": ["$.properties.products", {}]}) == DATA["properties"]["products"]


@pytest.mark.parametrize("operator, source, expected", [
    ("lower", "MAKE ME LOWER", "make me lower"), ("upper", "make me upper", "MAKE ME UPPER"),
    ("upper", 1, 1), ("lower", None, None),
])
def test_case(operator, source, expected):
    assert value({"@case": {"operator": operator, "value": {"@path": "$.v"}}}, {"v": source}) == expected


def test_case_of_a_missing_value_removes_the_key():
    assert map_event({"k": {"@case": {"operator": "lower", "value": {"@path": "$.v"}}}}, {}) == {}


@pytest.mark.parametrize("options, source, expected", [
    ({"pattern": "-", "replacement": " "}, "cool-story-bro", "cool story bro"),
    ({"pattern": "-", "replacement": " ", "global": False}, "cool-story-bro", "cool story-bro"),
    ({"pattern": "ww", "replacement": "oo"}, "cWWl-story-ww", "cWWl-story-oo"),
    ({"pattern": "ww", "replacement": "oo", "ignorecase": True}, "cWWl-story-ww", "cool-story-oo"),
    ({"pattern": "$.", "replacement": "\\1"}, "a$.b", "a\\1b"),
    ({"pattern": "-"}, "a-b", "ab"),
    ({"pattern": "-", "replacement": None}, "a-b", "ab"),
    ({"pattern": "-", "replacement": " ", "pattern2": "great", "replacement2": "awesome"}, "something-great!", "something awesome!"),
    ({"pattern": "true", "replacement": "granted", "pattern2": "false", "replacement2": "denied"}, False, "denied"),
    ({"pattern": "1", "replacement": "one"}, 1.0, "one"),
    ({"pattern": "_", "replacement": "r"}, "", ""),
    ({"pattern": "_", "replacement": "r"}, None, ""),
])
def test_replace(options, source, expected):
    assert value({"@replace": {**options, "value": {"@path": "$.v"}}}, {"v": source}) == expected


@pytest.mark.parametrize("mode, source, expected", [
    ("encode", "bar", '"bar"'), ("encode", {"a": [1, 2.0, None]}, '{"a":[1,2,null]}'), ("encode", None, "null"),
    ("decode", '"bar"', "bar"), ("decode", '{"a":[1,2]}', {"a": [1, 2]}), ("decode", "{not json", "{not json"),
    ("decode", 5, 5),
])
def test_json(mode, source, expected):
    assert value({"@json": {"mode": mode, "value": {"@path": "$.v"}}}, {"v": source}) == expected


def test_json_of_a_missing_value_removes_the_key():
    assert map_event({"k": {"@json": {"mode": "encode", "value": {"@path": "$.v"}}}}, {}) == {}


def test_flatten():
    nested = {"foo": {"bar": "baz", "aces": {"a": 1, "b": 2}, "list": [1, {"x": 2}], "empty": {}}}
    assert value({"@flatten": {"value": {"@path": "$.foo"}, "separator": "."}}, nested) == {
        "bar": "baz", "aces.a": 1, "aces.b": 2, "list.0": 1, "list.1.x": 2,
    }
    assert value({"@flatten": {"value": {"@path": "$.foo"}, "separator": "_", "omitArrays": True}}, nested) == {
        "bar": "baz", "aces_a": 1, "aces_b": 2, "list": [1, {"x": 2}],
    }
    assert value({"@flatten": {"value": {"@path": "$.v"}}}, {"v": [{"fazz": "bar"}]}) == {"0.fazz": "bar"}
    assert value({"@flatten": {"value": {"@path": "$.missing"}}}, {}) == {}


def test_merge():
    def merge(direction, *objects):
        return value({"@merge": {"direction": direction, "objects": list(objects)}}, {"foo": {"bar": "baz", "hey": "you"}})

    assert merge("right") == {}
    assert merge("right", {"cool": True}, {"cool": "you bet"}) == {"cool": "you bet"}
    assert merge("left", {"cool": True}, {"cool": "you bet"}) == {"cool": True}
    assert merge("right", {"cool": True, "hey": "there"}, {"@path": "foo"}) == {"cool": True, "hey": "you", "bar": "baz"}
    assert merge("left", {"cool": True, "hey": "there"}, {"@path": "foo"}) == {"bar": "baz", "hey": "there", "cool": True}
    assert merge("right", {"a": 1}, {"@path": "$.missing"}, {"@path": "$.foo.bar"}) == {"a": 1}


def test_transform():
    simple = {"@transform": {"apply": {"foo": {"@path": "$.a"}}, "mapping": {"cool": {"@path": "$.foo"}}}}
    assert value(simple, {"a": 1, "b": 2}) == {"cool": 1}
    composed = {"@transform": {
        "apply": {"properties": {"@flatten": {"value": {"@path": "$.properties"}, "separator": "_"}}},
        "mapping": {"properties": {"@path": "$.properties"}, "topLevel": {"@path": "$.properties.nested_a"}},
    }}
    result = value(composed)
    assert result["topLevel"] == "special"
    assert result["properties"]["nested_b"] == 2 and result["properties"]["products_1_productId"] == "456"


def test_exclude_when_null():
    data = {"foo": {"bar": None, "aces": {"a": 1, "c": None, "d": {"a": None}}, "list": [None, 1]}}
    mapping = {
        "gone": {"@excludeWhenNull": {"@path": "$.foo.bar"}},
        "missing": {"@excludeWhenNull": {"@path": "$.nope"}},
        "neat": {"@excludeWhenNull": {"@path": "$.foo"}},
        "kept": {"@path": "$.foo.bar"},
        "template": {"@excludeWhenNull": {"@template": "{{foo.bar}}"}},
    }
    assert map_event(mapping, data) == {
        "neat": {"aces": {"a": 1, "d": {}}, "list": [None, 1]}, "kept": None, "template": "",
    }


def test_mapping_and_event_are_never_changed():
    mapping = {
        "a": {"@merge": {"direction": "right", "objects": [{"@path": "$.properties"}, {"x": 1}]}},
        "b": {"@flatten": {"value": {"@path": "$.properties"}}},
        "c": {"@excludeWhenNull": {"@path": "$.properties"}},
    }
    before_mapping, before_data = copy.deepcopy(mapping), copy.deepcopy(DATA)
    result = map_event(mapping, DATA)
    result["a"]["neighborhood"] = "changed"
    assert mapping == before_mapping and DATA == before_data


def test_a_top_level_directive_that_is_not_an_object_maps_to_an_empty_event():
    assert map_event({"@path": "$.userId"}, DATA) == {}
    assert map_event({"@path": "$.properties.nested"}, DATA) == {"a": "special", "b": 2}

"""FQL: spec 4.3's trigger examples, spec 4.6, vector 11, Segment's documented tables, errors."""

import pytest

from segue.errors import ConfigError
from segue.mapping import fql
from segue.mapping.fql import FQLError, compile, parse, render

VECTOR_11 = {
    "event": "Button Clicked", "type": "track", "context": {"library": {"version": "1.0"}},
    "properties": {"features": ["discounts", "dark-mode"]},
}
ORDER = {
    "type": "track", "event": "Order Completed", "userId": "u1",
    "properties": {"price": 120, "name": "Nike Air", "product 1": {"price": "19.99"}},
    "context": {"app": {"name": "x"}},
}
PRODUCT = {"type": "track", "event": "Product Added", "properties": {"price": 20, "name": "Adidas"}}
IDENTIFY = {"type": "identify", "userId": "u2", "traits": {"plan": "premium", "email": "a@b.co"}}
PAGE = {"type": "page", "name": "Home", "anonymousId": "a1"}


def holds(text, event):
    return compile(text)(event)


@pytest.mark.parametrize("text, event, expected", [
    ('type = "track"', ORDER, True),
    ('type = "track"', IDENTIFY, False),
    ('type = "track" and event = "Order Completed"', ORDER, True),
    ('type = "track" and event = "Order Completed"', PRODUCT, False),
    ('type = "track" and (event = "Product Added" or event = "Order Completed")', PRODUCT, True),
    ('type = "track" and (event = "Product Added" or event = "Order Completed")', PAGE, False),
    ('event != "Order Completed"', PRODUCT, True),
    ('event != "Order Completed"', ORDER, False),
    ('event != "Order Completed"', IDENTIFY, True),
    ("properties.price >= 100", ORDER, True),
    ("properties.price >= 100", PRODUCT, False),
    ('traits.plan = "premium"', IDENTIFY, True),
    ('context.app.name = "x"', ORDER, True),
    ("userId != null", ORDER, True),
    ("userId != null", PAGE, False),
    ("name = null", ORDER, True),
    ("name = null", PAGE, False),
    ('contains(properties.name, "Nike")', ORDER, True),
    ('contains(properties.name, "Nike")', PRODUCT, False),
    ('!contains(properties.name, "Nike")', PRODUCT, True),
    ('!contains(properties.name, "Nike")', ORDER, False),
    ('match(event, "Prod*")', PRODUCT, True),
    ('match(event, "Prod*")', ORDER, False),
    ('match(event, "*Added")', PRODUCT, True),
    ('match(event, "*Added")', ORDER, False),
])
def test_spec_4_3_trigger_examples(text, event, expected):
    assert holds(text, event) is expected


@pytest.mark.parametrize("text, expected", [
    ("match(context.library.version,'1.*')", True),
    ("type = 'track' and ( event = 'Click' or match( event, 'Button *' ) )", True),
    ("'dark-mode' in properties.features", True),
    ("!contains(context.library.name,'js')", False),
])
def test_vector_11(text, expected):
    assert holds(text, VECTOR_11) is expected


@pytest.mark.parametrize("text, expected", [
    ("event = 'Button Clicked'", True),
    ("event = 'Screen Tapped'", False),
    ("context.path.path = '/login'", False),
    ("type = 'identify' or type = 'track'", True),
    ("event = 'Button Clicked' and type = 'track'", True),
    ("match( context.library.version, '2.*' )", False),
    ("!contains( context.library.name, 'js' )", False),
    ("contains( context.library.name, 'js' )", True),
    ("'blink' in properties.features", False),
    ("!( type in ['track', 'identify'] )", False),
    ("type in ['track', 'page']", True),
])
def test_segment_documented_examples(text, expected):
    event = {**VECTOR_11, "context": {"library": {"name": "analytics.js", "version": "1.0"}}}
    assert holds(text, event) is expected


def test_spec_4_6_examples():
    assert holds("length( userId ) < 1", PAGE) is True
    assert holds("length( userId ) < 1", ORDER) is False
    assert holds("properties.product\\ 1.price = '19.99'", ORDER) is True
    assert holds("contains(properties.missing, 'x')", ORDER) is False
    assert holds("typeof(properties.price) = 'number' and number('120') = properties.price", ORDER)


@pytest.mark.parametrize("value, pattern, expected", [
    ("abcd", "a*d", True), ("", "*", True), ("abc", "ab", False), ("abcd", "a??d", True),
    ("abcd", "*d", True), ("ab*d", "ab\\*d", True), ("abxd", "ab\\*d", False), ("abCd", "ab[cC]d", True),
    ("abcd", "ab[a-z]d", True), ("abcd", "ab[A-Z]d", False), ("abcd", "ab[!c]d", False),
    ("a]", "a[]]", True), ("a[", "a[", True), ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*c", False),
])
def test_match_globs_like_segment(value, pattern, expected):
    escaped = pattern.replace("\\", "\\\\")
    assert holds(f"match(properties.v, '{escaped}')", {"properties": {"v": value}}) is expected


@pytest.mark.parametrize("text", [
    "x = null", "!(x != null)", "x != 1", "x != 'a'", "1 = 1.0", "[1, 'a'] = [1.0, 'a']",
    "length(x) = 0", "lowercase(x) = null", "typeof(x) = 'null'", "typeof(n) = 'number'",
    "typeof(s) = 'string'", "typeof(b) = 'bool'", "typeof(l) = 'list'", "typeof(o) = 'object'",
    "n != '5'", "b != 1", "length(s) = 4", "length('ア') = 3", "length(l) = 2",
    "lowercase(s) = 'aé!'", "uppercase(s) = 'AÉ!'", "snakecase('test string') = 'test_string'",
    "kebabcase('test string') = 'test-string'", "titlecase('test string') = 'Test String'",
    "bool(1) and bool('yes') and !bool('false') and !bool('') and !bool(x) and bool(l)",
    "string(n) = '5' and string(b) = 'true' and string(l) = '[1,\"a\"]' and string(x) = 'null'",
    "number('2.5') = 2.5 and number('7') = 7 and number('x') = null and number(n) = 5",
    "n > 4 and n >= 5 and n < 6 and n <= 5 and -1 < n and +5 = n",
    "o.k = 'v' and l.1 = 'a' and l.5 = null", "'a' in l and 1 in l and !('b' in l)",
])
def test_null_safety_types_and_functions(text):
    event = {"n": 5, "s": "aÉ!", "b": True, "l": [1, "a"], "o": {"k": "v"}}
    assert holds(text, event) is True


@pytest.mark.parametrize("text", [
    "x < 1", "x > 1", "s < 5", "b > 0", "'a' in s", "x in l", "contains(n, '5')", "!contains(n, '5')",
    "match(x, '*')", "!match(x, '*')", "s", "n", "!s", "x", "b = 1", "n = '5'",
])
def test_mismatched_types_and_nulls_are_not_true(text):
    event = {"n": 5, "s": "abc", "b": True, "l": [1]}
    assert holds(text, event) is False


def test_bare_boolean_fields_are_conditions():
    assert holds("properties.enabled or match(traits.email, '*@company.com')", {"properties": {"enabled": True}})
    assert holds("!properties.enabled", {"properties": {"enabled": False}})


@pytest.mark.parametrize("text, position, fragment", [
    ("", 1, "expected a condition"),
    ("type =", 7, "expected a value"),
    ("type = 'track", 8, "unterminated string"),
    ("(type = 'track'", 16, "expected ')'"),
    ("type = 'track' event = 'x'", 16, "expected 'and', 'or' or the end"),
    ("type == 'track'", 7, "expected a value"),
    ("foo(event)", 1, "unknown function 'foo'"),
    ("contains(event)", 1, "takes 2 argument(s), got 1"),
    ("properties.", 12, "expected a field name after '.'"),
    ("price > 5.", 11, "expected a digit"),
    ("type in ['a', ]", 15, "expected a string, a number"),
    ("type in ['a' 'b']", 14, "expected ',' or ']'"),
    ("userId = oops\"", 14, "unterminated string"),
    ("$x = 1", 1, "unexpected character '$'"),
    ("a = 1 and", 10, "expected a value"),
    ("a = b = c", 7, "expected 'and', 'or'"),
])
def test_syntax_errors_name_the_position_and_what_was_expected(text, position, fragment):
    with pytest.raises(FQLError) as caught:
        parse(text)
    assert isinstance(caught.value, ConfigError)
    assert caught.value.code == "invalid_fql"
    assert f"position {position}:" in caught.value.message
    assert fragment in caught.value.message
    assert caught.value.details == {"position": position}


def test_limits():
    long = " or ".join(["type = 'track'"] * 400)
    assert len(long) > 5 * 1024
    with pytest.raises(FQLError, match="at most 5120 characters"):
        parse(long)
    with pytest.raises(FQLError, match="nesting deeper"):
        parse("(" * 100 + "a" + ")" * 100)
    with pytest.raises(FQLError, match="nesting deeper"):
        parse("!" * 100 + "a")
    with pytest.raises(FQLError, match="must be a string"):
        parse(None)


def test_parse_builds_an_ast_and_render_writes_it_back():
    tree = parse("type = 'track' and (event = \"Click\" or !match(event, 'B*')) and x in [1, 2.5, null]")
    assert tree == fql.And((
        fql.Compare("=", fql.Path(("type",)), fql.Literal("track")),
        fql.Or((
            fql.Compare("=", fql.Path(("event",)), fql.Literal("Click")),
            fql.Not(fql.Call("match", (fql.Path(("event",)), fql.Literal("B*")))),
        )),
        fql.Compare("in", fql.Path(("x",)), fql.ListLiteral((1, 2.5, None))),
    ))
    assert render(tree) == "type = 'track' and (event = 'Click' or !match(event, 'B*')) and x in [1, 2.5, null]"
    assert render(parse("properties.product\\ 1.price = 'it\\'s'")) == "properties.product\\ 1.price = 'it\\'s'"
    assert render(parse("\\and = 1")) == "\\and = 1"


def test_compile_is_cached_by_text():
    assert compile("type = 'track'") is compile("type = 'track'")
    assert fql.evaluate(parse("a = 1"), {"a": 1}) is True

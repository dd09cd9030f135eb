"""FQL properties: parsing fails only with FQLError, render round-trips, evaluation never raises."""

from hypothesis import given, settings
from hypothesis import strategies as st

from segue.mapping.fql import (
    ARITY, And, Call, Compare, FQLError, ListLiteral, Literal, Not, Or, Path, evaluate, parse, render,
)

PIECES = [
    "a", "b.c", ".", "(", ")", "'x'", '"y"', "'", '"', "\\", "!", "=", "!=", "<", ">=", "and", "or",
    "in", "[", "]", ",", "1", "-", "+", "1.5", "5.", "contains", "match(", "length", "true", "null",
    " ", "\n", "$", "*", "@", "é",
]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
events = st.dictionaries(
    st.sampled_from(["type", "event", "userId", "properties", "a", "b", "in", "1"]), json_values, max_size=5,
)
leaves = st.one_of(
    scalars.map(Literal),
    st.lists(scalars, max_size=3).map(lambda values: ListLiteral(tuple(values))),
    st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=3).map(lambda keys: Path(tuple(keys))),
)


def _calls(children):
    return st.sampled_from(sorted(ARITY)).flatmap(
        lambda name: st.lists(children, min_size=ARITY[name], max_size=ARITY[name]).map(
            lambda args: Call(name, tuple(args))
        )
    )


def _extend(children):
    ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "in"])
    return st.one_of(
        st.builds(Compare, ops, children, children),
        st.builds(Not, children),
        st.lists(children, min_size=2, max_size=3).map(lambda items: And(tuple(items))),
        st.lists(children, min_size=2, max_size=3).map(lambda items: Or(tuple(items))),
        _calls(children),
    )


trees = st.recursive(leaves, _extend, max_leaves=12)


@given(st.text(max_size=200))
def test_parse_raises_only_fql_errors_on_any_text(text):
    try:
        parse(text)
    except FQLError:
        pass


@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_parse_raises_only_fql_errors_on_token_soup(text):
    try:
        tree = parse(text)
    except FQLError:
        return
    assert parse(render(tree)) == tree


@settings(max_examples=300)
@given(trees)
def test_render_round_trips(tree):
    assert parse(render(tree)) == tree


@given(trees, events)
def test_evaluate_never_raises_and_gives_a_boolean(tree, event):
    assert evaluate(tree, event) in (True, False)

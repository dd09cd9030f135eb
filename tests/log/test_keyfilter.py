"""The Bloom filters in front of dedup.db: never a false "not here", few false "maybe"."""

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from segue.log.keyfilter import KeyFilter


@given(st.lists(st.binary(min_size=16, max_size=16), max_size=300))
@settings(max_examples=50)
def test_every_added_key_may_be_there_also_after_the_filter_grows(keys):
    key_filter = KeyFilter(first_capacity=8)  # grows several times within one example
    key_filter.add_all(keys[: len(keys) // 2])
    key_filter.add_all(keys[len(keys) // 2:])
    assert all(key_filter.might_contain(key) for key in keys)


def test_keys_never_added_are_mostly_certainly_absent():
    key_filter = KeyFilter(first_capacity=1000)
    key_filter.add_all(os.urandom(16) for _ in range(3000))  # three filters: 1,000 + 2,000 keys
    strangers = [os.urandom(16) for _ in range(10_000)]
    false_maybes = sum(key_filter.might_contain(key) for key in strangers)
    assert false_maybes < 400  # each of the two filters errs on about 1%

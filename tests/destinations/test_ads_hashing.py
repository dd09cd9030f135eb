"""The shared normalise-and-hash helpers, pinned to the vendors' documented examples."""

from __future__ import annotations

import pytest

from segue.destinations import _ads as ads
from segue.destinations.common import chunks
from segue.errors import InvalidMessage

# (raw value, normaliser, expected SHA-256) as each vendor documents them
DOCUMENTED = [
    # Meta, customer information parameters
    ("John_Smith@gmail.com", ads.email, "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"),
    ("+1 (650) 555-1212", ads.phone_digits, "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"),
    ("Mary", ads.meta_name, "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"),
    ("정", ads.meta_name, "8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14"),
    ("Valéry", ads.meta_name, "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"),
    # Snap, user data parameters
    ("Person@Example.com", ads.email, "542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345"),
    ("+44 844 412 4653", ads.phone_digits, "dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383"),
    # Reddit, match keys
    ("Al.ice$+Apple@Example.Com", ads.reddit_email, "ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976"),
    ("alice@example.com", ads.reddit_email, "ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976"),
    ("+15554441234", ads.phone_e164, "e5b124c58580eb16bd959b8d0cac12b12c952e2ceae0203d416cff94f10b994a"),
    ("customer12345", ads.trimmed, "a4cc2fc5adf58a029291c1514d273989113a1d05e1d753c1d0c3a848af7109cc"),
]


@pytest.mark.parametrize(("raw", "normalise", "digest"), DOCUMENTED)
def test_documented_examples_hash_as_the_vendors_say(raw, normalise, digest):
    assert ads.hashed(raw, normalise) == digest


@pytest.mark.parametrize(("normalise", "raw", "normal"), [
    (ads.email, "  Jane.Doe@Example.COM ", "jane.doe@example.com"),
    (ads.reddit_email, "J.Doe+promo@Example.com", "jdoe@example.com"),
    (ads.phone_digits, "0044 (20) 7946-0958", "442079460958"),
    (ads.phone_digits, "+33 6 12 34 56 78", "33612345678"),
    (ads.phone_e164, "+1 (213) 373-4253", "+12133734253"),
    (ads.phone_e164, "+1 555 444 1234 ext. 12", "+15554441234"),
    (ads.phone_e164, "n/a", None),
    (ads.meta_name, "O'Brien-Smith", "obriensmith"),
    (ads.lower_trim, " Jane ", "jane"),
    (ads.city, "South San Francisco", "southsanfrancisco"),
    (ads.city, "Saint-Étienne", "saintétienne"),
    (ads.state, "California", "ca"),
    (ads.state, "TX", "tx"),
    (ads.state, "New York", "ny"),
    (ads.state, "Île-de-France", "îledefrance"),
    (ads.zip_code, "94035-1234", "94035"),
    (ads.zip_code, "M1 1AE", "m11ae"),
    (ads.zip_code, "75018", "75018"),
    (ads.zip_digits, "10001-0001", "100010001"),
    (ads.country, "US", "us"),
    (ads.country, "France", None),
    (ads.gender, "Female", "f"),
    (ads.gender, "m", "m"),
    (ads.gender, "non-binary", None),
    (ads.gender_mfn, "non-binary", "n"),
    (ads.birthday, "1997-02-16", "19970216"),
    (ads.birthday, "1997-02-16T00:00:00Z", "19970216"),
    (ads.birthday, "16/02/1997", None),
    (ads.trimmed, " User-42 ", "User-42"),
])
def test_normalisers(normalise, raw, normal):
    assert normalise(raw) == normal


def test_already_hashed_values_pass_through_lower_cased():
    digest = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F"
    assert ads.hashed(f" {digest} ", ads.email) == digest.lower()


@pytest.mark.parametrize("value", [None, "", "   ", True, 3.5, {"a": 1}, ["x"]])
def test_missing_or_unusable_values_hash_to_nothing(value):
    assert ads.hashed(value, ads.email) is None


def test_numbers_are_hashed_as_text():
    assert ads.hashed(15554441234, ads.phone_e164) == ads.sha256_hex("+15554441234")


def test_hashed_fields_skip_absent_and_unnormalisable_values():
    rules = {"em": ("email", ads.email), "country": ("country", ads.country), "ph": ("phone", ads.phone_digits)}
    fields = ads.hashed_fields({"email": "a@b.co", "country": "France"}, rules)
    assert fields == {"em": ads.sha256_hex("a@b.co")}


def test_person_reads_reserved_traits_under_both_spellings():
    event = {"type": "track", "userId": "u-1", "context": {"traits": {
        "first_name": "Ada", "lastName": "Lovelace", "address": {"postal_code": "75018", "city": "Paris"}}}}
    person = ads.person(event)
    assert (person["first_name"], person["last_name"], person["zip"], person["city"], person["external_id"]) == (
        "Ada", "Lovelace", "75018", "Paris", "u-1")


def test_identify_traits_are_read_from_traits():
    assert ads.person({"type": "identify", "anonymousId": "a-1", "traits": {"email": "x@y.z"}})["email"] == "x@y.z"


def test_option_prefers_the_integrations_object_then_context():
    event = {"integrations": {"Dest": {"fbc": "from-options"}}, "context": {"fbc": "from-context", "fbp": "p"}}
    assert ads.option(event, "Dest", "fbc") == "from-options"
    assert ads.option(event, "Dest", "fbp") == "p"
    assert ads.option(event, "Other", "missing") is None


def test_products_value_and_currency_follow_the_ecommerce_spec():
    order = {"revenue": 25, "total": 27.5, "products": [{"product_id": "p1", "quantity": 2}, {"name": "no id"}]}
    assert ads.products(order) == [{"product_id": "p1", "quantity": 2}]
    assert ads.value(order) == 25 and ads.currency(order, 25) == "USD"
    viewed = {"sku": "s-9", "price": 9.5, "currency": "eur"}
    assert ads.products(viewed) == [viewed] and ads.value(viewed) == 9.5 and ads.currency(viewed, 9.5) == "EUR"
    assert ads.currency({}, None) is None
    assert [ads.quantity(item) for item in ({"quantity": 3}, {"quantity": 0}, {"quantity": 1.5}, {})] == [3, 1, 1, 1]


def test_a_track_call_needs_a_name_and_a_timestamp():
    with pytest.raises(InvalidMessage):
        ads.standard_event({"type": "track"}, {}, None)
    with pytest.raises(InvalidMessage):
        ads.event_time_ms({"type": "track"})


def test_chunks():
    assert list(chunks(list(range(5)), 2)) == [[0, 1], [2, 3], [4]]
    assert list(chunks([], 2)) == []

"""go-snakecase parity (every case of its snake_test.go) and the SQL naming rules (spec 3.5)."""

from __future__ import annotations

import pytest

from segue.warehouses.naming import IDENTIFIER_LIMITS, Namer, schema_name, shorten, snakecase

# segmentio/go-snakecase snake_test.go (latest version), then the spec's own cases.
GO_SNAKECASE_CASES = [
    ("@49L0S145_¬fwHƒ0TSLNVp", "49l0s145_fw_h_0tslnvp"),
    ("lk0B@bFmjrLQ_Z6YL", "lk0_b_b_fmjr_lq_z6yl"),
    ("samPLE text", "sam_ple_text"),
    ("sample text", "sample_text"),
    ("sample-text", "sample_text"),
    ("sample_text", "sample_text"),
    ("sample___text", "sample_text"),
    ("sampleText", "sample_text"),
    ("inviteYourCustomersAddInvites", "invite_your_customers_add_invites"),
    ("sample 2 Text", "sample_2_text"),
    ("   sample   2    Text   ", "sample_2_text"),
    ("   $#$sample   2    Text   ", "sample_2_text"),
    ("SAMPLE 2 TEXT", "sample_2_text"),
    ("___$$Base64Encode", "base64_encode"),
    ("FOO:BAR$BAZ", "foo_bar_baz"),
    ("FOO#BAR#BAZ", "foo_bar_baz"),
    ("something.com", "something_com"),
    ("$something%", "something"),
    ("•¶§ƒ˚foo˙∆˚¬", "foo"),
    ("CStringRef", "cstring_ref"),
    ("5test", "5test"),
    ("test5", "test5"),
    ("THE5r", "the5r"),
    ("5TEst", "5test"),
    ("_5TEst", "5test"),
    ("@%#&5TEst", "5test"),
    ("edf_6N", "edf_6n"),
    ("f_pX9", "f_p_x9"),
    ("p_z9Rg", "p_z9_rg"),
    ("2FA Enabled", "2fa_enabled"),
    ("Enabled 2FA", "enabled_2fa"),
    # Cases other ports of the same tests carry (go-strcase, Rust stringer).
    ("---$$Base64-_-_-Encode", "base64_encode"),
    ("sample_text_", "sample_text"),
    ("sample_text__", "sample_text"),
    ("", ""),
    # Spec 3.5 and section 7 #1, #3, #5.
    ("userID", "user_id"),
    ("HTMLParser", "htmlparser"),
    ("Order Completed", "order_completed"),
    ("Item Purchased", "item_purchased"),
    ("accountType", "account_type"),
    ("selected gift", "selected_gift"),
]


@pytest.mark.parametrize(("raw", "expected"), GO_SNAKECASE_CASES)
def test_snakecase_matches_go_snakecase(raw, expected):
    assert snakecase(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("open", "_open"), ("Order", "_order"), ("user", "_user"), ("from", "_from"),
    ("3doctors", "_3doctors"), ("101 Account Update", "_101_account_update"),
    ("opened", "opened"), ("plan", "plan"), ("•¶§", ""),
])
def test_reserved_words_and_leading_digits_get_an_underscore(raw, expected):
    assert Namer("redshift").name(raw) == expected


def test_schema_name_from_source_slug():
    assert schema_name("3doctors", "redshift") == "_3doctors"
    assert schema_name("segment-engineering") == "segment_engineering"
    assert schema_name("•¶§") == "segue"


@pytest.mark.parametrize("engine", sorted(IDENTIFIER_LIMITS))
def test_long_names_are_shortened_deterministically_within_the_engine_limit(engine):
    namer, limit = Namer(engine), IDENTIFIER_LIMITS[engine]
    long_name = "a very long property name that keeps going " * 8
    short = namer.name(long_name)
    assert len(short.encode()) <= limit
    assert short == Namer(engine).name(long_name)
    assert namer.shortened == {snakecase(long_name): short}
    assert namer.name(long_name + " other") != short


def test_shortening_keeps_names_that_fit_and_respects_bytes():
    assert shorten("plan", 63) == "plan"
    assert IDENTIFIER_LIMITS["postgres"] == 63 and IDENTIFIER_LIMITS["mysql"] == 64
    assert len(shorten("é" * 40, 63).encode()) <= 63


def test_a_schema_never_starts_with_pg_which_postgresql_reserves():
    from segue.warehouses.naming import schema_name

    assert schema_name("pg-1325a7d1") == "_pg_1325a7d1"
    assert schema_name("pgsql app") == "pgsql_app"

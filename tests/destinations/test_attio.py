"""Attio specifics: domains, group links, error bodies."""

from __future__ import annotations

from segue.destinations.attio import Settings, group, interpret
from segue.destinations.common import website_domain

SETTINGS = Settings(access_token="t")


def test_website_domain_of_websites():
    assert website_domain("https://www.Attio.com/pricing") == "attio.com"
    assert website_domain("attio.com") == "attio.com"
    assert website_domain("not a domain") is None


def test_group_without_domain_cannot_be_matched():
    assert group({"type": "group", "groupId": "g", "traits": {"name": "Acme"}}, SETTINGS) == []


def test_group_without_user_email_only_asserts_the_company():
    assert len(group({"type": "group", "groupId": "g", "traits": {"website": "acme.io"}}, SETTINGS)) == 1


def test_interpret_reads_attio_errors():
    body = b'{"status_code":400,"type":"invalid_request_error","code":"value_not_found","message":"Cannot find attribute"}'
    assert interpret(400, body) == "value_not_found: Cannot find attribute"

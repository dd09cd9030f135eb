"""Settings helpers: validation errors, secrets, masking, PATCH, catalog fields, JSON schema."""

from __future__ import annotations

from typing import Literal

import orjson
import pytest
from pydantic import Field, SecretStr

from segue.destinations.contract import DestinationSettings
from segue.destinations.settings import (
    InvalidSettings, apply_update, json_schema, label_from_name, mask, masked, merge_settings, secret_names,
    settings_fields, split_secrets, validate_settings,
)
from segue.errors import ConfigError

LONG_SECRET = "sk_live_0123456789abcdef"


class Example(DestinationSettings):
    api_key: SecretStr = Field(title="API Key", description="The key.")
    short_token: SecretStr | None = None
    region: Literal["US", "EU"] = "US"
    batch_size: int = 100
    ratio: float = 0.5
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict)
    endpoint_url: str | None = None


def test_validation_error_names_fields_and_rules():
    with pytest.raises(InvalidSettings) as caught:
        validate_settings(Example, {"region": "APAC", "batchSize": "many", "unknown": 1})
    error = caught.value
    assert isinstance(error, ConfigError) and error.code == "invalid_settings" and error.status == 400
    rules = {(entry["field"], entry["rule"]) for entry in error.details["errors"]}
    assert rules == {("apiKey", "missing"), ("region", "literal_error"), ("batchSize", "int_parsing"),
                     ("unknown", "extra_forbidden")}
    assert error.message.startswith("invalid settings: apiKey: Field required (missing); region: Input should be")
    body = error.to_json()
    assert body["success"] is False and body["code"] == "invalid_settings" and len(body["errors"]) == 4


def test_validation_error_never_echoes_the_input():
    with pytest.raises(InvalidSettings) as caught:
        validate_settings(Example, {"apiKey": LONG_SECRET, "region": LONG_SECRET})
    assert LONG_SECRET not in orjson.dumps(caught.value.to_json()).decode()


def test_nested_field_paths_are_dotted():
    with pytest.raises(InvalidSettings) as caught:
        validate_settings(Example, {"apiKey": "k", "tags": ["ok", 3]})
    assert caught.value.details["errors"][0]["field"] == "tags.1"


def test_secret_names_are_aliases_of_secret_fields():
    assert secret_names(Example) == frozenset({"apiKey", "shortToken"})


def test_split_and_merge_round_trip():
    settings = validate_settings(Example, {"apiKey": LONG_SECRET, "region": "EU", "tags": ["a"]})
    public, secrets = split_secrets(settings)
    assert secrets == {"apiKey": LONG_SECRET}  # absent secrets are left out
    assert "apiKey" not in public and "shortToken" not in public
    assert public["region"] == "EU" and public["tags"] == ["a"] and public["batchSize"] == 100
    orjson.dumps(public)
    assert merge_settings(Example, public, secrets) == settings


def test_masked_never_shows_a_secret():
    public, secrets = {"region": "EU"}, {"apiKey": LONG_SECRET, "shortToken": "abc123"}
    shown = masked(Example, public, secrets)
    assert shown == {"region": "EU", "apiKey": "••••ef", "shortToken": "••••"}
    assert LONG_SECRET not in str(shown) and "abc123" not in str(shown)


@pytest.mark.parametrize("secret, shown", [("", "••••"), ("12345678901", "••••"), ("123456789012", "••••12")])
def test_mask_shows_a_tail_only_for_long_secrets(secret, shown):
    assert mask(secret) == shown


def test_apply_update_keeps_a_secret_sent_back_masked():
    public, secrets = split_secrets(validate_settings(Example, {"apiKey": LONG_SECRET, "shortToken": "abc123"}))
    echoed = masked(Example, public, secrets)
    updated = apply_update(Example, public, secrets, {**echoed, "region": "EU"})
    assert updated.api_key.get_secret_value() == LONG_SECRET
    assert updated.short_token.get_secret_value() == "abc123"
    assert updated.region == "EU"


def test_apply_update_replaces_and_removes():
    public, secrets = split_secrets(validate_settings(Example, {"apiKey": LONG_SECRET, "shortToken": "abc123",
                                                                 "region": "EU"}))
    updated = apply_update(Example, public, secrets, {"api_key": "new-key", "shortToken": None, "region": None})
    assert updated.api_key.get_secret_value() == "new-key"  # python names are accepted too
    assert updated.short_token is None and updated.region == "US"  # None: back to the default
    with pytest.raises(InvalidSettings):
        apply_update(Example, public, secrets, {"apiKey": None})


def test_settings_fields_in_segment_shape():
    fields = {field["name"]: field for field in settings_fields(Example)}
    assert list(fields) == ["apiKey", "shortToken", "region", "batchSize", "ratio", "enabled", "tags", "headers",
                            "endpointUrl"]
    assert {name: field["type"] for name, field in fields.items()} == {
        "apiKey": "password", "shortToken": "password", "region": "select", "batchSize": "integer",
        "ratio": "number", "enabled": "boolean", "tags": "array", "headers": "map", "endpointUrl": "string",
    }
    assert fields["apiKey"] == {"name": "apiKey", "type": "password", "label": "API Key", "description": "The key.",
                                "required": True, "defaultValue": None, "choices": None, "secret": True}
    assert fields["region"]["choices"] == ["US", "EU"] and fields["region"]["defaultValue"] == "US"
    assert fields["endpointUrl"]["label"] == "Endpoint URL" and not fields["endpointUrl"]["required"]
    assert fields["tags"]["defaultValue"] == []


def test_json_schema_by_alias_with_write_only_secrets():
    schema = json_schema(Example)
    assert schema["properties"]["apiKey"]["writeOnly"] is True
    assert schema["properties"]["shortToken"]["writeOnly"] is True
    assert "writeOnly" not in schema["properties"]["region"]
    assert schema["required"] == ["apiKey"] and schema["additionalProperties"] is False
    orjson.dumps(schema)


@pytest.mark.parametrize("name, label", [("apiKey", "API Key"), ("site_id", "Site ID"), ("iconUrl", "Icon URL"),
                                         ("useBatchEndpoint", "Use Batch Endpoint")])
def test_labels_from_names(name, label):
    assert label_from_name(name) == label

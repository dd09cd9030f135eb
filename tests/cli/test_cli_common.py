"""The helpers every command group shares: settings flags, intervals, errors."""

from __future__ import annotations

import pytest

from segue.cli.common import parse_duration, parse_value, settings_from_flags
from segue.errors import ConfigError


@pytest.mark.parametrize(
    "text, value",
    [
        ("42", 42),
        ("1.5", 1.5),
        ("true", True),
        ("null", None),
        ('{"a": [1]}', {"a": [1]}),
        ('"42"', "42"),
        ("http://example.test/?a=b", "http://example.test/?a=b"),
        ("", ""),
        ("POST", "POST"),
    ],
)
def test_parse_value_is_json_when_it_parses(text, value):
    assert parse_value(text) == value


def test_settings_from_flags():
    assert settings_from_flags(None, None) is None
    assert settings_from_flags([], None) is None
    assert settings_from_flags(["a=1", "b=x=y", " c =true"], '{"a": 0, "d": "kept"}') == {"a": 1, "b": "x=y", "c": True, "d": "kept"}
    assert settings_from_flags(None, "{}") == {}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        settings_from_flags(["=1"], None)


@pytest.mark.parametrize("text, seconds", [("3600", 3600), ("90m", 5400), ("12h", 43200), ("1d", 86400), (" 2H ", 7200), (None, None)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5", "1w", "soon", "1.5h"])
def test_parse_duration_refuses(text):
    with pytest.raises(ConfigError, match="invalid interval"):
        parse_duration(text)


def test_settings_json_file_missing(segue, web, tmp_path):
    stderr = segue.fails("destinations", "create", "webhook", "--source", "web", "--settings-json", f"@{tmp_path / 'nope.json'}")
    assert "cannot read --settings-json file" in stderr

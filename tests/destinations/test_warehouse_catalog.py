"""The warehouse engine catalog: engines, settings models, serialisation."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations.settings import InvalidSettings, secret_names, validate_settings
from segue.errors import NotFound
from segue.warehouses.catalog import WAREHOUSE_ENGINES, get_engine, serialize_engine


def test_engines_and_defaults():
    assert list(WAREHOUSE_ENGINES) == ["duckdb", "postgres", "mysql", "snowflake", "redshift"]
    assert get_engine("redshift").status == "beta" and get_engine("postgres").status == "public"
    assert {slug: engine.default_port for slug, engine in WAREHOUSE_ENGINES.items()} == {
        "duckdb": None, "postgres": 5432, "mysql": 3306, "snowflake": None, "redshift": 5439,
    }


def test_unknown_engine_is_not_found():
    with pytest.raises(NotFound, match="'oracle'"):
        get_engine("oracle")


def test_settings_models():
    assert validate_settings(get_engine("duckdb").settings, {}).path == ""
    postgres = validate_settings(get_engine("postgres").settings,
                                 {"host": "db", "database": "dw", "user": "segue", "password": "pw"})
    assert postgres.port == 5432 and postgres.sslmode == "prefer"
    assert validate_settings(get_engine("redshift").settings,
                             {"host": "rs", "database": "dw", "user": "segue", "password": "pw"}).port == 5439
    assert secret_names(get_engine("snowflake").settings) == frozenset({"password", "privateKey"})
    with pytest.raises(InvalidSettings):
        validate_settings(get_engine("postgres").settings,
                          {"host": "db", "database": "dw", "user": "u", "password": "p", "sslmode": "allow"})
    with pytest.raises(InvalidSettings):
        validate_settings(get_engine("mysql").settings,
                          {"host": "db", "database": "dw", "user": "u", "password": "p", "port": 70000})


@pytest.mark.parametrize("slug", list(WAREHOUSE_ENGINES))
def test_serialize_engine(slug):
    entry = serialize_engine(get_engine(slug))
    assert list(entry) == ["slug", "name", "description", "status", "docsUrl", "logo", "settings"]
    assert entry["logo"].startswith("<svg") and entry["docsUrl"].startswith("https://")
    orjson.dumps(entry)


def test_postgres_settings_fields():
    fields = {field["name"]: field for field in serialize_engine(get_engine("postgres"))["settings"]}
    assert fields["password"]["type"] == "password" and fields["password"]["secret"]
    assert fields["sslmode"]["choices"] == ["disable", "prefer", "require", "verify-full"]
    assert fields["port"] == {**fields["port"], "type": "integer", "defaultValue": 5432, "required": False}

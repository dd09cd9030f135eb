"""Segment's layout for one event: spec 3.2-3.4 and section 7 vectors 1, 3, 4, 5 exactly."""

from __future__ import annotations

import pytest

from segue.warehouses.layout import loads_into, rows_for, stringify
from segue.warehouses.naming import Namer
from tests.destinations.events import maximal, minimal
from tests.warehouses import vectors

UUID_TS = "2012-12-02T01:00:00.000Z"


def layout(event: dict) -> dict[str, dict]:
    return dict(rows_for(event, Namer("postgres"), UUID_TS))


def test_vector_1_track_goes_to_tracks_and_its_event_table():
    rows = layout(vectors.vector_1())
    common = {
        "id": "msg-v1", "user_id": "019mr8mf4r", "received_at": vectors.RECEIVED_AT,
        "timestamp": vectors.TIMESTAMP, "original_timestamp": vectors.TIMESTAMP, "context_ip": "24.5.68.47",
        "uuid_ts": UUID_TS, "event": "item_purchased", "event_text": "Item Purchased",
    }
    assert rows == {
        "tracks": common,
        "item_purchased": {**common, "name": "Leap to Conclusions Mat", "revenue": 14.99},
    }


def test_vector_3_event_table_columns_are_snake_cased():
    rows = layout(vectors.vector_3())
    assert rows["tracks"]["event"] == "register"
    assert set(rows["register"]) == vectors.TRACKS_COLUMNS | {"plan", "account_type"}
    assert rows["register"]["account_type"] == "Facebook"


def test_vector_4_flattening_identify_and_users():
    rows = layout(vectors.vector_4_identify())
    assert rows["identifies"]["address_street"] == "6th Street"
    assert rows["identifies"]["context_app_version"] == "2.1.0"
    assert rows["users"] == {"id": "u-4", "received_at": vectors.RECEIVED_AT, "uuid_ts": UUID_TS,
                             "address_street": "6th Street", "email": "u4@example.com"}


def test_vector_4_flattening_properties_and_arrays():
    row = layout(vectors.vector_4_track())["product_viewed"]
    assert row["product_id_sku"] == "G-32"
    assert row["tags"] == "[507f1, 505bd]"
    assert row["context_app_version"] == "2.1.0"


def test_vector_5_reserved_collision_is_dropped_and_type_kept():
    rows = layout(vectors.vector_5())
    assert rows["selected_gift"]["event"] == "selected_gift"
    assert rows["selected_gift"]["type"] == "cake"
    assert set(rows["selected_gift"]) == vectors.TRACKS_COLUMNS | {"type"}


@pytest.mark.parametrize("method", ["track", "identify", "page", "screen", "group", "alias"])
def test_integrations_and_internal_fields_are_never_stored(method):
    for table, row in rows_for(maximal(method), Namer("postgres"), UUID_TS):
        assert not {"type", "channel", "version", "integrations", "message_id", "project_id"} & set(row), table
        assert not any(column.startswith(("integrations_", "metadata_")) for column in row), table


def test_per_method_tables_and_their_own_columns():
    assert set(layout(maximal("page"))) == {"pages"}
    assert layout(maximal("page"))["pages"]["name"] == "Boutique"
    assert layout(maximal("page"))["pages"]["category"] == "Shop"
    assert layout(maximal("screen"))["screens"]["name"] == "Checkout"
    group = layout(maximal("group"))["groups"]
    assert group["group_id"] == "grp-42" and group["employees"] == 12 and group["name"] == "Analytical Engines Ltd"
    assert layout(maximal("alias"))["aliases"]["previous_id"] == "anon-5678"
    assert set(layout(minimal("identify"))) == {"identifies"}  # no userId: no users row
    assert "anonymous_id" not in layout(maximal("identify"))["users"]


def test_page_property_named_like_the_page_column_is_dropped():
    event = {**minimal("page"), "name": "Home", "properties": {"name": "other", "path": "/"}}
    assert layout(event)["pages"]["name"] == "Home"
    assert layout(event)["pages"]["path"] == "/"


def test_nested_nulls_empty_objects_and_mixed_arrays():
    row = layout(maximal("track"))["order_completed"]
    assert "none" not in row and "empty" not in row
    assert row["nested_level1_level2_level3"] == "[1, 2.5, null, true, ünïcödé]"
    assert row["products"] == "[{product_id: sku-1, price: 21.25, quantity: 2, tags: [sweet, français]}]"
    assert row["product_id"] == "sku-1" and row["flag"] is False
    assert row["context_user_agent"].startswith("Mozilla") and row["context_traits_email"] == "ada@example.com"


def test_event_named_like_a_segment_table_gets_a_prefix():
    event = {**minimal("track"), "event": "Users"}
    assert set(layout(event)) == {"tracks", "_users"}


def test_no_message_id_or_unknown_type_produces_nothing():
    assert rows_for({**minimal("track"), "messageId": ""}, Namer("postgres"), UUID_TS) == []
    assert rows_for({**minimal("track"), "type": "other"}, Namer("postgres"), UUID_TS) == []


@pytest.mark.parametrize(("integrations", "warehouse_id", "expected"), [
    (None, None, True),
    ({}, None, True),
    ({"All": False, "Mixpanel": True}, None, True),
    ({"Warehouses": False}, None, False),
    ({"Warehouses": {"all": False}}, None, False),
    ({"All": False, "Warehouses": {"all": True}}, None, True),
    ({"Warehouses": {"warehouseIds": ["wh1"]}}, "wh1", True),
    ({"Warehouses": {"warehouseIds": ["wh1"]}}, "wh2", False),
    ({"Warehouses": {"warehouseIds": ["wh1"]}}, None, False),
])
def test_integrations_warehouses_rules(integrations, warehouse_id, expected):
    assert loads_into(integrations, warehouse_id) is expected


def test_stringify_matches_segment():
    assert stringify(["507f1", "505bd"]) == "[507f1, 505bd]"
    assert stringify([]) == "[]"

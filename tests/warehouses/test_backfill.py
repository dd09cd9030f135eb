"""Warehouse backfill from the raw archive: a time range loads once, Business plan only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import duckdb
import orjson
import pytest

from segue.config import Settings
from segue.control import OPERATOR, ControlPlane
from segue.errors import PlanLimit
from segue.log.protocol import Record
from segue.pipeline.archive import archive_root, write_parts
from segue.pipeline.warehouse_backfill import backfill
from segue.spec.timestamps import format_ms
from segue.store import Store

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def record(offset: int, source_id: str, minutes: float, event: str) -> Record:
    received_ms = int((T0 + timedelta(minutes=minutes)).timestamp() * 1000)
    body = {"type": "track", "event": event, "messageId": str(uuid.uuid4()), "userId": f"u{offset}",
            "timestamp": format_ms(received_ms), "receivedAt": format_ms(received_ms)}
    return Record(offset, 0, source_id, body["messageId"], received_ms, orjson.dumps(body))


@pytest.fixture
def world(tmp_path):
    settings = Settings.load(environ={}, data_dir=tmp_path, log_writer_process=False)
    store = Store.open(settings)
    plane = ControlPlane(store)
    source = plane.create_source(OPERATOR, "Shop", "python")
    warehouse = plane.create_warehouse(OPERATOR, engine="duckdb", name="lake",
                                       settings={"path": str(tmp_path / "lake.duckdb")})
    write_parts(archive_root(tmp_path), [record(1, source["id"], 5, "Order Completed"),
                                          record(2, source["id"], 65, "Order Completed"),
                                          record(3, source["id"], 200, "Late")])
    yield settings, store, plane, warehouse
    store.close()


def test_a_range_loads_once_however_often_it_is_backfilled(world):
    settings, store, plane, warehouse = world
    plane.set_plan(OPERATOR, "business")
    record_ = plane.backfill_target(OPERATOR, warehouse["id"], T0, T0 + timedelta(hours=2))
    for _ in range(2):
        reports = backfill(store, record_, settings.data_dir, T0, T0 + timedelta(hours=2))
    assert reports["shop"].rows["order_completed"] == 2
    with duckdb.connect(str(settings.data_dir / "lake.duckdb"), read_only=True) as db:
        assert db.execute("select count(*) from shop.order_completed").fetchone() == (2,)
        assert db.execute("select count(*) from shop.tracks").fetchone() == (2,)  # "Late" is outside


def test_backfill_needs_the_business_plan_and_a_range(world):
    _, _, plane, warehouse = world
    with pytest.raises(PlanLimit, match="business plan"):
        plane.backfill_target(OPERATOR, warehouse["id"], T0, T0 + timedelta(hours=1))
    plane.set_plan(OPERATOR, "business")
    with pytest.raises(Exception, match="must be after start"):
        plane.backfill_target(OPERATOR, warehouse["id"], T0, T0)

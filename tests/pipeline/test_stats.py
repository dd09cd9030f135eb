"""Delivery records: the same summaries from the memory twin, SQLite and PostgreSQL; flushes and
windows; on PostgreSQL, several routers' records summed for any node."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from segue.errors import StorageUnavailable
from segue.pipeline.stats import SqliteStatsStore, bucket_ms, latency_bucket


def sample(n: int) -> dict:
    return {"at": n, "messageId": f"m{n}", "event": {"type": "track"}, "exchanges": [], "outcome": {"kind": "failed"}}


async def test_summary_counts_everything(stats_store):
    stats_store.record_delivered("dst_a", 120.0)
    stats_store.record_delivered("dst_a", 80.0, n=2)
    stats_store.record_retry("dst_a")
    stats_store.record_retry("dst_a", n=3)
    stats_store.record_failed("dst_a", sample(1))
    stats_store.record_failed("dst_a")
    stats_store.record_filtered("dst_a", "integrations object")
    stats_store.record_filtered("dst_a", "filter 'x': DROP", n=4)
    stats_store.record_delivered("dst_b", 5.0)
    await stats_store.flush()
    summary = await stats_store.summary("dst_a")
    assert set(summary) == {"delivered", "retried", "failed", "filtered", "latencyMs", "recentFailures"}
    assert (summary["delivered"], summary["retried"], summary["failed"]) == (3, 4, 2)
    assert summary["filtered"] == {"integrations object": 1, "filter 'x': DROP": 4}
    assert summary["recentFailures"] == [sample(1)]
    assert summary["latencyMs"]["p50"] == pytest.approx(80, rel=0.12)
    assert summary["latencyMs"]["p95"] == pytest.approx(120, rel=0.12)


async def test_an_instance_with_nothing_recorded(stats_store):
    assert await stats_store.summary("dst_x") == {
        "delivered": 0, "retried": 0, "failed": 0, "filtered": {}, "latencyMs": {"p50": None, "p95": None},
        "recentFailures": [],
    }


async def test_percentiles_are_within_the_bucket_width(stats_store):
    for ms in range(1, 1001):
        stats_store.record_delivered("dst_a", float(ms))
    await stats_store.flush()
    latency = (await stats_store.summary("dst_a"))["latencyMs"]
    assert latency["p50"] == pytest.approx(500, rel=0.12)
    assert latency["p95"] == pytest.approx(950, rel=0.12)


def test_buckets_cover_sub_millisecond_to_years():
    assert latency_bucket(-5) == latency_bucket(0.3) == 0
    for ms in (1, 7.5, 999, 86_400_000):
        assert bucket_ms(latency_bucket(ms)) == pytest.approx(ms, rel=0.12)
    assert latency_bucket(1e15) == latency_bucket(1e18)


async def test_buffered_records_count_before_a_flush(stats_store):
    stats_store.record_delivered("dst_a", 10.0)
    await stats_store.flush()
    stats_store.record_delivered("dst_a", 10.0)
    stats_store.record_failed("dst_a", sample(2))
    summary = await stats_store.summary("dst_a")
    assert (summary["delivered"], summary["failed"], summary["recentFailures"]) == (2, 1, [sample(2)])


async def test_windows_count_only_recent_minutes(stats_store, clock):
    stats_store.record_delivered("dst_a", 10.0)
    stats_store.record_failed("dst_a", sample(1))
    await stats_store.flush()
    clock.advance(3600)
    stats_store.record_delivered("dst_a", 10.0, n=5)
    stats_store.record_filtered("dst_a", "disabled")
    stats_store.record_failed("dst_a", sample(2))
    await stats_store.flush()
    recent = await stats_store.summary("dst_a", since_seconds=600)
    assert (recent["delivered"], recent["failed"], recent["filtered"]) == (5, 1, {"disabled": 1})
    assert recent["recentFailures"] == [sample(2)]
    everything = await stats_store.summary("dst_a", since_seconds=14 * 86_400)
    assert (everything["delivered"], everything["failed"]) == (6, 2)
    assert everything["recentFailures"] == [sample(2), sample(1)]
    assert (await stats_store.summary("dst_a"))["delivered"] == 6


async def test_only_the_last_20_failures_are_kept_newest_first(stats_store):
    for n in range(15):
        stats_store.record_failed("dst_a", sample(n))
    await stats_store.flush()
    for n in range(15, 30):
        stats_store.record_failed("dst_a", sample(n))
    await stats_store.flush()
    summary = await stats_store.summary("dst_a")
    assert summary["failed"] == 30
    assert [item["messageId"] for item in summary["recentFailures"]] == [f"m{n}" for n in range(29, 9, -1)]


async def test_drop_instance(stats_store):
    stats_store.record_delivered("dst_a", 1.0)
    stats_store.record_failed("dst_a", sample(1))
    await stats_store.flush()
    stats_store.record_retry("dst_a")
    stats_store.record_retry("dst_b")
    await stats_store.drop_instance("dst_a")
    assert (await stats_store.summary("dst_a"))["retried"] == 0
    assert (await stats_store.summary("dst_a"))["recentFailures"] == []
    assert (await stats_store.summary("dst_b"))["retried"] == 1


async def test_sqlite_flush_persists_in_one_file(tmp_path, clock):
    store = SqliteStatsStore(tmp_path / "stats.db", clock)
    store.record_delivered("dst_a", 42.0, n=3)
    store.record_filtered("dst_a", "no matching mapping")
    store.record_failed("dst_a", {**sample(1), "raw": b"bytes are kept as text"})
    await store.close()  # flushes
    reopened = SqliteStatsStore(tmp_path / "stats.db", clock)
    summary = await reopened.summary("dst_a")
    assert (summary["delivered"], summary["filtered"]) == (3, {"no matching mapping": 1})
    assert summary["recentFailures"][0]["raw"] == "b'bytes are kept as text'"
    await reopened.close()


async def test_a_failed_flush_keeps_the_records_for_the_next_one(tmp_path, clock, monkeypatch):
    store = SqliteStatsStore(tmp_path / "stats.db", clock)
    store.record_delivered("dst_a", 10.0, n=2)
    store.record_failed("dst_a", sample(1))
    original = store._write

    def broken(*args):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "_write", broken)
    with pytest.raises(StorageUnavailable):
        await store.flush()
    store.record_delivered("dst_a", 10.0)
    monkeypatch.setattr(store, "_write", original)
    await store.flush()
    summary = await store.summary("dst_a")
    assert (summary["delivered"], summary["failed"], len(summary["recentFailures"])) == (3, 1, 1)
    await store.close()


async def test_sqlite_prunes_minutes_older_than_the_retention(tmp_path, clock):
    store = SqliteStatsStore(tmp_path / "stats.db", clock)
    store.record_delivered("dst_a", 10.0)
    await store.flush()
    clock.advance(16 * 86_400)
    store.record_delivered("dst_a", 10.0)
    await store.flush()
    assert (await store.summary("dst_a"))["delivered"] == 1
    await store.close()


async def test_close_twice(stats_store):
    stats_store.record_retry("dst_a")
    await stats_store.close()
    await stats_store.close()


async def test_a_sample_holding_a_vendors_response_headers_is_saved(stats_store):
    from multidict import CIMultiDict, istr

    from segue.pipeline.delivery import plain_headers

    headers = CIMultiDict({istr("Content-Type"): "application/json", istr("X-Request-Id"): "r-1"})
    raw = {**sample(2), "exchanges": [{"response": {"status": 400, "headers": dict(headers)}}]}  # istr keys
    tidy = {**sample(3), "exchanges": [{"response": {"status": 400, "headers": plain_headers(headers)}}]}
    stats_store.record_failed("dst_h", raw)
    stats_store.record_failed("dst_h", tidy)
    await stats_store.flush()  # a key of a str subclass stopped every later flush
    failures = (await stats_store.summary("dst_h"))["recentFailures"]
    assert {failure["messageId"] for failure in failures} == {"m2", "m3"}
    assert all(f["exchanges"][0]["response"]["headers"]["Content-Type"] == "application/json" for f in failures)


async def test_every_routers_counts_add_up_where_any_node_reads_them(request, tmp_path, clock):
    """On PostgreSQL, two routers record the same instance in the same minutes; a third store (an
    app node of its own) sums both and lists both routers' failures."""
    from tests.pipeline.conftest import open_stats_store

    router_a, router_b, app = (open_stats_store("postgres", request, tmp_path, clock) for _ in range(3))
    for n, router in enumerate((router_a, router_b)):
        router.record_delivered("dst_a", 40.0, n=10)
        router.record_retry("dst_a")
        router.record_filtered("dst_a", "event filtered", n=2)
        router.record_failed("dst_a", {"messageId": f"m{n}"})
    await asyncio.gather(router_a.flush(), router_b.flush())
    summary = await app.summary("dst_a")
    assert (summary["delivered"], summary["retried"], summary["failed"]) == (20, 2, 2)
    assert summary["filtered"] == {"event filtered": 4}
    assert {sample["messageId"] for sample in summary["recentFailures"]} == {"m0", "m1"}
    for store in (router_a, router_b, app):
        await store.close()


async def test_statistics_out_of_reach_stay_buffered_for_the_next_flush(request, tmp_path, clock):
    from tests.pipeline.conftest import open_stats_store

    store = open_stats_store("postgres", request, tmp_path, clock)
    store.record_delivered("dst_a", 5.0)
    await store.flush()
    store._db.connection.close()  # as when PostgreSQL restarts
    store.record_delivered("dst_a", 5.0)
    with pytest.raises(StorageUnavailable, match="delivery statistics on PostgreSQL failed"):
        await store.flush()
    await store.flush()
    assert (await store.summary("dst_a"))["delivered"] == 2
    await store.close()

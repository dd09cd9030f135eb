"""Config changes reach running processes at once on PostgreSQL (LISTEN/NOTIFY); on SQLite
the processes poll."""

from __future__ import annotations

import asyncio

from segue.store.changes import ChangeFeed, pause


async def test_a_change_on_postgresql_wakes_the_followers(store, store_url):
    feed = ChangeFeed(store_url)
    if not feed.enabled:
        assert store.engine.dialect.name == "sqlite"
        return  # covered by the SQLite test below
    waiters = [feed.waiter(), feed.waiter()]  # e.g. the router and the write-key directory
    feed.start()
    try:
        assert all([await waiter.pause(10) for waiter in waiters])  # the look taken on connecting
        assert not any([await waiter.pause(0.3) for waiter in waiters])  # nothing changed since
        await asyncio.to_thread(store.create_source, "Notified", "javascript")
        assert all([await waiter.pause(30) for waiter in waiters])
    finally:
        await asyncio.to_thread(feed.stop)


async def test_on_sqlite_there_is_no_feed_and_followers_poll(sqlite_url):
    feed = ChangeFeed(sqlite_url)
    feed.start()
    assert not feed.enabled
    assert await feed.waiter().pause(0.05) is False
    await pause(None, 0.01)  # no feed at all: a plain sleep
    feed.stop()

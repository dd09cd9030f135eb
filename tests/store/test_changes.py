"""Config changes reach running processes at once on PostgreSQL (LISTEN/NOTIFY); on SQLite
the processes poll."""

from __future__ import annotations

import asyncio

from segue.store.changes import ChangeFeed, follow_changes


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
    feed.stop()


async def test_a_follower_keeps_looking_after_a_failed_look():
    looks = []

    async def look() -> None:
        looks.append(len(looks))
        if len(looks) == 1:
            raise ConnectionError("the config store went away")

    follower = asyncio.ensure_future(follow_changes(None, 0.001, look, "tests"))
    for _ in range(500):  # a guard against a follower that stopped, not a measurement
        if len(looks) >= 3:
            break
        await asyncio.sleep(0.01)
    follower.cancel()
    assert looks[:3] == [0, 1, 2]

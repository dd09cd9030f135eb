"""The server's runtime: starts on a fresh data dir, follows config changes, applies retention."""

import asyncio

from segue.config import Settings
from segue.control import OPERATOR
from segue.log.protocol import Entry
from segue.server import Runtime


async def test_runtime_prunes_the_log_on_its_own(tmp_path):
    """(The default warehouse syncs daily and the archive flushes every minute: both hold back
    what they have not passed, so the warehouse is deleted and the archive off here.)"""
    settings = Settings.load(environ={}, data_dir=tmp_path, segment_max_records=2, retention_min_seconds=0,
                             prune_interval_seconds=0.05, log_writer_process=False, config_poll_seconds=0.05,
                             archive_enabled=False)
    runtime = Runtime(settings)
    await runtime.start()
    try:
        await asyncio.to_thread(runtime.plane.delete_warehouse, OPERATOR, "warehouse")
        for n in range(3):
            await runtime.log.append([Entry("src", f"m{n}a", "u", 0, b"{}"), Entry("src", f"m{n}b", "u", 0, b"{}")])
        for _ in range(100):
            if len(await runtime.log.newest(10)) == 2:
                break
            await asyncio.sleep(0.05)
        assert [r.message_id for r in await runtime.log.newest(10)] == ["m2a", "m2b"]  # the current segment stays
    finally:
        await runtime.stop()


async def test_a_source_created_while_running_is_accepted_within_a_second(tmp_path):
    settings = Settings.load(environ={}, data_dir=tmp_path, log_writer_process=False, config_poll_seconds=0.1)
    runtime = Runtime(settings)
    await runtime.start()
    try:
        source = await asyncio.to_thread(runtime.store.create_source, "Web", "javascript")
        for _ in range(20):
            if runtime.sources.lookup(source.write_key) is not None:
                break
            await asyncio.sleep(0.05)
        assert runtime.sources.lookup(source.write_key).id == source.id
    finally:
        await runtime.stop()

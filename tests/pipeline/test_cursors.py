"""sweep_cursors: what was deleted or disabled while Segue was down is applied at start."""

from __future__ import annotations

from segue.log.memory import MemoryLog
from segue.pipeline.cursors import sweep_cursors


async def test_running_kept_disabled_dropped_deleted_forgotten_others_untouched():
    log = MemoryLog()
    await log.start()
    for name in ("warehouse:running", "warehouse:disabled", "warehouse:deleted", "archive", "destination:x"):
        log.consumer(name)
    forgotten: list[str] = []

    async def forget(owner: str) -> None:
        forgotten.append(owner)
        await log.remove_consumer(f"warehouse:{owner}")

    await sweep_cursors(log, "warehouse:", running={"running"}, existing={"running", "disabled"}, forget_deleted=forget)
    assert await log.consumer_names() == ["archive", "destination:x", "warehouse:running"]
    assert forgotten == ["deleted"]

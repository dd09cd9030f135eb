"""Background tasks end when cancelled, even when a library swallows the cancellation.

nats-py does: a flush cancelled while it waits returns normally, a JetStream publish cancelled
while it waits raises TooManyStalledMsgsError. A router stopping during a lease renewal once
waited forever for its lease keeper.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from segue import tasks
from segue.tasks import cancel_tasks, carry_on, resume_cancellation


class StalledPublish(Exception):
    """What nats-py raises when a publish waiting for room is cancelled."""


async def swallowing_call(inside: asyncio.Event) -> None:
    """Like nats-py's flush: a cancellation while waiting is eaten, the call returns."""
    inside.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        pass


async def translating_call(inside: asyncio.Event) -> None:
    """Like nats-py's JetStream publish: a cancellation while waiting becomes another error."""
    inside.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        raise StalledPublish from None


async def renewal_loop(call, resume: bool, inside: asyncio.Event) -> None:
    """A lease keeper's shape: call, log any error, wait, again."""
    while True:
        try:
            await call(inside)
        except Exception:
            if resume:
                resume_cancellation()
        if resume:
            resume_cancellation()
        await asyncio.sleep(0.5)  # till the next renewal


async def cancel_while_inside_the_call(call, resume: bool) -> asyncio.Task:
    inside = asyncio.Event()
    task = asyncio.create_task(renewal_loop(call, resume, inside))
    await inside.wait()
    await asyncio.wait_for(cancel_tasks(task), timeout=30)  # a guard: without the fix this waits forever
    return task


@pytest.mark.parametrize("call", [swallowing_call, translating_call])
async def test_a_loop_that_resumes_the_cancellation_ends_at_the_first_request(call, caplog):
    task = await cancel_while_inside_the_call(call, resume=True)
    assert task.cancelled()
    assert "did not stop when cancelled" not in caplog.text


@pytest.mark.parametrize("call", [swallowing_call, translating_call])
async def test_cancel_tasks_asks_again_when_a_loop_ate_the_cancellation(call, monkeypatch, caplog):
    monkeypatch.setattr(tasks, "RECANCEL_SECONDS", 0.05)
    task = await cancel_while_inside_the_call(call, resume=False)
    assert task.cancelled()
    assert "did not stop when cancelled; cancelling it again" in caplog.text


async def test_resume_cancellation_does_nothing_in_a_task_not_cancelled():
    resume_cancellation()  # no error


async def test_carry_on_logs_an_error_and_the_loop_goes_on_but_a_cancellation_goes_up(caplog):
    inside = asyncio.Event()
    turns = 0

    async def loop() -> None:
        nonlocal turns
        while True:
            with carry_on(logging.getLogger("test.loop"), "renew the leases"):
                turns += 1
                if turns == 1:
                    raise RuntimeError("NATS went away")
                await translating_call(inside)
            await asyncio.sleep(0.01)

    task = asyncio.create_task(loop())
    await inside.wait()
    await asyncio.wait_for(cancel_tasks(task), timeout=30)
    assert task.cancelled() and turns == 2
    assert "could not renew the leases" in caplog.text and "NATS went away" in caplog.text
    assert "did not stop when cancelled" not in caplog.text


def test_a_repeated_failure_is_logged_first_whole_then_once_a_minute_and_when_it_ends(caplog):
    from tests.clock import FakeClock

    clock = FakeClock()
    trouble = tasks.RepeatedFailure(logging.getLogger("loop"), "deliver to dst_a", clock=clock)
    with caplog.at_level(logging.WARNING, logger="loop"):
        for _ in range(120):  # two minutes of failures, one a second
            trouble.failed(ConnectionError("PostgreSQL is out of reach"))
            clock.advance(1)
        trouble.succeeded()
        trouble.succeeded()  # nothing more to say
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        "could not deliver to dst_a; retrying",
        "still could not deliver to dst_a (61 failures so far): PostgreSQL is out of reach",
        "could deliver to dst_a again after 120 failure(s)",
    ]
    assert caplog.records[0].exc_info is not None and caplog.records[1].exc_info is None

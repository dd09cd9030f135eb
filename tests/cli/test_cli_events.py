"""`segue events list` against a stand-in log (the read-only contract) and the real one."""

from __future__ import annotations

import asyncio
import json

import pytest

import segue.log as segue_log
from segue.log.protocol import Entry, Record


def _message(n: int, **extra) -> dict:
    return {"type": "track", "event": f"Event {n}", "userId": f"u{n}", "messageId": f"m{n}", **extra}


class FakeLog:
    """What `open_log(settings, read_only=True)` returns, over a fixed list of records."""

    def __init__(self, records: list[Record]):
        self.records = records
        self.calls: list[tuple] = []

    async def start(self) -> None:
        self.calls.append(("start",))

    async def close(self) -> None:
        self.calls.append(("close",))

    async def newest(self, limit: int = 20, source_id: str | None = None) -> list[Record]:
        self.calls.append(("newest", limit, source_id))
        matching = [r for r in self.records if source_id in (None, r.source_id)]
        return matching[-limit:]


@pytest.fixture
def fake_log(monkeypatch, segue):
    """Two sources and three stored records; `open_log` replaced by the stand-in."""
    web = segue.json_lines("sources", "create", "web", "--type", "javascript")[0]
    app = segue.json_lines("sources", "create", "app", "--type", "ios")[0]
    messages = [(web, _message(1)), (app, _message(2, anonymousId="a2", userId=None)), (web, _message(3))]
    records = [
        Record(n, 0, source["id"], message["messageId"], 1_700_000_000_000 + n, json.dumps(message).encode())
        for n, (source, message) in enumerate(messages, start=1)
    ]
    log = FakeLog(records)
    opened = []

    def open_log(settings, read_only=False):
        opened.append((settings, read_only))
        return log

    monkeypatch.setattr(segue_log, "open_log", open_log, raising=False)
    log.opened, log.web, log.app = opened, web, app
    return log


def test_json_prints_each_payload_on_its_own_line_oldest_first(segue, fake_log):
    lines = segue.ok("events", "list", "--json").stdout.splitlines()
    assert [json.loads(line)["messageId"] for line in lines] == ["m1", "m2", "m3"]
    assert lines[0] == fake_log.records[0].payload.decode()
    [(settings, read_only)] = fake_log.opened
    assert read_only is True and settings.data_dir == segue.data_dir
    assert fake_log.calls == [("start",), ("newest", 20, None), ("close",)]


def test_source_and_limit_are_passed_to_the_log(segue, fake_log):
    lines = segue.ok("events", "list", "--source", "web", "--limit", "1", "--json").stdout.splitlines()
    assert [json.loads(line)["messageId"] for line in lines] == ["m3"]
    assert ("newest", 1, fake_log.web["id"]) in fake_log.calls


def test_human_output_is_a_table_with_source_names(segue, fake_log):
    output = segue.ok("events", "list").stdout
    for text in ("web", "app", "track", "Event 1", "u1", "a2", "m3", "2023-11-14"):
        assert text in output


def test_unknown_source_is_an_error(segue, fake_log):
    result = segue("events", "list", "--source", "nope")
    assert result.exit_code == 1 and "no source" in result.stderr


def test_limit_must_be_positive(segue, fake_log):
    assert segue("events", "list", "--limit", "0").exit_code == 2


needs_real_log = pytest.mark.skipif(not hasattr(segue_log, "open_log"), reason="segue.log.open_log is not written yet")


@needs_real_log
def test_no_events_yet_in_a_fresh_data_dir(segue):
    assert segue.ok("events", "list", "--json").stdout == ""
    assert segue.ok("events", "list").exit_code == 0


@needs_real_log
def test_events_from_the_real_log(segue):
    from segue.config import Settings

    [web] = segue.json_lines("sources", "create", "web", "--type", "javascript")
    settings = Settings.load(environ={}, data_dir=segue.data_dir)
    entries = [Entry(web["id"], f"m{n}", f"u{n}", 1_700_000_000_000 + n, json.dumps(_message(n)).encode()) for n in range(3)]
    asyncio.run(_append(settings, entries))
    lines = segue.ok("events", "list", "--limit", "2", "--json").stdout.splitlines()
    assert [json.loads(line)["messageId"] for line in lines] == ["m1", "m2"]
    assert "Event 2" in segue.ok("events", "list", "--source", "web").stdout


async def _append(settings, entries) -> None:
    event_log = segue_log.open_log(settings)
    await event_log.start()
    try:
        await event_log.append(entries)
    finally:
        await event_log.close()

"""The benchmark's own parts: the requests it builds and the load generator's accounting."""

from __future__ import annotations

import orjson
import pytest

from benchmarks.events import IdSource, RequestFactory
from benchmarks.loadgen import LoadSpec, run_load
from benchmarks.targets import HOST, start_baseline


def _body(request: bytes) -> dict:
    head, body = request.split(b"\r\n\r\n", 1)
    assert f"Content-Length: {len(body)}".encode() in head
    return orjson.loads(body)


def test_single_track_requests_look_real_and_have_unique_ids():
    factory, ids = RequestFactory.create("localhost:1", "key"), IdSource("test")

    bodies = [_body(factory.build(ids)) for _ in range(1000)]

    assert all(400 <= len(orjson.dumps(body)) <= 650 for body in bodies)
    assert len({body["messageId"] for body in bodies}) == 1000
    assert len({body["userId"] for body in bodies}) > 300
    assert {body["type"] for body in bodies} == {"track"}


def test_batch_requests_hold_the_batch_size():
    factory, ids = RequestFactory.create("localhost:1", "key", batch_size=100), IdSource("test")

    batch = _body(factory.build(ids))["batch"]

    assert len(batch) == 100
    assert len({event["messageId"] for event in batch}) == 100


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    target = start_baseline(tmp_path_factory.mktemp("bench"))
    yield target
    target.stop()


@pytest.mark.slow
def test_open_loop_sends_exactly_the_scheduled_requests(baseline):
    # the window (0.2025 s .. 1.2025 s after t0) holds exactly 200 slots of the 5 ms schedule
    spec = LoadSpec(HOST, baseline.port, "key", batch_size=0, connections=8, duration=1.0, warmup=0.2025, rate=200)

    result = run_load(spec)

    assert result.errors == 0
    assert len(result.samples.latencies) == 200


@pytest.mark.slow
def test_closed_loop_counts_answers_across_workers(baseline):
    spec = LoadSpec(HOST, baseline.port, "key", batch_size=100, connections=4, duration=0.5, warmup=0.1, workers=2)

    result = run_load(spec)

    assert result.errors == 0
    assert result.samples.statuses[200] == len(result.samples.latencies) > 0
    assert result.events_per_second == result.requests_per_second * 100


def test_the_cpu_sampler_sees_a_busy_process_and_an_idle_one():
    import subprocess
    import sys
    import time

    from benchmarks.cpu import CpuSampler

    spin = subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 3\nwhile time.time() < end: pass"])
    sleep = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
    try:
        with CpuSampler({"spin": lambda pid, name: pid == spin.pid, "sleep": lambda pid, name: pid == sleep.pid}) as sampler:
            start = time.monotonic() + 0.5
            time.sleep(2.0)
        cores = sampler.cores(start, start + 1.2)
    finally:
        spin.wait()
        sleep.wait()
    assert 0.3 < cores["spin"] <= 1.1  # one core at most, whatever else the machine runs
    assert cores["sleep"] < 0.05
    assert cores["machine"] >= cores["spin"] * 0.9


def test_the_ceiling_is_the_cores_over_what_one_process_kept_busy(monkeypatch):
    from benchmarks.scaleout import Measured, ceiling

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert ceiling(Measured(10_000, {"ingest": 1.0, "nats": 0.25, "machine": 1.4})) == pytest.approx(2 / 1.4)
    assert ceiling(Measured(10_000, {"ingest": 0.5, "nats": 0.1, "machine": 0.7})) == 2.0  # never over two processes
    assert ceiling(Measured(0, {"ingest": 0.0, "nats": 0.0, "machine": 0.0})) == 0.0

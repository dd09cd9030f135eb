"""Backoff bounds and Retry-After; the circuit breaker's transitions on a fake clock."""

from __future__ import annotations

import random

import pytest

from segue.pipeline.delivery import Backoff, CircuitBreaker, Outcome

RETRY = Outcome("retry", 503, "HTTP 503")
DELIVERED = Outcome("delivered", 200, "HTTP 200")
FAILED = Outcome("failed", 400, "HTTP 400")


@pytest.mark.parametrize("attempt, step", [(1, 1), (2, 2), (3, 4), (5, 16), (12, 2048), (13, 3600), (10_000, 3600)])
def test_delay_is_between_half_and_all_of_the_exponential_step(attempt, step):
    backoff = Backoff(base=1.0, cap=3600.0, rng=random.Random(7))
    delays = [backoff.delay(attempt) for _ in range(500)]
    assert all(step / 2 <= delay <= step for delay in delays)
    assert max(delays) - min(delays) > step / 4  # randomized, not a fixed wait


def test_attempt_zero_counts_as_the_first():
    backoff = Backoff(base=2.0, rng=random.Random(1))
    assert 1.0 <= backoff.delay(0) <= 2.0


def test_retry_after_is_a_lower_bound():
    backoff = Backoff(base=1.0, cap=3600.0, rng=random.Random(3))
    assert backoff.delay(1, retry_after=30) == 30
    assert backoff.delay(1, retry_after=0) <= 1.0
    assert 512 <= backoff.delay(11, retry_after=5) <= 1024  # the backoff is longer: it wins


def test_retry_after_is_capped():
    assert Backoff(cap=60.0, rng=random.Random(3)).delay(1, retry_after=86_400) == 60.0


def trip(breaker: CircuitBreaker, failures: int = 3) -> None:
    for _ in range(failures):
        breaker.record(RETRY)


def make(clock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, open_seconds=30.0, clock=clock)


def test_consecutive_retryable_failures_open_it(clock):
    breaker = make(clock)
    trip(breaker, 2)
    assert (breaker.state, breaker.allow()) == ("closed", True)
    breaker.record(RETRY)
    assert (breaker.state, breaker.allow()) == ("open", False)
    assert breaker.open_until == clock.now + 30


def test_a_delivery_resets_the_count(clock):
    breaker = make(clock)
    trip(breaker, 2)
    breaker.record(DELIVERED)
    trip(breaker, 2)
    assert breaker.state == "closed"


def test_final_failures_do_not_count(clock):
    breaker = make(clock)
    for _ in range(10):
        breaker.record(FAILED)
    trip(breaker, 2)
    assert breaker.state == "closed"


def test_after_open_seconds_exactly_one_probe_goes_and_success_closes_it(clock):
    breaker = make(clock)
    trip(breaker)
    clock.advance(29.9)
    assert breaker.allow() is False
    clock.advance(0.1)
    assert breaker.state == "half_open"
    assert breaker.allow() is True
    assert breaker.allow() is False  # one probe at a time
    assert breaker.state == "half_open"
    breaker.record(DELIVERED)
    assert (breaker.state, breaker.allow(), breaker.failures) == ("closed", True, 0)


def test_a_failed_probe_reopens_for_twice_as_long_up_to_ten_minutes(clock):
    breaker = make(clock)
    trip(breaker)
    waits = []
    for _ in range(7):
        clock.advance(breaker.open_until - clock.now)
        assert breaker.allow()
        breaker.record(RETRY)
        assert breaker.state == "open"
        waits.append(breaker.open_until - clock.now)
    assert waits == [60, 120, 240, 480, 600, 600, 600]


def test_closing_restores_the_first_open_time(clock):
    breaker = make(clock)
    trip(breaker)
    clock.advance(30)
    breaker.allow()
    breaker.record(RETRY)  # 60 s now
    clock.advance(60)
    breaker.allow()
    breaker.record(DELIVERED)
    trip(breaker)
    assert breaker.open_until - clock.now == 30


def test_a_probe_answered_with_a_4xx_closes_it(clock):
    breaker = make(clock)
    trip(breaker)
    clock.advance(30)
    assert breaker.allow()
    breaker.record(FAILED)
    assert breaker.state == "closed"


def test_late_failures_while_open_do_not_extend_it(clock):
    breaker = make(clock)
    trip(breaker)
    clock.advance(10)
    trip(breaker, 5)  # answers to requests sent before it opened
    assert breaker.open_until == clock.now + 20

"""Builders for the retry-queue tests."""

from __future__ import annotations

from segue.pipeline.retries import ParkRequest

T0 = 1_700_000_000.0


def parked(user: str, offset: int, *, at: float = T0, instance: str = "dst_a", blocked: bool = False,
           attempts: int = 1, partition: int = 0) -> ParkRequest:
    """A parked event of `user`, due at `at`."""
    return ParkRequest(
        instance_id=instance, user_key=user, offset=offset, payload=b'{"offset": %d}' % offset,
        received_at_ms=int(T0 * 1000) + offset, attempts=0 if blocked else attempts, next_attempt_at=at,
        first_failed_at=T0, reason="waiting" if blocked else "HTTP 503", blocked=blocked, partition=partition,
    )

"""Login throttling: failed sign-ins are counted per user name and per client address.

Past the limit, the login form answers 429 with Retry-After, without checking the password
(so guessing costs the attacker time, and the server no password hashing). A success clears
the user name's count. The counting is `limits`' moving window (a maintained library, with
Redis storage available for when several app nodes must share counts); here it is in memory,
per process.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute, storage, strategies

USER_FAILURES = RateLimitItemPerMinute(5, 5)  # 5 failed sign-ins per user name in 5 minutes
ADDRESS_FAILURES = RateLimitItemPerMinute(20, 5)  # 20 from one client address in 5 minutes


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in is not even tried, and for how long."""

    retry_after: int  # seconds

    @property
    def message(self) -> str:
        return f"Too many failed sign-ins. Try again in {self.retry_after} seconds."


class LoginThrottle:
    """Counts failures; `refusal` says whether the next attempt may be checked."""

    def __init__(self) -> None:
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def refusal(self, username: str, address: str) -> Refusal | None:
        waits = [self._wait(limit, key) for limit, key in self._keys(username, address)]
        longest = max(waits)
        return Refusal(longest) if longest > 0 else None

    def failed(self, username: str, address: str) -> None:
        for limit, key in self._keys(username, address):
            self._limiter.hit(limit, key)

    def succeeded(self, username: str) -> None:
        self._limiter.clear(USER_FAILURES, _user_key(username))

    def _wait(self, limit, key: str) -> int:
        if self._limiter.test(limit, key):
            return 0
        reset_at = self._limiter.get_window_stats(limit, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    @staticmethod
    def _keys(username: str, address: str) -> list[tuple]:
        return [(USER_FAILURES, _user_key(username)), (ADDRESS_FAILURES, f"address:{address}")]


def _user_key(username: str) -> str:
    return f"user:{username.strip().lower()}"

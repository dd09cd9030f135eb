"""Segue's exception tree.

    SegueError
    ├── InvalidMessage        a Tracking API message or request broke a rule (permanent)
    ├── Unauthorized          missing, unknown or disabled write key (permanent)
    ├── NotFound              a named object does not exist (permanent)
    ├── Forbidden             authenticated, but the role may not do this (permanent)
    ├── ConfigError           settings or configuration that cannot work (permanent)
    │   ├── Conflict          a name already taken, or a change racing another (permanent)
    │   └── PlanLimit         the workspace's plan does not allow it (permanent)
    ├── RateLimited           a write key sent more than its rate limit (retryable, 429)
    └── StorageUnavailable    the event log cannot take writes right now (retryable)
        └── StorageFull       the data dir is over its disk budget or the disk nearly full (retryable)

Two markers say what a caller may do next: `Retryable` (try again later, with backoff) and
`Permanent` (trying again gives the same answer). Every error has a stable `code` that the
HTTP layer puts in the one JSON error body `{"success": false, "code": ..., "message": ...}`.
"""

from __future__ import annotations


class SegueError(Exception):
    """Base of every error Segue raises on purpose."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code is not None:
            self.code = code

    def to_json(self) -> dict:
        """The one error body: `{"success": false, "code", "message"}` plus any details."""
        return {"success": False, "code": self.code, "message": self.message, **self.details}


class Retryable:
    """Marker: the same request may succeed later."""


class Permanent:
    """Marker: the same request will fail the same way."""


class InvalidMessage(SegueError, Permanent):
    code = "invalid_message"
    status = 400


class Unauthorized(SegueError, Permanent):
    code = "unauthorized"
    status = 401


class NotFound(SegueError, Permanent):
    code = "not_found"
    status = 404


class Forbidden(SegueError, Permanent):
    code = "forbidden"
    status = 403


class ConfigError(SegueError, Permanent):
    code = "invalid_config"
    status = 400


class Conflict(ConfigError):
    code = "conflict"
    status = 409


class PlanLimit(ConfigError):
    code = "plan_limit"
    status = 403


class RateLimited(SegueError, Retryable):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds, sent as Retry-After


class StorageUnavailable(SegueError, Retryable):
    code = "storage_unavailable"
    status = 503


class StorageFull(StorageUnavailable):
    code = "storage_full"

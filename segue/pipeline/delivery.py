"""Delivery: send a destination's requests, classify the answer, pace retries, mask samples.

- `classify` turns an HTTP answer into an `Outcome` (delivered, retry, failed) with Segment's
  retry classes (spec 4.3/4.4): 408, 423, 429, 500, 502-511, 598, 599 are retried; 501 and the
  other 4xx (and anything else that is not 2xx) are final.
- `Sender` sends the requests of one event (or one batch) in order and never raises for HTTP
  or network trouble: timeouts and network errors are retry outcomes with a readable message.
- `Backoff` spaces the attempts, `CircuitBreaker` stops hammering a destination that is down.
- `mask_exchange` is the one place that hides secrets in what the app and the API show.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import random
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence
from urllib.parse import quote, quote_plus

from aiolimiter import AsyncLimiter

from segue.destinations.contract import Request
from segue.destinations.settings import MASK
from segue.pipeline.http import EXPECTED_ERRORS, HttpClient, describe_error

log = logging.getLogger(__name__)
Interpret = Callable[[int, bytes], "str | None"]
Kind = Literal["delivered", "retry", "failed"]

SHOWN_BODY_CHARS = 2_000
RETRY_STATUSES = frozenset({408, 423, 429, 500, *range(502, 512), 598, 599})
AUTH_HEADERS = frozenset({"authorization", "proxy-authorization"})
CREDENTIAL = re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
URL_PASSWORD = re.compile(r"(://[^/@\s:]*:)[^/@\s]+@")
SECONDS = re.compile(r"\d+(\.\d+)?")
MAX_OPEN_SECONDS = 600.0
HTTP_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class Outcome:
    """What became of one event's requests (or one batch's)."""

    kind: Kind
    status: int | None
    message: str
    retry_after: float | None = None  # seconds, from the last response's Retry-After
    response_body: str = ""  # the first SHOWN_BODY_CHARS characters
    duration_ms: float = 0.0

    def to_json(self) -> dict:
        """The API's camelCase shape."""
        return {
            "kind": self.kind, "status": self.status, "message": self.message, "retryAfter": self.retry_after,
            "responseBody": self.response_body, "durationMs": round(self.duration_ms, 1),
        }


def classify(status: int, headers: Mapping[str, str], body: bytes, interpret: Interpret | None = None) -> Outcome:
    """The outcome of one HTTP answer; `interpret(status, body)` may supply the vendor's message."""
    text = body[:SHOWN_BODY_CHARS * 4].decode("utf-8", "replace")[:SHOWN_BODY_CHARS]
    if 200 <= status < 300:
        return Outcome("delivered", status, f"HTTP {status}", None, text)
    message = _vendor_message(interpret, status, body) or f"HTTP {status}"
    if status in RETRY_STATUSES:
        return Outcome("retry", status, message, parse_retry_after(_header(headers, "retry-after")), text)
    return Outcome("failed", status, message, None, text)


def _vendor_message(interpret: Interpret | None, status: int, body: bytes) -> str | None:
    if interpret is None:
        return None
    try:
        return interpret(status, body) or None
    except Exception:  # a destination's reader of error bodies must not break delivery
        return None


def plain_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A response's headers as a plain dict of str (aiohttp's keys are `istr`, a str subclass that
    JSON encoders refuse as keys; a repeated header keeps its last value)."""
    return {str(key): str(value) for key, value in headers.items()}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    if hasattr(headers, "getone"):  # aiohttp's case-insensitive multidict
        return headers.get(name)
    return next((value for key, value in headers.items() if key.lower() == name), None)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or an HTTP date); None if unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if SECONDS.fullmatch(value):
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC without a claim about the local zone
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


class Sender:
    """Sends the requests of one event in order, at most `concurrency` requests at a time.

    HTTP(S) requests go through `http`; other URL schemes (streams, object stores) through
    `transports`, which raise `TransportError` instead of answering with a status.
    """

    def __init__(self, http: HttpClient, *, concurrency: int = 8, timeout: float = 5.0,
                 transports: Any = None, rate_limit: float = 0.0) -> None:
        self.http, self.transports = http, transports
        self.timeout = timeout
        self.rate_limit = rate_limit  # requests per second (0: unpaced)
        self._slots = asyncio.Semaphore(concurrency)
        self._pace = pacer(rate_limit)

    async def send(self, requests: Sequence[Request], interpret: Interpret | None = None) -> tuple[Outcome, list[dict]]:
        """The combined outcome (the first one not delivered, else the last) and the exchange log."""
        exchanges: list[dict] = []
        outcome = Outcome("delivered", None, "nothing to send")
        total_ms = 0.0
        for number, request in enumerate(requests, 1):
            async with self._slots, self._pace:
                outcome, exchange = await self._exchange(request, interpret)
            exchanges.append(exchange)
            total_ms += outcome.duration_ms
            if outcome.kind != "delivered":
                if len(requests) > 1:
                    outcome = replace(outcome, message=f"request {number} of {len(requests)}: {outcome.message}")
                break
        return replace(outcome, duration_ms=total_ms), exchanges

    async def _exchange(self, request: Request, interpret: Interpret | None) -> tuple[Outcome, dict]:
        started = time.perf_counter()
        if not request.url.startswith(HTTP_SCHEMES) and self.transports is not None \
                and self.transports.handles(request.url):  # HTTP first: no URL parsing on the hot path
            outcome, received = await self._publish(request)
        else:
            outcome, received = await self._http(request, interpret)
        outcome = replace(outcome, duration_ms=(time.perf_counter() - started) * 1000)
        error = None if outcome.kind == "delivered" or received else outcome.message
        return outcome, {"request": _request_json(request), "response": received, "error": error,
                         "durationMs": round(outcome.duration_ms, 1)}

    async def _http(self, request: Request, interpret: Interpret | None) -> tuple[Outcome, dict | None]:
        try:  # aiohttp's total timeout bounds connecting, sending and reading the answer
            status, headers, body = await self.http.request(request, self.timeout)
        except Exception as error:  # every failure becomes an outcome
            return _error_outcome(error, self.timeout), None
        outcome = classify(status, headers, body, interpret)
        return outcome, {"status": status, "headers": plain_headers(headers), "body": outcome.response_body}

    async def _publish(self, request: Request) -> tuple[Outcome, None]:
        """A stream or object-store request; the transport keeps its own timeout (it drops the
        connection when it fires) and raises TransportError, which says whether to retry."""
        try:
            await self.transports.send(request, self.timeout)
        except Exception as error:
            return _error_outcome(error, self.timeout), None
        return Outcome("delivered", None, "published"), None


def pacer(rate_limit: float) -> Any:
    """At most `rate_limit` requests per second (any rate above 0, bursts up to one second's
    worth); 0 means no limit."""
    if rate_limit <= 0:
        return contextlib.nullcontext()
    if rate_limit >= 1:
        return AsyncLimiter(rate_limit, 1.0)
    return AsyncLimiter(1, 1.0 / rate_limit)


def _request_json(request: Request) -> dict:
    body = b"" if request.body is None else request.body[: SHOWN_BODY_CHARS * 4]
    text = body.decode("utf-8", "replace")[:SHOWN_BODY_CHARS]
    return {"method": request.method, "url": request.url, "headers": dict(request.headers), "body": text}


def _error_outcome(error: Exception, timeout: float) -> Outcome:
    """Timeouts and network errors are retried; a request that cannot be made at all is final."""
    if getattr(error, "retryable", None) is not None:  # a transport's TransportError
        return Outcome("retry" if error.retryable else "failed", None, str(error))
    if not isinstance(error, EXPECTED_ERRORS):
        log.warning("unexpected error sending a request", exc_info=error)
    retryable, message = describe_error(error, timeout)
    return Outcome("retry" if retryable else "failed", None, message)


class Backoff:
    """Randomized exponential backoff with "equal jitter".

    After the n-th failed attempt the wait is half of `base * 2**(n-1)` (capped at `cap`) plus
    a uniform random part up to the other half: never less than half the exponential step, so
    a retry never comes right away, and spread out so that many events do not retry together.
    A Retry-After from the destination is a lower bound (itself capped at `cap`).
    """

    def __init__(self, base: float = 1.0, cap: float = 3600.0, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after `attempt` failed attempts (1 after the first failure)."""
        step = min(self.cap, self.base * 2.0 ** min(max(attempt, 1) - 1, 64))
        wait = step / 2 + self.rng.uniform(0, step / 2)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap))
        return wait


class CircuitBreaker:
    """Stops sending to a destination that keeps failing, then probes it with one request.

    Closed: everything goes. `failure_threshold` consecutive retryable outcomes open it. Open:
    nothing goes for `open_seconds`, then half-open: `allow()` lets one probe through. A
    delivered outcome closes it (and resets the open time); a retryable one during the probe
    reopens it for twice as long (at most 10 min). Final failures (4xx) do not count against
    the destination, which did answer; a probe answered that way closes it.
    """

    def __init__(self, *, failure_threshold: int = 20, open_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failure_threshold = failure_threshold
        self.initial_open_seconds = self.open_seconds = open_seconds
        self.clock = clock
        self.failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> Literal["closed", "open", "half_open"]:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._probing or self.clock() >= self.open_until else "open"

    @property
    def open_until(self) -> float | None:
        """Clock time at which an open breaker lets a probe through; None when closed."""
        return None if self._opened_at is None else self._opened_at + self.open_seconds

    def allow(self) -> bool:
        """May a request go now? In half-open state, True once (the probe)."""
        state = self.state
        if state == "half_open" and not self._probing:
            self._probing = True
            return True
        return state == "closed"

    def record(self, outcome: Outcome) -> None:
        if outcome.kind == "delivered" or (outcome.kind == "failed" and self._probing):
            self._close()
        elif outcome.kind == "retry":
            self._count_failure()

    def _count_failure(self) -> None:
        state = self.state
        if state == "half_open":
            self.open_seconds = min(self.open_seconds * 2, max(MAX_OPEN_SECONDS, self.initial_open_seconds))
            self._open()
        elif state == "closed":
            self.failures += 1
            if self.failures >= self.failure_threshold:
                self._open()

    def _open(self) -> None:
        self._opened_at = self.clock()
        self._probing = False

    def _close(self) -> None:
        self.failures = 0
        self.open_seconds = self.initial_open_seconds
        self._opened_at = None
        self._probing = False


def redactor(secrets: Iterable[str]) -> Callable[[str], str]:
    """A function that masks every secret (raw, URL- or JSON-escaped) and any Basic/Bearer credential."""
    forms = {form for secret in secrets if secret for form in _escaped_forms(secret)}
    ordered = sorted(forms, key=len, reverse=True)  # a secret inside a longer one: the longer first

    def redact(text: str) -> str:
        for form in ordered:
            text = text.replace(form, MASK)
        text = URL_PASSWORD.sub(lambda match: match.group(1) + MASK + "@", text)
        return CREDENTIAL.sub(lambda match: f"{match.group(1)} {MASK}", text)

    return redact


def _escaped_forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]} - {""}


def mask_exchange(exchange: dict, secrets: Iterable[str]) -> dict:
    """A copy of an exchange (or any JSON-like value) with secrets masked everywhere.

    `Authorization` headers are masked whatever their scheme: `Basic ••••`, `Token ••••`.
    """
    return _masked(exchange, redactor(secrets), None)


def _masked(value: Any, redact: Callable[[str], str], key: str | None) -> Any:
    if isinstance(value, Mapping):
        return {name: _masked(item, redact, name) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(item, redact, None) for item in value]
    if isinstance(value, str):
        return _mask_credential(value) if key and key.lower() in AUTH_HEADERS else redact(value)
    return value


def _mask_credential(value: str) -> str:
    scheme, _, rest = value.strip().partition(" ")
    return f"{scheme} {MASK}" if rest else MASK

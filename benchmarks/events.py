"""Realistic Tracking API requests, pre-built as bytes with a slot for a unique messageId.

Each event looks like what analytics.js sends for a `track` call (properties, page context,
user agent; about 570 bytes). A pool of templates covers a few thousand distinct userIds;
the load generator fills in a fresh messageId per event, so the server's dedup never hides
work. messageIds have a fixed width, so Content-Length is known in advance.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass

import orjson

ID_WIDTH = 24
ID_SLOT = b"#" * ID_WIDTH
DISTINCT_USERS = 3000
TEMPLATES = 512
EVENT_NAMES = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Signed Up")
PAGES = ("/", "/pricing", "/products/shoes", "/checkout", "/blog/launch")
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"


def track_event(rng: random.Random) -> dict:
    """One analytics.js-like track call, its messageId left as a placeholder."""
    user = rng.randrange(DISTINCT_USERS)
    path = rng.choice(PAGES)
    return {
        "type": "track",
        "event": rng.choice(EVENT_NAMES),
        "userId": f"user-{user:05d}",
        "anonymousId": f"anon-{user:05d}-{rng.randrange(10**6):06d}",
        "messageId": ID_SLOT.decode(),
        "timestamp": "2025-11-29T06:00:00.000Z",
        "properties": {
            "product_id": f"sku-{rng.randrange(10**5):05d}",
            "price": round(rng.uniform(5, 300), 2),
            "currency": "USD",
            "quantity": rng.randrange(1, 5),
        },
        "context": {
            "library": {"name": "analytics.js", "version": "next-1.70.0"},
            "page": {"path": path, "referrer": "https://www.google.com/", "title": "Shop", "url": f"https://shop.example{path}"},
            "userAgent": USER_AGENT,
            "locale": "en-US",
        },
        "integrations": {},
    }


def _split(event: dict) -> tuple[bytes, bytes]:
    """The event's JSON as the bytes before and after its messageId."""
    before, after = orjson.dumps(event).split(ID_SLOT)
    return before, after


@dataclass(frozen=True)
class RequestFactory:
    """Builds complete HTTP/1.1 requests for one route, each with fresh messageIds."""

    host: str
    write_key: str
    parts: tuple[tuple[bytes, bytes], ...]
    batch_size: int  # 0: one message per request (/v1/track)

    @classmethod
    def create(cls, host: str, write_key: str, batch_size: int = 0, seed: int = 7) -> "RequestFactory":
        rng = random.Random(seed)
        return cls(host, write_key, tuple(_split(track_event(rng)) for _ in range(TEMPLATES)), batch_size)

    def headers(self, path: str, length: int) -> bytes:
        auth = base64.b64encode(f"{self.write_key}:".encode()).decode()
        return (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Authorization: Basic {auth}\r\nContent-Length: {length}\r\n\r\n"
        ).encode()

    def build(self, ids: "IdSource") -> bytes:
        """One request: a single track, or a batch of `batch_size` tracks."""
        if not self.batch_size:
            before, after = self.parts[ids.counter % TEMPLATES]
            body = before + ids.next() + after
            return self.headers("/v1/track", len(body)) + body
        events = b",".join(self._event(ids) for _ in range(self.batch_size))
        body = b'{"batch":[' + events + b'],"sentAt":"2025-11-29T06:00:00.100Z"}'
        return self.headers("/v1/batch", len(body)) + body

    def _event(self, ids: "IdSource") -> bytes:
        before, after = self.parts[ids.counter % TEMPLATES]
        return before + ids.next() + after


class IdSource:
    """Unique fixed-width messageIds: a per-run, per-worker prefix and a counter."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.counter = 0

    def next(self) -> bytes:
        self.counter += 1
        value = f"{self.prefix}-{self.counter:x}"
        return value.rjust(ID_WIDTH, "0").encode()

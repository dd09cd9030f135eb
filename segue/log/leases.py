"""Leases: which node does a piece of shared work (a partition's delivery, a warehouse's loads).

A lease is held by one node at a time and passes on when its holder stops renewing it (killed,
partitioned away, paused): after `ttl` seconds anyone may take it. Nodes also announce
themselves as members of a group ("router", "warehouse"), so each can compute its fair share.

Backends:
- `LocalLeases`: one node (the embedded log): every lease is granted, the only member is this node.
- `JetStreamLeases`: a NATS key-value bucket whose entries expire after `ttl` (the server's
  clock decides, so nodes' clocks need not agree). Taking a lease is a create (fails when the
  key exists); renewing is an update conditional on the revision this node last wrote, so a
  node whose lease expired and was taken learns it at its next renewal and stops.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Protocol

log = logging.getLogger(__name__)


class Leases(Protocol):
    holder: str
    ttl: float

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def acquire(self, name: str) -> bool:
        """Take the lease, or renew it when this node holds it; False when another node holds it."""

    async def release(self, name: str) -> None:
        """Give the lease up at once (when this node holds it)."""

    async def announce(self, group: str) -> None:
        """Say this node is a live member of `group` (repeat within `ttl`)."""

    async def members(self, group: str) -> list[str]:
        """The live members of `group`, sorted."""


class LocalLeases:
    """One node: every lease is this node's."""

    def __init__(self, holder: str, ttl: float = 10.0) -> None:
        self.holder, self.ttl = holder, ttl

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def acquire(self, name: str) -> bool:
        return True

    async def release(self, name: str) -> None:
        pass

    async def announce(self, group: str) -> None:
        pass

    async def members(self, group: str) -> list[str]:
        return [self.holder]


def _key(*parts: str) -> str:
    """A key-value key from free text (letters, digits, `-_`; others as `=XX`), parts joined by dots."""
    return ".".join(re.sub(r"[^A-Za-z0-9_-]", lambda match: "=" + match.group().encode().hex(), part)
                    for part in parts)


def _text(key_part: str) -> str:
    return re.sub(r"=([0-9a-f]{2})", lambda match: bytes.fromhex(match.group(1)).decode(), key_part)


class JetStreamLeases:
    """Leases in a NATS key-value bucket with a time to live (see the module docstring)."""

    def __init__(self, url: str, bucket: str, holder: str, ttl: float = 10.0, replicas: int = 1) -> None:
        self.url, self.bucket, self.holder, self.ttl, self.replicas = url, bucket, holder, ttl, replicas
        self._nc = self._kv = None
        self._revisions: dict[str, int] = {}  # lease key -> the revision this node last wrote
        self._groups: set[str] = set()  # the groups this node announced itself in

    async def start(self) -> None:
        import nats
        from nats.js.api import KeyValueConfig, StorageType

        self._nc = await nats.connect(self.url, name=f"segue-leases-{self.holder}", max_reconnect_attempts=-1)
        config = KeyValueConfig(bucket=self.bucket, history=1, ttl=self.ttl, storage=StorageType.FILE,
                                replicas=self.replicas)
        self._kv = await _open_bucket(self._nc.jetstream(), config)

    async def close(self) -> None:
        """Release every lease and leave every group, so the others take over at once."""
        for key in list(self._revisions):
            await self._release_key(key)
        for group in self._groups:
            await self._kv.delete(_key("member", group, self.holder))
        if self._nc is not None:
            await self._nc.close()

    async def delete_everything(self) -> None:
        """Delete the bucket and disconnect (tests; a cluster being dismantled)."""
        await self._nc.jetstream().delete_key_value(self.bucket)
        self._revisions.clear()
        self._groups.clear()
        await self._nc.close()

    async def acquire(self, name: str) -> bool:
        key = _key("lease", name)
        if key in self._revisions:
            return await self._renew(key)
        return await self._take(key)

    async def _renew(self, key: str) -> bool:
        from nats.js.errors import KeyWrongLastSequenceError

        try:
            self._revisions[key] = await self._kv.update(key, self.holder.encode(), last=self._revisions[key])
            return True
        except KeyWrongLastSequenceError:  # expired and maybe taken: no longer ours
            del self._revisions[key]
            log.warning("lease %s expired before %s renewed it", _text(key), self.holder)
            return await self._take(key)

    async def _take(self, key: str) -> bool:
        from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

        try:
            self._revisions[key] = await self._kv.create(key, self.holder.encode())
            return True
        except KeyWrongLastSequenceError:
            pass
        except KeyNotFoundError:  # it existed, then expired while nats-py looked at it: next round
            return False
        try:
            entry = await self._kv.get(key)
        except KeyNotFoundError:  # deleted or expired between the two calls: next round
            return False
        if entry.value == self.holder.encode():  # ours from before a restart under the same name
            self._revisions[key] = entry.revision
            return await self._renew(key)
        return False

    async def release(self, name: str) -> None:
        await self._release_key(_key("lease", name))

    async def _release_key(self, key: str) -> None:
        """Delete the key only if it still holds the revision this node wrote (an expired lease
        someone else took since is theirs)."""
        from nats.js.errors import APIError

        revision = self._revisions.pop(key, None)
        if revision is None:
            return
        try:
            await self._kv.delete(key, last=revision)
        except APIError:  # wrong last sequence: it was no longer ours
            pass

    async def announce(self, group: str) -> None:
        self._groups.add(group)
        await self._kv.put(_key("member", group, self.holder), self.holder.encode())

    async def members(self, group: str) -> list[str]:
        from nats.js.errors import NoKeysError

        prefix = _key("member", group) + "."
        try:
            keys = await self._kv.keys()  # NATS before 2.10 ignores key filters; the bucket is small
        except NoKeysError:
            return []
        return sorted(_text(key.removeprefix(prefix)) for key in keys if key.startswith(prefix))


async def _open_bucket(js, config, attempts: int = 10):
    """The leases' bucket, created if new. A bucket made earlier with another lease time or
    replica count is used as it is (NATS cannot change them; the log says so). A cluster that
    has just created it may not have elected its leader yet: retry for a few seconds."""
    from nats.js.errors import BadRequestError, ServiceUnavailableError
    from nats.errors import NoRespondersError, TimeoutError as NatsTimeout

    for attempt in range(attempts):
        try:
            return await js.create_key_value(config)
        except BadRequestError:
            log.warning("the leases bucket %s exists with other settings (lease time %s s wanted); using it as it is",
                        config.bucket, config.ttl)
            return await js.key_value(config.bucket)
        except (ServiceUnavailableError, NoRespondersError, NatsTimeout):
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(1.0)


def open_leases(settings, holder: str | None = None) -> Leases:
    """The leases of this deployment: in NATS next to a JetStream log, else this node's alone.
    `holder`: the name to hold them under (default: the node's name)."""
    holder = holder or settings.node
    if settings.log_url.startswith("nats"):
        return JetStreamLeases(settings.log_url, f"{settings.log_stream}_leases", holder,
                               ttl=settings.lease_seconds, replicas=settings.log_replicas)
    return LocalLeases(holder, ttl=settings.lease_seconds)

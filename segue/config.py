"""The one typed Settings object.

Built once (by the CLI, or by tests) from defaults, the environment and command-line overrides,
then passed down. No other module reads the environment.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "SEGUE_"
# Shorter environment names some settings also answer to.
ENV_ALIASES = {"disk_budget_bytes": "SEGUE_DISK_BUDGET", "disk_min_free_bytes": "SEGUE_DISK_MIN_FREE"}
SIZE_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
              "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4}


@dataclass(frozen=True)
class Settings:
    """Everything a Segue process needs to know about where it runs and its limits."""

    data_dir: Path = Path("segue-data")
    database_url: str | None = None  # None: SQLite file config.db inside data_dir
    host: str = "127.0.0.1"
    port: int = 8088
    # The URL people reach Segue at; OAuth logins send the browser back to <public_url>/api/v1/oauth/callback.
    public_url: str = "http://127.0.0.1:8088"
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated IPs, "*" for
    # any); empty: none, the connection's address is the client's.
    forwarded_allow_ips: str = ""

    # Tracking API limits (Segment's, spec section 1.10), measured on decompressed bytes.
    max_message_bytes: int = 32 * 1024
    max_batch_bytes: int = 500 * 1024
    max_batch_messages: int = 2500
    unknown_write_key_status: int = 401
    # Per write key: requests per second it may send on average (0: no limit, the default, as one
    # machine's own capacity is the limit) and the burst allowed above that (0: one second's
    # worth); over it the Tracking API answers 429 with Retry-After (docs/tracking-api.md).
    write_key_rate_limit: float = 0.0
    write_key_burst: int = 0

    # Event log: "" keeps it in SQLite files in the data dir; nats://HOST:4222 puts it on NATS
    # JetStream, shared by every node (docs/scale-out.md).
    log_url: str = ""
    # What this node runs: all, or some of ingest, router, warehouse, app (segue/server.py).
    role: str = "all"
    # This node's name among the routers and warehouse loaders sharing the work (leases); empty:
    # host name and process id. Must differ between nodes running at the same time.
    node_name: str = ""
    lease_seconds: float = 10.0  # a lease its holder stopped renewing passes on after this long
    log_stream: str = "SEGUE"  # the JetStream stream (and the prefix of its cursors' bucket)
    log_replicas: int = 1  # JetStream replicas of the stream and the bucket (3 on a NATS cluster)
    dedup_window_seconds: int = 24 * 3600
    log_partitions: int = 32
    segment_max_records: int = 1_000_000
    retention_min_seconds: int = 24 * 3600
    prune_interval_seconds: float = 600.0
    dedup_flush_keys: int = 100_000  # dedup keys kept in memory before one bulk write to dedup.db
    log_writer_process: bool = True  # group commit in a child process, beside ingest (see log/writer_process.py)

    # Disk budget of the data dir (docs/disk.md). Sizes in the environment may be written 10GB, 500MB...
    disk_budget_bytes: int = 0  # SEGUE_DISK_BUDGET; 0: no budget, only the free-space floor applies
    disk_min_free_bytes: int = 256 * 1024**2  # SEGUE_DISK_MIN_FREE; refuse ingest below this much free space
    disk_high_water: float = 0.9  # past this share of the budget, retention runs early
    disk_check_seconds: float = 1.0  # how often the data dir's usage is measured

    # Raw archive and Replay (docs/replay-and-archive.md).
    archive_enabled: bool = True  # write every accepted event to <data_dir>/archive
    archive_retention_days: int = 30  # drop archived hours older than this; 0 keeps them forever
    archive_flush_seconds: float = 60.0  # write buffered events at least this often (one part per source-hour)
    replay_rate_limit: float = 50.0  # requests per second a replay sends to one destination (its vendor limit if lower)

    # Delivery to destinations (spec section 4.4).
    delivery_timeout_seconds: float = 5.0  # a destination must answer within this, else retried
    delivery_concurrency: int = 8  # simultaneous requests per destination instance
    retry_window_seconds: float = 86_400.0  # give up this long after an event's first failure
    retry_base_seconds: float = 1.0  # first backoff step; doubles per attempt, randomized
    retry_max_delay_seconds: float = 3600.0  # longest wait between two attempts
    user_hold_seconds: float = 3600.0  # a user's later events wait this long behind a retrying one
    breaker_failures: int = 20  # consecutive retryable failures that pause a destination
    breaker_open_seconds: float = 30.0  # first pause before one probe request (doubles, up to 10 min)

    # Destinations (HTTP, streams, test sends, OAuth) may reach loopback, private, link-local and
    # other non-public addresses only when this is set (docs/destinations.md, "Security").
    allow_private_destinations: bool = False

    # How often running processes look for config changes made elsewhere (CLI, app, API).
    config_poll_seconds: float = 0.5

    # Secrets at rest: a Fernet key (URL-safe base64 of 32 bytes); empty: <data_dir>/secret.key,
    # created on first use. Every process sharing a PostgreSQL config store needs the same key.
    secret_key: str = field(default="", repr=False)
    # The first owner, created when the workspace has no user yet (empty password: generated).
    admin_user: str = "admin"
    admin_password: str = field(default="", repr=False)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Defaults, then `SEGUE_*` variables, then non-None keyword overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper(), environ.get(ENV_ALIASES.get(f.name, "")))
            if raw is not None and f.name.endswith("_bytes"):
                values[f.name] = parse_size(raw)
            elif raw is not None:
                values[f.name] = _coerce(cls.__dataclass_fields__[f.name].default, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        return replace(settings, data_dir=Path(settings.data_dir))

    @property
    def config_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'config.db').resolve()}"

    @property
    def node(self) -> str:
        """This process's name among the nodes sharing the work (`node_name`, else host-pid)."""
        return self.node_name or f"{socket.gethostname()}-{os.getpid()}"

    def node_consumer(self, name: str) -> str:
        """The log consumer name of work every node does for itself (its archive, its counts):
        on a shared log, one per node (`name@node_name`, else `name@host`), so each node reads
        everything; on the embedded log, `name`."""
        return f"{name}@{self.node_name or socket.gethostname()}" if self.log_url else name

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "log"

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)


def parse_size(raw: str) -> int:
    """A byte count from `123`, `500MB`, `10GB` or `2GiB` (decimal KB/MB/GB, binary KiB/MiB/GiB)."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]I?B?|B)?", raw.strip().upper())
    unit = found and (found.group(2) or "")
    if not found or (unit not in SIZE_UNITS and unit + "B" not in SIZE_UNITS):
        raise ValueError(f"not a size: {raw!r} (write e.g. 500MB, 10GB or a number of bytes)")
    return int(float(found.group(1)) * SIZE_UNITS.get(unit, SIZE_UNITS.get(unit + "B", 1)))


def _coerce(default: Any, raw: str) -> Any:
    """Turn an environment string into the type of the field's default."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, Path):
        return Path(raw)
    return raw

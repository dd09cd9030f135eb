"""Warehouse sync history: what each sync did (spec 3.7, "Sync History").

A sync is `Pending` when someone asked for it ("sync now") and no syncer has taken it yet,
`Running` while it loads, then `Success` (including "no rows"), `Partial` (notices, rejected
values, or an error after some rows were loaded) or `Failure` (nothing loaded). Only a request
bumps the config version (so running servers notice it at once, and the audit trail names who
asked); recording progress and results is bookkeeping, not configuration, and bumps nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from segue.errors import NotFound
from segue.store.models import AuditEvent, Base, UTCDateTime, Warehouse, new_id, utcnow

SYNC_STATUSES = ("Pending", "Running", "Success", "Partial", "Failure")
FINISHED = ("Success", "Partial", "Failure")


class WarehouseSync(Base):
    """One sync of a warehouse: when, how long, rows per table, notices, the error if any."""

    __tablename__ = "warehouse_syncs"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in SYNC_STATUSES)})", name="status"),
        Index("ix_warehouse_syncs_warehouse_id_created_at", "warehouse_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("sync"))
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))  # "schedule" | "manual"
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    rows: Mapped[dict] = mapped_column(JSON, default=dict)
    notices: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class SyncRecord:
    """One sync as the rest of Segue sees it."""

    id: str
    warehouse_id: str
    status: str
    trigger: str
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    rows: dict
    notices: list
    error: str | None

    @classmethod
    def from_row(cls, row: WarehouseSync) -> "SyncRecord":
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


class SyncCommands:
    """Request, record and list warehouse syncs (mixed into Store)."""

    workspace_id: str  # provided by Store, as are _reading(), _writing() and _immediate_session()

    def request_sync(self, warehouse_id: str, *, actor: str) -> SyncRecord:
        """A `Pending` sync for a syncer to take; the one already pending, if any."""
        with self._writing() as session:
            pending = session.scalars(self._syncs_of(warehouse_id).where(WarehouseSync.status == "Pending")).first()
            if pending is not None:
                return SyncRecord.from_row(pending)
            row = self._new_sync(warehouse_id, "Pending", "manual", actor)
            session.add(row)
            session.flush()
            self._audit(session, actor, "warehouse.sync_requested", warehouse_id, {"sync_id": row.id})
            return SyncRecord.from_row(row)

    def start_sync(self, warehouse_id: str, *, sync_id: str | None = None, at: datetime | None = None) -> SyncRecord:
        """Mark the pending sync `sync_id` Running, or record a new scheduled one."""
        at = at or utcnow()
        with self._immediate_session() as session:
            row = session.get(WarehouseSync, sync_id) if sync_id else None
            if row is None or row.status != "Pending":
                row = self._new_sync(warehouse_id, "Running", "schedule", "schedule")
                session.add(row)
            row.status, row.started_at = "Running", at
            session.flush()
            return SyncRecord.from_row(row)

    def record_sync_progress(self, sync_id: str, rows: dict[str, int]) -> None:
        """The rows loaded so far by a running sync."""
        with self._immediate_session() as session:
            session.execute(update(WarehouseSync).where(WarehouseSync.id == sync_id).values(rows=dict(rows)))

    def finish_sync(self, sync_id: str, *, status: str, rows: dict[str, int], notices: list[str],
                    error: str | None = None, at: datetime | None = None) -> SyncRecord:
        """Record how a sync ended."""
        with self._immediate_session() as session:
            row = self._sync_row(session, sync_id)
            row.status, row.rows, row.notices, row.error = status, dict(rows), list(notices), error
            row.finished_at = at or utcnow()
            row.duration_seconds = max(0.0, (row.finished_at - (row.started_at or row.finished_at)).total_seconds())
            session.flush()
            return SyncRecord.from_row(row)

    def get_sync(self, sync_id: str) -> SyncRecord:
        with self._reading() as session:
            return SyncRecord.from_row(self._sync_row(session, sync_id))

    def list_syncs(self, warehouse_id: str, limit: int = 50) -> list[SyncRecord]:
        """The warehouse's syncs, newest first."""
        query = self._syncs_of(warehouse_id).order_by(WarehouseSync.created_at.desc(), WarehouseSync.id.desc())
        with self._reading() as session:
            return [SyncRecord.from_row(row) for row in session.scalars(query.limit(limit))]

    def last_started_sync(self, warehouse_id: str) -> SyncRecord | None:
        """The sync that started last (whatever its outcome), if any."""
        query = self._syncs_of(warehouse_id).where(WarehouseSync.started_at.is_not(None))
        with self._reading() as session:
            row = session.scalars(query.order_by(WarehouseSync.started_at.desc()).limit(1)).first()
            return None if row is None else SyncRecord.from_row(row)

    def pending_syncs(self) -> list[SyncRecord]:
        """Every sync someone asked for that no syncer has taken yet, oldest first."""
        query = self._workspace_syncs().where(WarehouseSync.status == "Pending").order_by(WarehouseSync.created_at)
        with self._reading() as session:
            return [SyncRecord.from_row(row) for row in session.scalars(query)]

    def interrupt_running_syncs(self, reason: str, warehouse_id: str | None = None) -> int:
        """Mark the syncs a stopped process left `Running` (of one warehouse, or all) as failed;
        returns how many."""
        query = self._workspace_syncs().where(WarehouseSync.status == "Running")
        if warehouse_id is not None:
            query = query.where(WarehouseSync.warehouse_id == warehouse_id)
        with self._immediate_session() as session:
            rows = list(session.scalars(query))
            now = utcnow()
            for row in rows:
                row.status, row.error, row.finished_at = "Failure", reason, now
            return len(rows)

    def warehouse_ever_created(self) -> bool:
        """Whether the audit trail shows a warehouse created in this workspace (even if deleted since)."""
        query = select(AuditEvent.id).where(AuditEvent.workspace_id == self.workspace_id,
                                            AuditEvent.action == "warehouse.created")  # fmt: skip
        with self._reading() as session:
            return session.scalars(query.limit(1)).first() is not None

    def _new_sync(self, warehouse_id: str, status: str, trigger: str, requested_by: str) -> WarehouseSync:
        return WarehouseSync(warehouse_id=warehouse_id, status=status, trigger=trigger,
                             requested_by=requested_by[:100], created_at=utcnow(), rows={}, notices=[])

    def _syncs_of(self, warehouse_id: str):
        return select(WarehouseSync).where(WarehouseSync.warehouse_id == warehouse_id)

    def _workspace_syncs(self):
        mine = select(Warehouse.id).where(Warehouse.workspace_id == self.workspace_id)
        return select(WarehouseSync).where(WarehouseSync.warehouse_id.in_(mine))

    def _sync_row(self, session: Session, sync_id: str) -> WarehouseSync:
        row = session.scalars(self._workspace_syncs().where(WarehouseSync.id == sync_id)).first()
        if row is None:
            raise NotFound(f"no warehouse sync with id {sync_id!r}")
        return row

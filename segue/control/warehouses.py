"""Warehouses: where events land in Segment's table layout (spec section 3).

Plan rules: Free and Team have one warehouse, Business as many as needed; each plan has a
most-frequent sync; choosing which sources, collections or properties a warehouse loads is
Selective Sync, a Business feature for workspace owners. Every plan can "sync now": a request
recorded in the sync history, which the running server's sync supervisor picks up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from segue.control.access import Actor, require_owner, require_write
from segue.control.plans import (
    check_sync_interval,
    require_feature,
    rules_for,
    warehouse_limit_message,
)
from segue.control.replays import utc
from segue.control.settings import checked_settings
from segue.control.views import warehouse_view
from segue.destinations.settings import updated_values
from segue.errors import ConfigError, Conflict, NotFound, PlanLimit
from segue.store.common import iso

DEFAULT_WAREHOUSE = "warehouse"
MAX_SYNCS_LISTED = 500


class WarehouseUseCases:
    """Create, change and delete warehouses (mixed into ControlPlane)."""

    def list_warehouses(self) -> list[dict]:
        return [self._warehouse_view(record) for record in self.store.list_warehouses()]

    def get_warehouse(self, ref: str) -> dict:
        return self._warehouse_view(self.store.get_warehouse(ref))

    def create_warehouse(
        self,
        actor: Actor,
        *,
        engine: str,
        name: str,
        settings: Mapping | None = None,
        source_ids: list[str] | None = None,
        selective_sync: Mapping | None = None,
        sync_interval_seconds: int | None = None,
        enabled: bool = True,
    ) -> dict:
        """A new warehouse loading every source (or, on Business, the ones chosen)."""
        require_write(actor)
        plan = self.plan
        rules = rules_for(plan)
        public, secrets = checked_settings(self._engine(engine).settings, settings or {}, complete=True)
        interval = sync_interval_seconds or rules.min_sync_interval_seconds
        check_sync_interval(plan, interval)
        self._check_selective_sync(actor, plan, source_ids, selective_sync)
        try:
            record = self.store.create_warehouse(
                engine=engine, name=name, settings=public, secrets=secrets, source_ids=self._source_ids(source_ids),
                selective_sync=dict(selective_sync or {}), sync_interval_seconds=interval, enabled=enabled,
                max_warehouses=rules.max_warehouses, actor=actor.name,
            )
        except PlanLimit:
            raise PlanLimit(warehouse_limit_message(plan, rules.max_warehouses)) from None
        return self._warehouse_view(record)

    def update_warehouse(self, actor: Actor, ref: str, **changes: Any) -> dict:
        """Change name, settings, sourceIds, selective sync, interval or enabled (None leaves it)."""
        require_write(actor)
        record = self.store.get_warehouse(ref)
        given = {key: value for key, value in changes.items() if value is not None}
        if "settings" in given:
            model = self._engine(record.engine).settings
            values = updated_values(model, record.settings, record.secrets, given["settings"])
            given["settings"], given["secrets"] = checked_settings(model, values, complete=True)
        if "sync_interval_seconds" in given:
            check_sync_interval(self.plan, given["sync_interval_seconds"])
        if "source_ids" in given or "selective_sync" in given:
            self._check_selective_sync(actor, self.plan, given.get("source_ids"), given.get("selective_sync"))
            given["source_ids"] = self._source_ids(given.get("source_ids", record.source_ids))
        return self._warehouse_view(self.store.update_warehouse(record.id, actor=actor.name, **given))

    def load_all_sources(self, actor: Actor, ref: str) -> dict:
        """Turn Selective Sync's source choice off: the warehouse loads every source again."""
        require_write(actor)
        record = self.store.get_warehouse(ref)
        return self._warehouse_view(self.store.update_warehouse(record.id, actor=actor.name, source_ids=None))

    def delete_warehouse(self, actor: Actor, ref: str) -> dict:
        require_write(actor)
        return self._warehouse_view(self.store.delete_warehouse(self.store.get_warehouse(ref).id, actor=actor.name))

    def ensure_default_warehouse(self, actor: Actor) -> dict | None:
        """On first start: a DuckDB warehouse named "warehouse" loading every source into
        `<data dir>/warehouse.duckdb`, unless the workspace has or ever had a warehouse."""
        if self.store.list_warehouses() or self.store.warehouse_ever_created():
            return None
        try:
            return self.create_warehouse(actor, engine="duckdb", name=DEFAULT_WAREHOUSE, settings={"path": ""})
        except (Conflict, PlanLimit):
            return None  # another process made one at the same moment

    def request_sync(self, actor: Actor, ref: str) -> dict:
        """Sync now: a pending sync the server starts within a second (every plan may)."""
        require_write(actor)
        record = self.store.get_warehouse(ref)
        if not record.enabled:
            raise ConfigError(f"warehouse {record.name!r} is disabled; enable it to sync")
        return sync_view(self.store.request_sync(record.id, actor=actor.name))

    def backfill_target(self, actor: Actor, ref: str, start: datetime, end: datetime) -> Any:
        """The warehouse record a backfill of [start, end) loads into, once the rules allow it
        (a role that may change things, the business plan, end after start)."""
        require_write(actor)
        require_feature(self.plan, "replay")
        if utc(end) <= utc(start):
            raise ConfigError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
        return self.store.get_warehouse(ref)

    def list_syncs(self, ref: str, limit: int = 50) -> list[dict]:
        """The warehouse's sync history, newest first."""
        warehouse_id = self.store.get_warehouse(ref).id
        records = self.store.list_syncs(warehouse_id, min(max(limit, 1), MAX_SYNCS_LISTED))
        return [sync_view(record) for record in records]

    def get_sync(self, ref: str, sync_id: str) -> dict:
        record = self.store.get_sync(sync_id)
        if record.warehouse_id != self.store.get_warehouse(ref).id:
            raise NotFound(f"no sync {sync_id!r} of warehouse {ref!r}")
        return sync_view(record)

    def _check_selective_sync(self, actor: Actor, plan: str, source_ids: Any, selective_sync: Any) -> None:
        if source_ids is None and not selective_sync:
            return
        require_feature(plan, "selective_sync")
        require_owner(actor, "change Selective Sync")

    def _source_ids(self, refs: list[str] | None) -> list[str] | None:
        """Source ids for names, slugs or ids (NotFound for an unknown one); None: every source."""
        return None if refs is None else [self.store.get_source(ref).id for ref in refs]

    def _engine(self, slug: str) -> Any:
        try:
            return self.engines[slug]
        except KeyError:
            raise NotFound(f"no warehouse engine {slug!r}; use one of: {', '.join(self.engines)}") from None

    def _warehouse_view(self, record: Any) -> dict:
        return warehouse_view(record, self.engines.get(record.engine))


def sync_view(record: Any) -> dict:
    """One sync as the API shows it."""
    return {
        "id": record.id,
        "warehouseId": record.warehouse_id,
        "status": record.status,
        "trigger": record.trigger,
        "requestedBy": record.requested_by,
        "createdAt": iso(record.created_at),
        "startedAt": record.started_at and iso(record.started_at),
        "finishedAt": record.finished_at and iso(record.finished_at),
        "durationSeconds": record.duration_seconds,
        "rows": record.rows,
        "totalRows": sum(record.rows.values()),
        "notices": record.notices,
        "error": record.error,
    }

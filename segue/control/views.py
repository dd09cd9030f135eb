"""The JSON shapes the REST API returns and `--json` prints: camelCase, times in ISO 8601 UTC.

Secret settings never leave through a view: `settings` shows them masked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from segue.control.plans import rules_for
from segue.destinations.settings import MASK, masked


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _times(record: Any) -> dict:
    return {"createdAt": iso(record.created_at), "updatedAt": iso(record.updated_at)}


def source_view(source: Any) -> dict:
    return {
        "id": source.id,
        "name": source.name,
        "slug": source.slug,
        "type": source.type,
        "enabled": source.enabled,
        "writeKeys": [source.write_key],
        **_times(source),
    }


def masked_settings(model: type | None, public: Mapping, secrets: Mapping) -> dict:
    """Public values as they are, secrets masked (all of them when the schema is unknown)."""
    if model is None:
        return {**public, **{name: MASK for name in secrets}}
    return masked(model, public, secrets)


def destination_view(record: Any, destination: Any | None) -> dict:
    """A destination instance; `destination` is its catalog entry (None if uninstalled)."""
    metadata = {"id": record.catalog_slug, "slug": record.catalog_slug}
    if destination is not None:
        metadata.update(name=destination.name, categories=list(destination.categories))
    model = destination.settings if destination is not None else None
    return {
        "id": record.id,
        "name": record.name,
        "enabled": record.enabled,
        "mode": record.mode,
        "sourceId": record.source_id,
        "metadata": metadata,
        "settings": masked_settings(model, record.settings, record.secrets),
        **_times(record),
    }


def filter_view(record: Any) -> dict:
    return {
        "id": record.id,
        "destinationId": record.destination_id,
        "title": record.title,
        "if": record.condition,
        "actions": record.actions,
        "enabled": record.enabled,
        **_times(record),
    }


def mapping_view(record: Any) -> dict:
    return {
        "id": record.id,
        "destinationId": record.destination_id,
        "name": record.name,
        "trigger": record.trigger,
        "action": record.action,
        "fields": record.fields,
        "enabled": record.enabled,
        "position": record.position,
        **_times(record),
    }


def warehouse_view(record: Any, engine: Any | None) -> dict:
    model = engine.settings if engine is not None else None
    return {
        "id": record.id,
        "name": record.name,
        "engine": record.engine,
        "enabled": record.enabled,
        "settings": masked_settings(model, record.settings, record.secrets),
        "sourceIds": record.source_ids,
        "selectiveSync": record.selective_sync,
        "syncIntervalSeconds": record.sync_interval_seconds,
        **_times(record),
    }


def workspace_view(record: Any) -> dict:
    rules = rules_for(record.plan)
    return {
        "id": record.id,
        "name": record.name,
        "slug": record.slug,
        "plan": record.plan,
        "limits": {
            "maxWarehouses": rules.max_warehouses,
            "minSyncIntervalSeconds": rules.min_sync_interval_seconds,
            "features": sorted(rules.features),
            "maxTriggerConditions": rules.max_trigger_conditions,
        },
        **_times(record),
    }


def user_view(record: Any) -> dict:
    return {"id": record.id, "username": record.username, "role": record.role, **_times(record)}


def token_view(record: Any) -> dict:
    return {
        "id": record.id,
        "name": record.name,
        "role": record.role,
        "prefix": record.prefix,
        "createdBy": record.created_by,
        "createdAt": iso(record.created_at),
        "lastUsedAt": iso(record.last_used_at),
    }


def audit_view(record: Any) -> dict:
    return {
        "id": record.id,
        "at": iso(record.at),
        "actor": record.actor,
        "action": record.action,
        "resourceType": record.resource_type,
        "resourceId": record.resource_id,
        "details": record.details,
    }

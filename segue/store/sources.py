"""Sources: the places events come from, each with its own write key.

`SourceCommands` is mixed into `Store`; it relies on the store's `_reading()` and `_writing()`
sessions (a write session has already bumped the workspace's config version) and on
`workspace_id`. Callers get `SourceRecord`s, frozen copies that outlive the session. Every
change writes an audit event (`source.created`, `.updated`, `.write_key_rotated`, `.deleted`);
the write key itself never goes into one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from segue.errors import ConfigError, Conflict, NotFound
from segue.store.common import Record, apply_changes, change_details
from segue.store.models import SOURCE_TYPES, Source, new_write_key, slugify, utcnow

MAX_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class SourceRecord(Record):
    """One source as the rest of Segue sees it."""

    id: str
    workspace_id: str
    name: str
    slug: str
    type: str
    write_key: str
    enabled: bool
    created_at: datetime
    updated_at: datetime


def validate_source(name: str, type: str) -> tuple[str, str]:
    """The cleaned name and its slug; ConfigError when the name or type cannot work."""
    name = name.strip()
    if type not in SOURCE_TYPES:
        raise ConfigError(f"unknown source type {type!r}; use one of: {', '.join(SOURCE_TYPES)}")
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ConfigError(f"a source name needs 1 to {MAX_NAME_LENGTH} characters, got {len(name)}")
    return name, slugify(name)


class SourceCommands:
    """Create, find, change and delete the workspace's sources."""

    workspace_id: str  # provided by Store, as are _reading() and _writing()

    def create_source(self, name: str, type: str, *, actor: str = "system") -> SourceRecord:
        """A new enabled source with a fresh write key."""
        name, slug = validate_source(name, type)
        with self._writing() as session:
            self._refuse_duplicate(session, slug)
            now = utcnow()
            row = Source(workspace_id=self.workspace_id, name=name, slug=slug, type=type, created_at=now, updated_at=now)
            session.add(row)
            session.flush()
            self._audit(session, actor, "source.created", row.id, {"name": name, "slug": slug, "type": type})
            return SourceRecord.from_row(row)

    def list_sources(self) -> list[SourceRecord]:
        """Every source of the workspace, oldest first."""
        query = self._sources_query().order_by(Source.created_at, Source.slug)
        with self._reading() as session:
            return [SourceRecord.from_row(row) for row in session.scalars(query)]

    def get_source(self, name_or_id: str) -> SourceRecord:
        """The source with this id, name or slug; NotFound otherwise."""
        with self._reading() as session:
            return SourceRecord.from_row(self._find_source(session, name_or_id))

    def set_source_enabled(self, name_or_id: str, enabled: bool, *, actor: str = "system") -> SourceRecord:
        """Enable or disable a source (a disabled source's write key is refused)."""
        return self._change_source(name_or_id, actor, "source.updated", enabled=bool(enabled))

    def rotate_write_key(self, name_or_id: str, *, actor: str = "system") -> SourceRecord:
        """Give the source a new write key; the old one stops working."""
        return self._change_source(name_or_id, actor, "source.write_key_rotated", write_key=new_write_key())

    def rename_source(self, name_or_id: str, new_name: str, *, actor: str) -> SourceRecord:
        """Give the source a new name (and so a new slug); its id and write key stay."""
        with self._writing() as session:
            row = self._find_source(session, name_or_id)
            name, slug = validate_source(new_name, row.type)
            if slug != row.slug:
                self._refuse_duplicate(session, slug)
            return self._apply_source_change(session, row, actor, "source.updated", {"name": name, "slug": slug})

    def delete_source(self, name_or_id: str, *, actor: str = "system") -> SourceRecord:
        """Delete the source with its destinations and their filters; returns what it was."""
        with self._writing() as session:
            row = self._find_source(session, name_or_id)
            session.delete(row)
            self._forget_source(session, row.id)
            self._audit(session, actor, "source.deleted", row.id, {"name": row.name, "slug": row.slug})
            return SourceRecord.from_row(row)

    def write_keys(self) -> dict[str, SourceRecord]:
        """write key -> source, for every source including disabled ones."""
        return {source.write_key: source for source in self.list_sources()}

    def _change_source(self, name_or_id: str, actor: str, action: str, **values) -> SourceRecord:
        with self._writing() as session:
            row = self._find_source(session, name_or_id)
            return self._apply_source_change(session, row, actor, action, values)

    def _apply_source_change(self, session: Session, row: Source, actor: str, action: str, values) -> SourceRecord:
        changed = apply_changes(row, values)
        session.flush()
        self._audit(session, actor, action, row.id, change_details(changed, values))
        return SourceRecord.from_row(row)

    def _sources_query(self):
        return select(Source).where(Source.workspace_id == self.workspace_id)

    def _find_source(self, session: Session, name_or_id: str) -> Source:
        match = or_(Source.id == name_or_id, Source.slug == slugify(name_or_id))
        row = session.scalars(self._sources_query().where(match)).first()
        if row is None:
            raise NotFound(f"no source with name or id {name_or_id!r}")
        return row

    def _refuse_duplicate(self, session: Session, slug: str) -> None:
        existing = session.scalars(self._sources_query().where(Source.slug == slug)).first()
        if existing is not None:
            raise Conflict(f"a source named {existing.name!r} already exists (slug {slug!r})")

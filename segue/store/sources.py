"""Sources: the places events come from, each with its own write key.

`SourceCommands` is mixed into `Store`; it relies on the store's `_reading()` and `_writing()`
sessions (a write session has already bumped the workspace's config version) and on
`workspace_id`. Callers get `SourceRecord`s, frozen copies that outlive the session.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from segue.errors import ConfigError, NotFound
from segue.store.models import SOURCE_TYPES, Source, new_write_key, slugify, utcnow

MAX_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class SourceRecord:
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

    @classmethod
    def from_row(cls, row: Source) -> "SourceRecord":
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    def to_json(self) -> dict:
        """A JSON-ready dict; times in ISO 8601 UTC (`...Z`)."""
        data = asdict(self)
        for name in ("created_at", "updated_at"):
            data[name] = _iso(data[name])
        return data


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def validate_source(name: str, type: str) -> tuple[str, str]:
    """The cleaned name and its slug; ConfigError when the name or type cannot work."""
    name = name.strip()
    if type not in SOURCE_TYPES:
        raise ConfigError(f"unknown source type {type!r}; use one of: {', '.join(SOURCE_TYPES)}")
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ConfigError(f"a source name needs 1 to {MAX_NAME_LENGTH} characters, got {len(name)}")
    slug = slugify(name)
    if not slug:
        raise ConfigError(f"source name {name!r} needs at least one letter or digit")
    return name, slug


class SourceCommands:
    """Create, find, change and delete the workspace's sources."""

    workspace_id: str  # provided by Store, as are _reading() and _writing()

    def create_source(self, name: str, type: str) -> SourceRecord:
        """A new enabled source with a fresh write key."""
        name, slug = validate_source(name, type)
        with self._writing() as session:
            self._refuse_duplicate(session, slug)
            now = utcnow()
            row = Source(workspace_id=self.workspace_id, name=name, slug=slug, type=type, created_at=now, updated_at=now)
            session.add(row)
            session.flush()
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

    def set_source_enabled(self, name_or_id: str, enabled: bool) -> SourceRecord:
        """Enable or disable a source (a disabled source's write key is refused)."""
        return self._change_source(name_or_id, enabled=enabled)

    def rotate_write_key(self, name_or_id: str) -> SourceRecord:
        """Give the source a new write key; the old one stops working."""
        return self._change_source(name_or_id, write_key=new_write_key())

    def delete_source(self, name_or_id: str) -> SourceRecord:
        """Delete the source; returns what it was."""
        with self._writing() as session:
            row = self._find_source(session, name_or_id)
            session.delete(row)
            return SourceRecord.from_row(row)

    def write_keys(self) -> dict[str, SourceRecord]:
        """write key -> source, for every source including disabled ones."""
        return {source.write_key: source for source in self.list_sources()}

    def _change_source(self, name_or_id: str, **values) -> SourceRecord:
        with self._writing() as session:
            row = self._find_source(session, name_or_id)
            for column, value in values.items():
                setattr(row, column, value)
            row.updated_at = utcnow()
            session.flush()
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
            raise ConfigError(f"a source named {existing.name!r} already exists (slug {slug!r})")

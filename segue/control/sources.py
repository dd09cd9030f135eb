"""Sources: where events come from, each with its own write key."""

from __future__ import annotations

from segue.control.access import Actor, require_write
from segue.control.views import source_view


class SourceUseCases:
    """List, create, change and delete sources (mixed into ControlPlane)."""

    def list_sources(self) -> list[dict]:
        return [source_view(source) for source in self.store.list_sources()]

    def get_source(self, ref: str) -> dict:
        """The source with this id, name or slug."""
        return source_view(self.store.get_source(ref))

    def create_source(self, actor: Actor, name: str, type: str) -> dict:
        require_write(actor)
        return source_view(self.store.create_source(name, type, actor=actor.name))

    def update_source(self, actor: Actor, ref: str, *, name: str | None = None, enabled: bool | None = None) -> dict:
        """Rename and/or enable or disable a source."""
        require_write(actor)
        source = self.store.get_source(ref)
        if name is not None and name != source.name:
            source = self.store.rename_source(source.id, name, actor=actor.name)
        if enabled is not None and enabled != source.enabled:
            source = self.store.set_source_enabled(source.id, enabled, actor=actor.name)
        return source_view(source)

    def rotate_write_key(self, actor: Actor, ref: str) -> dict:
        """A new write key; the old one stops working within a second."""
        require_write(actor)
        return source_view(self.store.rotate_write_key(ref, actor=actor.name))

    def delete_source(self, actor: Actor, ref: str) -> dict:
        """Delete the source and the destination instances connected to it."""
        require_write(actor)
        return source_view(self.store.delete_source(ref, actor=actor.name))

"""`ControlPlane`: the one object the REST API, the app and the CLI change Segue through.

It is composed of one mixin per resource (sources, destinations, their mappings, warehouses,
workspace and access); each mixin uses `self.store`, `self.catalog` and `self.engines`. Methods
that change anything take the acting `Actor` first; every method returns JSON-ready views.
"""

from __future__ import annotations

from typing import Any, Mapping

from segue.control.destinations import DestinationUseCases
from segue.control.mappings import MappingUseCases
from segue.control.preview import PreviewUseCases
from segue.control.replays import ReplayUseCases
from segue.control.sources import SourceUseCases
from segue.control.warehouses import WarehouseUseCases
from segue.control.workspace import WorkspaceUseCases
from segue.destinations.registry import Catalog, load_catalog
from segue.store import Store
from segue.warehouses.catalog import WAREHOUSE_ENGINES


class ControlPlane(SourceUseCases, DestinationUseCases, MappingUseCases, WarehouseUseCases, WorkspaceUseCases,
                   ReplayUseCases, PreviewUseCases):
    """Checks roles, plans and settings, then saves through the config store."""

    def __init__(self, store: Store, catalog: Catalog | None = None, engines: Mapping | None = None,
                 delivery_stats: Any | None = None, replay_jobs: Any | None = None,
                 allow_private_destinations: bool = False) -> None:
        self.store = store
        self.allow_private_destinations = allow_private_destinations  # test sends and OAuth may reach private addresses
        self.catalog = catalog if catalog is not None else load_catalog()
        self.engines = engines if engines is not None else WAREHOUSE_ENGINES
        self.delivery_stats = delivery_stats  # the router's event delivery records
        self.replay_jobs = replay_jobs  # runs replays in the background (segue/pipeline/replay.py)

    @property
    def plan(self) -> str:
        """The workspace's current plan."""
        return self.store.get_workspace().plan

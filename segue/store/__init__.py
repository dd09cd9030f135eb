"""Config store: models, migrations, secret encryption and the queries the rest of Segue uses."""

from segue.store.audit import AuditRecord
from segue.store.common import UNSET
from segue.store.db import Store
from segue.store.destinations import DestinationRecord
from segue.store.filters import FilterRecord
from segue.store.mappings import MappingRecord
from segue.store.secrets import SecretBox
from segue.store.sources import SourceRecord
from segue.store.syncs import SyncRecord
from segue.store.users import TokenRecord, UserRecord
from segue.store.warehouses import WarehouseRecord
from segue.store.workspace import WorkspaceRecord

__all__ = [
    "UNSET",
    "AuditRecord",
    "DestinationRecord",
    "FilterRecord",
    "MappingRecord",
    "SecretBox",
    "SourceRecord",
    "Store",
    "SyncRecord",
    "TokenRecord",
    "UserRecord",
    "WarehouseRecord",
    "WorkspaceRecord",
]

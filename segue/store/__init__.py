"""Config store: models, migrations and the queries the rest of Segue uses."""

from segue.store.db import Store
from segue.store.sources import SourceRecord

__all__ = ["SourceRecord", "Store"]

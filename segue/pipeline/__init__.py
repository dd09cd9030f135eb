"""Data plane: ingest now; router, delivery and replay as they land."""

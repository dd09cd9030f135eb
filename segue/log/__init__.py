"""Durable, partitioned event log (see protocol.py)."""

"""Segment message model: validation, enrichment and timestamps (pure functions)."""

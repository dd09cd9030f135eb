"""Ingest benchmark: Segue's Tracking API against a no-op baseline, run by `python -m benchmarks`."""

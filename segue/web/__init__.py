"""HTTP surfaces: the Tracking API (and later the app and REST API)."""

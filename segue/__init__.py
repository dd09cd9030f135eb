"""Segue: an open-source customer data platform that speaks Segment's protocols."""

__version__ = "0.1.0"

"""The delivery settings: defaults and SEGUE_* environment variables."""

from __future__ import annotations

from segue.config import Settings


def test_defaults():
    settings = Settings.load({})
    assert (settings.delivery_timeout_seconds, settings.delivery_concurrency) == (5.0, 8)
    assert (settings.retry_window_seconds, settings.retry_base_seconds, settings.retry_max_delay_seconds) == (86_400.0, 1.0, 3600.0)
    assert (settings.user_hold_seconds, settings.breaker_failures, settings.breaker_open_seconds) == (3600.0, 20, 30.0)


def test_environment():
    settings = Settings.load({"SEGUE_RETRY_WINDOW_SECONDS": "14400", "SEGUE_DELIVERY_CONCURRENCY": "2",
                              "SEGUE_BREAKER_OPEN_SECONDS": "7.5"})
    assert (settings.retry_window_seconds, settings.delivery_concurrency, settings.breaker_open_seconds) == (14_400.0, 2, 7.5)

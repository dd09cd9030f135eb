"""Transports: dispatch by scheme, missing libraries, passwords kept out of messages."""

from __future__ import annotations

import importlib
from urllib.parse import urlsplit

import pytest

from segue.destinations.contract import Request
from segue.pipeline import transports as package
from segue.pipeline.transports import Transports, TransportError, scrub


async def test_an_unknown_scheme_is_permanent(transports):
    with pytest.raises(TransportError) as caught:
        await transports.send(Request("PUBLISH", "kafka://broker:9092/topic"), timeout=1)
    assert not caught.value.retryable


async def test_a_malformed_url_is_permanent(transports):
    with pytest.raises(TransportError) as caught:
        await transports.send(Request("PUBLISH", "redis://host:port/0?stream=s"), timeout=1)
    assert not caught.value.retryable and "invalid URL" in caught.value.message


def test_handles_names_the_non_http_schemes():
    assert Transports.handles("rediss://h/0?stream=s") and Transports.handles("s3://k:s@bucket/key")
    assert not Transports.handles("https://api.segment.io/v1/track")


async def test_a_missing_library_says_how_to_install_it(transports, monkeypatch):
    real = importlib.import_module

    def without_redis(name, *args):
        if name.startswith("redis"):
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(package.importlib, "import_module", without_redis)
    with pytest.raises(TransportError) as caught:
        await transports.send(Request("PUBLISH", "redis://127.0.0.1:6379/0?stream=s", {}, b"{}"), timeout=1)
    assert not caught.value.retryable and "pip install 'segue[streams]'" in caught.value.message


def test_scrub_hides_raw_and_encoded_passwords():
    parts = urlsplit("amqp://user:p%40ss%2Fword@host/")
    assert scrub("refused p@ss/word and p%40ss%2Fword", parts) == "refused •••• and ••••"

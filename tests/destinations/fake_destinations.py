"""Destinations for registry tests, loaded through fake entry points."""

from __future__ import annotations

from segue.destinations.contract import Destination, DestinationSettings


class NoSettings(DestinationSettings):
    pass


def _nothing(event, settings):
    return []


def make(slug: str, name: str, **fields) -> Destination:
    defaults = dict(categories=("Analytics",), description=f"{name} test destination.",
                    docs_url="https://example.com/docs", settings=NoSettings, translations={"track": _nothing})
    return Destination(slug=slug, name=name, **{**defaults, **fields})


ALPHA = make("alpha", "Alpha")
ALPHA_AGAIN = make("alpha", "Alpha Copy")
DESTINATION = make("beta-chat", "Beta Chat", categories=("Livechat",), modes=("device",), platforms=("browser",))
NOT_A_DESTINATION = object()

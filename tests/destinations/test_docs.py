"""Generated documentation pages: every destination has one, and docs/catalog/ is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from segue.destinations.docs import docs_page, index_page
from segue.destinations.registry import load_catalog

DOCS = Path(__file__).parents[2] / "docs" / "catalog"
DESTINATIONS = load_catalog().all()


@pytest.mark.parametrize("destination", DESTINATIONS, ids=lambda destination: destination.slug)
def test_the_committed_page_is_current(destination):
    """Regenerate with `segue catalog docs --all --out docs/catalog` after changing a destination."""
    assert (DOCS / f"{destination.slug}.md").read_text() == docs_page(destination)


def test_the_index_lists_every_destination():
    assert (DOCS / "README.md").read_text() == index_page(DESTINATIONS)


def test_a_page_names_the_oauth_login_rate_limit_and_batching():
    page = docs_page(load_catalog().get("hubspot"))
    assert "| Log in to the tool (OAuth) | yes |" in page and "| Rate limit | 10 requests/s |" in page
    assert "| Batching | up to 2,000 events per request |" in docs_page(load_catalog().get("amplitude"))
    assert "| Batching | no |" in docs_page(load_catalog().get("slack"))

"""Golden tests: Segment events in, the exact vendor requests out.

Each file under `golden/<slug>/` holds the destination settings, the event (or, for a batch,
the events) and the requests expected: method, URL, headers, and the body parsed as JSON.
The inputs follow each vendor's documented examples; `source` names the page they come from.

Regenerate the expected requests after an intended change with
`SEGUE_UPDATE_GOLDENS=1 .venv/bin/pytest tests/destinations/test_golden.py`, then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from segue.destinations.registry import load_catalog
from segue.destinations.settings import validate_settings
from tests.destinations.helpers import check_request, describe

GOLDEN_DIR = Path(__file__).parent / "golden"
GOLDEN_FILES = sorted(GOLDEN_DIR.glob("*/*.json"))
UPDATE = os.environ.get("SEGUE_UPDATE_GOLDENS") == "1"


def run_case(case: dict, slug: str) -> list[dict]:
    destination = load_catalog().get(slug)
    settings = validate_settings(destination.settings, case["settings"])
    if case.get("batch"):
        requests = destination.batch(case["events"], settings)
    else:
        (event,) = case["events"]
        requests = destination.translations[event["type"]](event, settings)
    for request in requests:
        check_request(request)
    return describe(requests)


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_golden(path: Path):
    case = json.loads(path.read_text())
    actual = run_case(case, path.parent.name)
    if UPDATE:
        case["requests"] = actual
        path.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n")
    assert actual == case["requests"]


def test_every_destination_has_goldens():
    slugs = {path.parent.name for path in GOLDEN_FILES}
    assert {"webhook", "amplitude", "mixpanel", "slack", "customerio"} <= slugs

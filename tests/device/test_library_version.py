"""The browser library says which Segue it is: its VERSION is the package's."""

from __future__ import annotations

import re
from importlib.metadata import version

from segue.web.device import LIBRARY


def test_the_browser_librarys_version_is_the_packages():
    """context.library.version is `segue-<VERSION>`; a release bumps both (pyproject.toml and
    segue/web/browser/analytics.js), or this fails."""
    [declared] = re.findall(r'const VERSION = "([^"]+)";', LIBRARY.read_text())
    assert declared == version("segue")

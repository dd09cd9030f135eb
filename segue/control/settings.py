"""Connection settings as the control plane saves them: checked, then split into public and secret.

A disabled destination may be saved with required settings still missing (the app's flow:
create, fill in the settings, then enable); enabling it needs them all. Any value given must
be valid either way.
"""

from __future__ import annotations

from typing import Mapping

from segue.destinations.settings import (
    InvalidSettings,
    secret_names,
    split_secrets,
    validate_settings,
)


def checked_settings(model: type, values: Mapping, *, complete: bool) -> tuple[dict, dict]:
    """(public, secrets) to store; InvalidSettings names each field and rule broken."""
    try:
        return split_secrets(validate_settings(model, values))
    except InvalidSettings as error:
        if complete or not _only_missing(error):
            raise
        return _split_as_given(model, values)


def _only_missing(error: InvalidSettings) -> bool:
    return all(problem["rule"] == "missing" for problem in error.details["errors"])


def _split_as_given(model: type, values: Mapping) -> tuple[dict, dict]:
    hidden = secret_names(model)
    public = {name: value for name, value in values.items() if name not in hidden}
    secrets = {name: value for name, value in values.items() if name in hidden and value is not None}
    return public, secrets

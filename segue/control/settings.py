"""Connection settings as the control plane saves them: checked, then split into public and secret.

A disabled destination may be saved with required settings still missing (the app's flow:
create, fill in the settings, then enable); enabling it needs them all. Any value given must
be valid either way. A device-mode instance is held only to the settings its plugin reads.
"""

from __future__ import annotations

from typing import Any, Collection, Mapping

from segue.destinations.settings import (
    InvalidSettings,
    secret_names,
    split_secrets,
    validate_settings,
)


def checked_settings(model: type, values: Mapping, *, complete: bool,
                     only: Collection[str] | None = None) -> tuple[dict, dict]:
    """(public, secrets) to store; InvalidSettings names each field and rule broken.

    `only`: the fields that must be there (a device-mode instance needs only the settings its
    browser plugin reads).
    """
    try:
        return split_secrets(validate_settings(model, values))
    except InvalidSettings as error:
        keep = names_and_aliases(model, only) if only is not None else None
        if any(not _tolerated(problem, complete, keep) for problem in error.details["errors"]):
            raise
        return _split_as_given(model, values)


def _tolerated(problem: Mapping, complete: bool, only: frozenset[str] | None) -> bool:
    """Missing values while incomplete; with `only`, missing values of other fields and rules
    across fields (the model's own checks, which serve the fields not needed). A value given
    must always be valid."""
    if problem["rule"] == "missing":
        return not complete or (only is not None and problem["field"] not in only)
    return only is not None and problem["field"] == ""


def fields_for_mode(destination: Any, mode: str) -> tuple[str, ...] | None:
    """The settings a device-mode instance needs (its plugin's); None: all of them (cloud)."""
    return destination.device.settings if mode == "device" and destination.device else None


def names_and_aliases(model: type, names: Collection[str]) -> frozenset[str]:
    """`names` (python names of the model's fields) and their aliases (`apiKey`)."""
    fields = model.model_fields
    return frozenset(names) | {fields[name].alias for name in names if name in fields and fields[name].alias}


def _split_as_given(model: type, values: Mapping) -> tuple[dict, dict]:
    hidden = secret_names(model)
    public = {name: value for name, value in values.items() if name not in hidden}
    secrets = {name: value for name, value in values.items() if name in hidden and value is not None}
    return public, secrets

"""Helpers shared by the email-marketing destinations: reserved traits renamed, E.164 phones.

The e-commerce, time and chunking helpers they also use are general ones, in `common`.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from segue.destinations.common import first

E164 = re.compile(r"\+[1-9][0-9]{1,14}")
PHONE_PUNCTUATION = str.maketrans("", "", " .-()")

TraitTable = Sequence[tuple[tuple[str, ...], str]]  # (Segment spellings, vendor field)


def split_traits(traits: Mapping, table: TraitTable) -> tuple[dict, dict]:
    """Reserved traits renamed to the vendor's fields, and the remaining (custom) traits.

    Every spelling of a mapped trait leaves the custom part, even when its value is None.
    """
    mapped, used = {}, set()
    for spellings, vendor_field in table:
        used.update(spellings)
        value = first(traits.get(name) for name in spellings)
        if value is not None:
            mapped[vendor_field] = value
    return mapped, {key: value for key, value in traits.items() if key not in used}


def e164(value: object) -> str | None:
    """A phone number in E.164 (`+15005550006`) once spaces, dots, dashes and brackets are removed."""
    if not isinstance(value, str):
        return None
    digits = value.translate(PHONE_PUNCTUATION)
    return digits if E164.fullmatch(digits) else None

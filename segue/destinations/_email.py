"""Helpers shared by the email-marketing destinations: reserved traits, ISO times, chunks, orders."""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator, Mapping, Sequence

from segue.destinations.common import event_ms
from segue.spec.timestamps import format_ms

E164 = re.compile(r"\+[1-9][0-9]{1,14}")
PHONE_PUNCTUATION = str.maketrans("", "", " .-()")
ORDER_COMPLETED = ("Order Completed", "Completed Order")  # Segment e-commerce v2 name and its v1 alias

TraitTable = Sequence[tuple[tuple[str, ...], str]]  # (Segment spellings, vendor field)


def split_traits(traits: Mapping, table: TraitTable) -> tuple[dict, dict]:
    """Reserved traits renamed to the vendor's fields, and the remaining (custom) traits.

    Every spelling of a mapped trait leaves the custom part, even when its value is None.
    """
    mapped, used = {}, set()
    for spellings, vendor_field in table:
        used.update(spellings)
        value = next((traits[name] for name in spellings if traits.get(name) is not None), None)
        if value is not None:
            mapped[vendor_field] = value
    return mapped, {key: value for key, value in traits.items() if key not in used}


def iso_time(event: Mapping) -> str | None:
    """The event's `timestamp` as ISO-8601 UTC with milliseconds, None when absent."""
    ms = event_ms(event)
    return None if ms is None else format_ms(ms)


def chunks(items: Sequence, size: int) -> Iterator[list]:
    """`items` in consecutive lists of at most `size`."""
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def is_order_completed(event: Mapping) -> bool:
    """A track call of Segment's `Order Completed` semantic event (or its v1 name)."""
    return event.get("type") == "track" and event.get("event") in ORDER_COMPLETED


def products_of(properties: Mapping) -> list[dict]:
    """The `products` array of an e-commerce event, objects only."""
    products = properties.get("products")
    return [dict(item) for item in products if isinstance(item, Mapping)] if isinstance(products, list) else []


def first(values: Iterable[Any]) -> Any:
    """The first value that is not None, else None."""
    return next((value for value in values if value is not None), None)


def e164(value: object) -> str | None:
    """A phone number in E.164 (`+15005550006`) once spaces, dots, dashes and brackets are removed."""
    if not isinstance(value, str):
        return None
    digits = value.translate(PHONE_PUNCTUATION)
    return digits if E164.fullmatch(digits) else None

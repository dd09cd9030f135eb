"""Helpers shared by the broker destinations (NATS, MQTT, RabbitMQ, Redis Streams).

Subject, topic, routing key and stream templates filled from the event, and broker URLs that
carry their credentials in the userinfo, the way broker URLs do (see `Request`).
"""

from __future__ import annotations

import re
import typing
from urllib.parse import quote, urlencode, urlsplit

from pydantic import AfterValidator, SecretStr

from segue.destinations.common import text

PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}")
UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
MISSING = "_"  # a placeholder whose event field is absent


def fill_template(template: str, event: dict) -> str:
    """`template` with each `{path}` replaced by the event's value, reduced to `[A-Za-z0-9_-]`.

    Values cannot add separators (`.`, `/`) or wildcards to a subject, topic or routing key.
    """
    return PLACEHOLDER.sub(lambda match: UNSAFE.sub("_", text(event, match.group(1)) or MISSING), template)


def broker_url(base: str, username: str | None, password: SecretStr | None, path: str, query: dict) -> str:
    """`base` with the credentials in its userinfo, `path` as its path and `query` appended."""
    parts = urlsplit(base)
    user = quote(username or "", safe="")
    secret = quote(password.get_secret_value(), safe="") if password else ""
    userinfo = f"{user}:{secret}@" if secret else f"{user}@" if user else ""
    query_text = urlencode({key: value for key, value in query.items() if value is not None})
    return f"{parts.scheme}://{userinfo}{parts.netloc}{path}" + (f"?{query_text}" if query_text else "")


def broker_url_type(*schemes: str) -> typing.Any:
    """An annotated `str` holding a `scheme://host[:port][/path]` URL without credentials."""

    def check(value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"must be a {' or '.join(schemes)}:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("put the credentials in the username and password settings, not in the URL")
        return value

    return typing.Annotated[str, AfterValidator(check)]

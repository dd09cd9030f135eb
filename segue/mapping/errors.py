"""The two configuration errors of this package: bad FQL and bad mapping-kit mappings."""

from __future__ import annotations

from segue.errors import ConfigError


class FQLError(ConfigError):
    """An FQL condition that cannot be parsed; the message names the position (from 1)."""

    code = "invalid_fql"


class MappingError(ConfigError):
    """A mapping-kit mapping that breaks a rule; the message names the JSON path."""

    code = "invalid_mapping"

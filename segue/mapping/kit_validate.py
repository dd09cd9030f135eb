"""Validation of mapping-kit mappings: MappingError naming the JSON path of the first problem.

Rules: an object with an `@` key is a directive and holds exactly one `@` key (plus, at most,
`_metadata`); the directive must be known and its argument must have the documented shape.
Raw objects and lists are checked all the way down (at most 64 levels).
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Mapping

from segue.mapping.errors import MappingError
from segue.mapping.values import kind

META_KEY = "_metadata"
MAX_DEPTH = 64
MAX_PATTERN = MAX_REPLACEMENT = 10
PLAIN_KEY = re.compile(r"[A-Za-z_@$][\w@$-]*")
Checker = Callable[[Any, str, int], None]


def validate_mapping(mapping: Any) -> None:
    """Raise MappingError (code `invalid_mapping`) unless `mapping` is a valid mapping."""
    _value(mapping, "$", 0)


def directive_name(node: Mapping) -> str | None:
    """The `@` key of a directive object, or None for a raw object."""
    return next((key for key in node if isinstance(key, str) and key.startswith("@")), None)


def _error(path: str, message: str) -> MappingError:
    return MappingError(f"invalid mapping at {path}: {message}", details={"path": path})


def _child(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if PLAIN_KEY.fullmatch(key) else f"{path}[{json.dumps(key)}]"


def _value(node: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _error(path, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, Mapping):
        _object(node, path, depth)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _value(item, _child(path, index), depth + 1)
    elif not (node is None or isinstance(node, (str, int, float))):
        raise _error(path, f"should be a JSON value, not a {type(node).__name__}")


def _object(node: Mapping, path: str, depth: int) -> None:
    if any(not isinstance(key, str) for key in node):
        raise _error(path, "object keys must be strings")
    if directive_name(node) is not None:
        _directive(node, path, depth)
        return
    for key, item in node.items():
        _value(item, _child(path, key), depth + 1)


def _directive(node: Mapping, path: str, depth: int) -> None:
    names = [key for key in node if key.startswith("@")]
    if len(names) > 1:
        raise _error(path, f"an object can hold only one @ directive, found {', '.join(names)}")
    others = [key for key in node if not key.startswith("@") and key != META_KEY]
    if others:
        raise _error(path, f"a directive cannot sit beside other keys, found {others[0]!r}")
    name = names[0]
    check = CHECKS.get(name)
    if check is None:
        hint = " (Liquid templates are not supported)" if name == "@liquid" else ""
        raise _error(path, f"unknown directive {name}{hint}; expected one of {', '.join(CHECKS)}")
    check(node[name], _child(path, name), depth + 1)


def _string_or_directive(value: Any, path: str, depth: int) -> None:
    if isinstance(value, Mapping) and directive_name(value) is not None:
        _value(value, path, depth)
    elif not isinstance(value, str):
        raise _error(path, f"should be a string or a directive, not {_article(value)}")


def _object_or_directive(value: Any, path: str, depth: int) -> None:
    if not isinstance(value, Mapping):
        raise _error(path, f"should be an object or a directive, not {_article(value)}")
    _value(value, path, depth)


def _choice(*allowed: str) -> Checker:
    def check(value: Any, path: str, depth: int) -> None:
        if value not in allowed:
            raise _error(path, f"should be one of {', '.join(map(repr, allowed))}, not {value!r}")
    return check


def _text(shortest: int, longest: int) -> Checker:
    def check(value: Any, path: str, depth: int) -> None:
        if not isinstance(value, str) or not shortest <= len(value) <= longest:
            raise _error(path, f"should be a string of {shortest} to {longest} characters, not {value!r}")
    return check


def _nullable(checker: Checker) -> Checker:
    return lambda value, path, depth: None if value is None else checker(value, path, depth)


def _boolean(value: Any, path: str, depth: int) -> None:
    if not isinstance(value, bool):
        raise _error(path, f"should be true or false, not {_article(value)}")


def _article(value: Any) -> str:
    name = "boolean" if isinstance(value, bool) else kind(value).replace("list", "array")
    return ("an " if name[0] in "aeiou" else "a ") + name


def _options(required: dict[str, Checker], optional: dict[str, Checker] | None = None) -> Checker:
    """A checker for an options object with these required and optional keys (and no others)."""
    optional = optional or {}

    def check(value: Any, path: str, depth: int) -> None:
        if not isinstance(value, Mapping) or directive_name(value) is not None:
            raise _error(path, f"should be an object of options, not {_article(value)}")
        for key in value:
            if key not in required and key not in optional:
                raise _error(_child(path, key), f"unknown option; expected {', '.join({**required, **optional})}")
        for key, checker in required.items():
            if key not in value:
                raise _error(path, f"needs {key!r}")
            checker(value[key], _child(path, key), depth + 1)
        for key, checker in optional.items():
            if key in value:
                checker(value[key], _child(path, key), depth + 1)
    return check


_if_options = _options({}, {"exists": _value, "blank": _value, "then": _value, "else": _value})


def _if(value: Any, path: str, depth: int) -> None:
    _if_options(value, path, depth)
    if ("exists" in value) == ("blank" in value):
        raise _error(path, "needs exactly one of 'exists' or 'blank'")


def _array_path(value: Any, path: str, depth: int) -> None:
    if not isinstance(value, list) or not 1 <= len(value) <= 2:
        raise _error(path, "should be [path] or [path, item shape]")
    _string_or_directive(value[0], _child(path, 0), depth + 1)
    if len(value) == 2:
        _object_or_directive(value[1], _child(path, 1), depth + 1)


def _objects(value: Any, path: str, depth: int) -> None:
    if not isinstance(value, list):
        raise _error(path, f"should be an array, not {_article(value)}")
    for index, item in enumerate(value):
        _object_or_directive(item, _child(path, index), depth + 1)


CHECKS: dict[str, Checker] = {
    "@path": _string_or_directive,
    "@template": _string_or_directive,
    "@literal": _value,
    "@if": _if,
    "@arrayPath": _array_path,
    "@case": _options({"operator": _choice("lower", "upper"), "value": _value}),
    "@replace": _options(
        {"pattern": _text(1, MAX_PATTERN), "value": _value},
        {"replacement": _nullable(_text(0, MAX_REPLACEMENT)), "pattern2": _text(1, MAX_PATTERN),
         "replacement2": _nullable(_text(0, MAX_REPLACEMENT)), "ignorecase": _boolean, "global": _boolean},
    ),
    "@json": _options({"mode": _choice("encode", "decode"), "value": _value}),
    "@flatten": _options({"value": _value}, {"separator": _text(1, 100), "omitArrays": _boolean}),
    "@merge": _options({"direction": _choice("left", "right"), "objects": _objects}),
    "@transform": _options({"apply": _object_or_directive, "mapping": _object_or_directive}),
    "@excludeWhenNull": _value,
}

"""Dataclass values as JSON and back, for answers that cross from a model worker.

A model worker runs code written by whoever deployed the model; its answers are read as
JSON into an explicit list of classes, never unpickled (see engine/core/worker_pool.py). A
dataclass is written with its class name and fields, tuples and datetimes are tagged, and
reading builds only the classes the caller names, checking each field's name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

_CLASS, _FIELDS, _TUPLE, _DATETIME = "~class", "~fields", "~tuple", "~datetime"
_AS_TEXT = (date, time, timedelta, Decimal, UUID)


class WireError(ValueError):
    """The data is not an encoding of the classes allowed here."""


def encode(value: Any) -> Any:
    """`value` as JSON-compatible data (dicts with text keys, lists, text, numbers, None)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {_CLASS: type(value).__name__, _FIELDS: fields}
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, _AS_TEXT):
        # As the database stores them (json.dumps with default=str).
        return str(value)
    if isinstance(value, tuple):
        return {_TUPLE: [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise WireError("only text keys can be written")
        if any(key.startswith("~") for key in value):
            # Keep data that looks like a tag apart from a tag.
            return {"~dict": {key: encode(item) for key, item in value.items()}}
        return {key: encode(item) for key, item in value.items()}
    raise WireError(f"a {type(value).__name__} cannot be written")


def decode(data: Any, classes: Iterable[type]) -> Any:
    """The value `encode` wrote, building only dataclasses among `classes`."""
    return _Reader({cls.__name__: cls for cls in classes}).read(data)


class _Reader:
    def __init__(self, classes: Mapping[str, type]) -> None:
        self.classes = classes

    def read(self, data: Any) -> Any:
        if data is None or isinstance(data, (bool, int, float, str)):
            return data
        if isinstance(data, list):
            return [self.read(item) for item in data]
        if not isinstance(data, dict):
            raise WireError(f"unexpected {type(data).__name__}")
        if _CLASS in data:
            return self._instance(data)
        if _TUPLE in data:
            items = data[_TUPLE]
            if not isinstance(items, list):
                raise WireError("a tuple must hold a list")
            return tuple(self.read(item) for item in items)
        if _DATETIME in data:
            try:
                return datetime.fromisoformat(str(data[_DATETIME]))
            except ValueError as err:
                raise WireError(str(err)) from None
        if "~dict" in data:
            data = data["~dict"]
            if not isinstance(data, dict):
                raise WireError("a tagged dict must hold a dict")
        return {str(key): self.read(item) for key, item in data.items()}

    def _instance(self, data: dict[str, Any]) -> Any:
        cls = self.classes.get(str(data.get(_CLASS)))
        fields = data.get(_FIELDS)
        if cls is None or not isinstance(fields, dict):
            raise WireError(f"class {str(data.get(_CLASS))[:80]!r} is not one read here")
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        if set(fields) != names:
            raise WireError(f"{cls.__name__} takes the fields {sorted(names)}, not {sorted(fields)[:20]}")
        return cls(**{name: self.read(value) for name, value in fields.items()})

"""The JSON a model worker answers is read into the named classes only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from engine.core.wire import WireError, decode, encode


@dataclass(frozen=True)
class Inner:
    when: datetime
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner
    data: dict[str, object]


@dataclass(frozen=True)
class Other:
    name: str


def test_a_value_reads_back_as_it_was_written() -> None:
    value = Outer("a", Inner(datetime(2026, 12, 7, 9, 30, tzinfo=UTC), ("x", "y")),
                  {"list": [1, 2.5, None, True], "~class": "not a tag", "nested": {"k": "v"}})
    assert decode(encode(value), [Outer, Inner]) == value


def test_values_the_database_keeps_as_text_are_written_as_text() -> None:
    assert encode({"d": date(2026, 1, 2), "m": Decimal("1.50")}) == {"d": "2026-01-02", "m": "1.50"}


def test_only_the_named_classes_are_built() -> None:
    written = encode(Other("x"))
    with pytest.raises(WireError, match="'Other' is not one read here"):
        decode(written, [Outer, Inner])
    forged = {"~class": "Inner", "~fields": {"when": {"~datetime": "2026-01-01"}, "tags": [], "extra": 1}}
    with pytest.raises(WireError, match="Inner takes the fields"):
        decode(forged, [Inner])
    with pytest.raises(WireError, match="cannot be written"):
        encode({"s": {1, 2}})

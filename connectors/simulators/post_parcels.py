"""The post's parcel book: delivery orders keyed by the sender, tracked by a 24-digit number.

An order is booked once per sender key, so a sender that retries (its answer lost) gets the same
parcel, never a second one. Status follows the sandbox's clock: accepted, in transit from an hour
later, delivered from a day later, as a parcel across one city roughly goes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from connectors.simulators.behaviour import ServiceState
from connectors.simulators.data import Draw

IN_TRANSIT_AFTER_S = 3600.0
DELIVERED_AFTER_S = 86_400.0
MAX_CONTENTS = 200
MAX_NAME = 200
MAX_PARCELS = 10_000
_ORDER_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_TRACKING = re.compile(r"[0-9]{24}")


class ParcelError(Exception):
    """An order or a question the post refuses; `code` is the fault's ErrorCode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Parcel:
    tracking_number: str
    order_key: str
    postal_code: str
    recipient_name: str
    contents: str
    accepted_clock: float
    accepted_at: str
    status: str = "accepted"

    def fields(self) -> list[tuple[str, str]]:
        return [("TrackingNumber", self.tracking_number), ("OrderKey", self.order_key),
                ("PostalCode", self.postal_code), ("Status", self.status), ("AcceptedAt", self.accepted_at)]


class ParcelBook:
    """Every parcel ordered from this sandbox, in memory."""

    def __init__(self, state: ServiceState, clock: Callable[[], float]) -> None:
        self._state = state
        self._clock = clock
        self._by_key: dict[str, Parcel] = {}
        self._by_number: dict[str, Parcel] = {}

    def order(self, order_key: str, recipient_name: str, postal_code: str, contents: str) -> Parcel:
        """The parcel of `order_key`, booked now unless it was before. The postal code is checked by the caller."""
        if not _ORDER_KEY.fullmatch(order_key):
            raise ParcelError("invalid-order", "OrderKey must be 1 to 64 of A-Z, a-z, 0-9, _ . : -")
        if not 0 < len(recipient_name) <= MAX_NAME or not 0 < len(contents) <= MAX_CONTENTS:
            raise ParcelError("invalid-order", f"RecipientName (up to {MAX_NAME}) and Contents (up to "
                                               f"{MAX_CONTENTS} characters) are needed")
        known = self._by_key.get(order_key)
        if known is not None:
            return self._current(known)
        if len(self._by_key) >= MAX_PARCELS:
            raise ParcelError("invalid-order", "the sandbox's parcel book is full")
        number = f"{Draw('post-parcel', order_key).below(10**24):024d}"
        parcel = Parcel(number, order_key, postal_code, recipient_name, contents, self._clock(),
                        datetime.now(UTC).isoformat(timespec="seconds"))
        self._by_key[order_key] = self._by_number[number] = parcel
        self._state.side_effects += 1
        return parcel

    def find(self, tracking_number: str) -> Parcel:
        if not _TRACKING.fullmatch(tracking_number):
            raise ParcelError("unknown-parcel", "a tracking number is 24 digits")
        found = self._by_number.get(tracking_number)
        if found is None:
            raise ParcelError("unknown-parcel", "no parcel with this tracking number")
        return self._current(found)

    def _current(self, parcel: Parcel) -> Parcel:
        age = self._clock() - parcel.accepted_clock
        parcel.status = "delivered" if age >= DELIVERED_AFTER_S else "in_transit" if age >= IN_TRANSIT_AFTER_S \
            else "accepted"
        return parcel

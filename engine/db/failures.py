"""What a database error means for the caller: a lost race, a busy database, or none of these.

Drivers report the same situations in their own words: SQLite by message, PostgreSQL by
SQLSTATE. This module is the one place that reads them, so every adapter answers a lost
race or a refused constraint with 409 and a busy or unreachable database with 503, and only
a real bug stays a 500.
"""

from __future__ import annotations

import sqlite3
from enum import Enum

from sqlalchemy import exc
from sqlalchemy.orm.exc import StaleDataError


class Failure(Enum):
    """How a failed database call should be reported."""

    RACE = "race"
    """Another writer changed the same rows at the same moment: the same change may succeed again."""
    CONFLICT = "conflict"
    """The change contradicts what is stored (a constraint): retrying the same change will not help."""
    BUSY = "busy"
    """Locks, the pool or the server's capacity ran out: the same request may succeed shortly."""
    UNREACHABLE = "unreachable"
    """The database cannot be reached or refused the connection: retry later."""


# SQLite names the situation only in the message; these are its fixed texts.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_SQLITE_UNREACHABLE = ("unable to open database file", "disk i/o error", "database or disk is full",
                       "database disk image is malformed", "file is not a database")
# SQLSTATE classes and codes (PostgreSQL appendix A).
_PG_RACE = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_PG_BUSY = {"55P03", "57014", "53000", "53100", "53200", "53300", "53400"}  # lock wait, statement timeout, resources
_PG_UNREACHABLE = {"57P01", "57P02", "57P03", "3D000"}  # shutdown, starting up, database gone


def classify(error: BaseException) -> Failure | None:
    """The kind of `error` if it is a database failure the caller can act on, else None.

    A write inside a read-only transaction is deliberately not classified: that is a bug in
    the route, and it should fail loudly.
    """
    if isinstance(error, exc.TimeoutError):
        return Failure.BUSY
    if isinstance(error, StaleDataError):
        return Failure.RACE
    if not isinstance(error, exc.DBAPIError):
        return None
    original = error.orig
    if isinstance(original, sqlite3.Error):
        return _sqlite(original)
    state = getattr(original, "sqlstate", None)
    known = _postgresql(state) if isinstance(state, str) else None
    if known is not None:
        return known
    if error.connection_invalidated or isinstance(error, exc.OperationalError):
        # The driver's "operational" class: refused or dropped connections (often before the
        # server said anything), a database that does not allow connections, I/O failures.
        return Failure.UNREACHABLE
    return Failure.CONFLICT if isinstance(error, exc.IntegrityError) else None


def _sqlite(error: sqlite3.Error) -> Failure | None:
    message = str(error).lower()
    if isinstance(error, sqlite3.IntegrityError):
        return Failure.CONFLICT
    if any(text in message for text in _SQLITE_BUSY):
        return Failure.BUSY
    if any(text in message for text in _SQLITE_UNREACHABLE):
        return Failure.UNREACHABLE
    return None


def _postgresql(state: str) -> Failure | None:
    if state in _PG_RACE:
        return Failure.RACE
    if state.startswith("23"):  # class 23: integrity constraint violation
        return Failure.CONFLICT
    if state in _PG_BUSY:
        return Failure.BUSY
    if state in _PG_UNREACHABLE or state.startswith("08"):  # class 08: connection exception
        return Failure.UNREACHABLE
    return None

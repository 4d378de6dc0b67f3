"""What a database error means for the caller: a lost race, a busy database, a value that
does not fit, or none of these.

Drivers report the same situations in their own words: SQLite by message, PostgreSQL by
SQLSTATE, and both drivers refuse some values themselves before the database sees them
(SQLite integers past 64 bits, text that is not valid Unicode, NUL in PostgreSQL text).
This module is the one place that reads them, so every adapter answers a lost race or a
refused constraint with 409, a busy or unreachable database with 503 and a value the
database cannot keep with 422, and only a real bug stays a 500.
"""

from __future__ import annotations

import re
import sqlite3
from enum import Enum
from typing import Any

from sqlalchemy import Engine, event, exc
from sqlalchemy.engine import ExceptionContext
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
    DATA = "data"
    """A value does not fit what the database keeps (too long, out of range, a character it
    refuses, past a size limit): the same request fails again. It also means a bound is
    missing upstream, where the value came in."""


class ValueRefused(Exception):
    """The driver refused a value before the database saw it; `__cause__` is the driver's error."""


# SQLite names the situation only in the message; these are its fixed texts.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_SQLITE_UNREACHABLE = ("unable to open database file", "disk i/o error", "database or disk is full",
                       "database disk image is malformed", "file is not a database")
# SQLSTATE classes and codes (PostgreSQL appendix A).
_PG_RACE = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_PG_BUSY = {"55P03", "57014", "53000", "53100", "53200", "53300", "53400"}  # lock wait, statement timeout, resources
_PG_UNREACHABLE = {"57P01", "57P02", "57P03", "3D000"}  # shutdown, starting up, database gone
_PG_TOO_LONG = "22001"  # string_data_right_truncation
_PG_OUT_OF_RANGE = {"22003", "22008"}  # numeric_value_out_of_range, datetime_field_overflow
_PG_CHARACTERS = {"22021", "22P05"}  # character_not_in_repertoire, untranslatable_character
# Python errors the drivers raise while binding a parameter, unwrapped: SQLite's "int too large
# to convert", and text with a lone surrogate, which no driver can encode as UTF-8.
_BINDING_ERRORS = (OverflowError, UnicodeEncodeError)
_VARCHAR = re.compile(r"character varying\((\d+)\)")


def classify(error: BaseException) -> Failure | None:
    """The kind of `error` if it is a database failure the caller can act on, else None.

    A write inside a read-only transaction is deliberately not classified: that is a bug in
    the route, and it should fail loudly.
    """
    if isinstance(error, exc.TimeoutError):
        return Failure.BUSY
    if isinstance(error, StaleDataError):
        return Failure.RACE
    if isinstance(error, ValueRefused):
        return Failure.DATA
    if not isinstance(error, exc.DBAPIError):
        return None
    original = error.orig
    if isinstance(original, sqlite3.Error):
        return _sqlite(original)
    state = getattr(original, "sqlstate", None)
    known = _postgresql(state) if isinstance(state, str) else None
    if known is not None:
        return known
    if isinstance(error, exc.DataError):
        # psycopg refuses NUL in text itself, with no SQLSTATE.
        return Failure.DATA
    if error.connection_invalidated or isinstance(error, exc.OperationalError):
        # The driver's "operational" class: refused or dropped connections (often before the
        # server said anything), a database that does not allow connections, I/O failures.
        return Failure.UNREACHABLE
    return Failure.CONFLICT if isinstance(error, exc.IntegrityError) else None


def _sqlite(error: sqlite3.Error) -> Failure | None:
    message = str(error).lower()
    if isinstance(error, sqlite3.IntegrityError):
        return Failure.CONFLICT
    if isinstance(error, sqlite3.DataError):  # "string or blob too big"
        return Failure.DATA
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
    if state.startswith(("22", "54")):  # class 22: data exception; class 54: program limit exceeded
        return Failure.DATA
    return None


def refusal(error: BaseException) -> str:
    """What to tell the caller about a `Failure.DATA` error.

    The driver's own words go to the log only: they name tables and may echo the value.
    """
    original = error.__cause__ if isinstance(error, ValueRefused) else getattr(error, "orig", error)
    state = getattr(original, "sqlstate", None)
    message = str(original)
    if state == _PG_TOO_LONG or isinstance(original, sqlite3.DataError):
        length = _VARCHAR.search(message)
        limit = f" (at most {int(length.group(1)):,} characters)" if length else ""
        return f"a text is longer than the database keeps here{limit}; nothing was saved"
    if state in _PG_OUT_OF_RANGE or isinstance(original, OverflowError):
        return "a number is outside the range the database keeps; nothing was saved"
    if state in _PG_CHARACTERS or isinstance(original, UnicodeEncodeError) or "NUL" in message:
        return ("a text contains a character the database cannot keep (the NUL character or a lone "
                "surrogate); nothing was saved")
    if isinstance(state, str) and state.startswith("54"):
        return "a value is too large for the database to keep or index; nothing was saved"
    return "a value does not fit what the database keeps; nothing was saved"


def driver_message(error: BaseException, limit: int = 500) -> str:
    """The driver's own message for `error`, first line only and shortened: for the log."""
    original = error.__cause__ if isinstance(error, ValueRefused) else getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    line = text[0] if text else type(original).__name__
    return f"{type(original).__name__}: {line[:limit]}"


def watch(engine: Engine) -> None:
    """Make `engine` raise `ValueRefused` for a value its driver refuses while binding.

    Those are plain Python errors (`OverflowError`, `UnicodeEncodeError`) that SQLAlchemy
    passes on unwrapped; told apart here, where they are known to come from a statement,
    they need not be guessed at from anywhere else an OverflowError may be raised.
    """
    event.listen(engine, "handle_error", _refused_binding)


def _refused_binding(context: ExceptionContext) -> Any:
    original = context.original_exception
    if context.sqlalchemy_exception is None and isinstance(original, _BINDING_ERRORS):
        raise ValueRefused(str(original)) from original
    return None

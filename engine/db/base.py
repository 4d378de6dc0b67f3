"""Declarative base, one JSON type for both databases, and engine construction."""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Engine, Enum, MetaData, create_engine, event, make_url
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.sql import FromClause, literal, select, true
from sqlalchemy.types import TypeDecorator

from engine.db.failures import watch

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


def status_type(statuses: type[StrEnum]) -> Enum:
    """A status column: its enum's values in a VARCHAR(16), read back as members.

    The CHECK that keeps other values out is migration 0010's (the migrations, not these
    models, build the schema). A plain string that is no status (a list filter from a query
    string) is still sent as it is, so it matches no row rather than raising.
    """
    return Enum(statuses, native_enum=False, create_constraint=False, length=16, validate_strings=False,
                values_callable=lambda members: [member.value for member in members])


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored and returned in UTC, even on SQLite, which keeps no time zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Connections a process holds besides its request threads: the background tick and the
# connector jobs it runs, each one transaction at a time.
RESERVED_CONNECTIONS = 4


def _sqlite_pragmas(timeout_ms: int) -> Any:
    def configure(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers run while one writer commits; synchronous=NORMAL is durable in WAL
        # mode except across an OS crash; foreign keys are off by default in SQLite; the busy
        # timeout turns "database is locked" under a burst into a short wait, after which the
        # request is answered 503 (see engine/db/failures.py).
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={timeout_ms:d}")
        cursor.close()

    return configure


def _sqlite_begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA query_only=1")


def _sqlite_begin(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front. A deferred transaction that reads and
    # then writes can fail at once with SQLITE_BUSY when another writer got in between,
    # which busy_timeout does not cover.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _postgresql_waits(url: str, timeout_ms: int) -> str:
    # lock_timeout bounds every wait for a lock: a row another transaction holds, or a table
    # that LOCK TABLE or a migration's ALTER holds, which would otherwise keep a request (and
    # its thread and connection) waiting for as long as the holder likes. Given as a startup
    # option, so it holds from the first statement at no extra cost; after the options the URL
    # (or else PGOPTIONS, which an `options` parameter would replace) already brings.
    given = make_url(url).query.get("options") or os.environ.get("PGOPTIONS", "")
    earlier = given if isinstance(given, str) else " ".join(given)
    return f"{earlier} -c lock_timeout={timeout_ms:d}".strip()


def _postgresql_bounded_reads(timeout_ms: int) -> Any:
    def begin(conn: Connection) -> None:
        # A read changes nothing, so cutting it short loses nothing: one that runs longer than
        # the timeout (a slow plan, an overloaded server) ends with 503 instead of holding a
        # request thread. Writes are not cut: their waits are for locks, bounded above.
        if conn.get_execution_options().get("postgresql_readonly"):
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms:d}")

    return begin


def make_engine(url: str, *, read_only: bool = False, threads: int = 6, timeout: float = 10.0) -> Engine:
    """An engine for `url` whose pool serves `threads` request threads, waiting at most `timeout` seconds.

    Every request thread holds at most one connection at a time, so the pool keeps one per
    thread plus the reserve; the overflow is headroom for a thread that nests a second
    session. A checkout that still has to wait `timeout` seconds fails, and so does a lock
    (SQLite's busy timeout, PostgreSQL's lock_timeout), a read-only statement on PostgreSQL
    (statement_timeout) or a new connection (PostgreSQL's connect timeout): the API answers
    503 with Retry-After instead of letting requests pile up.

    On SQLite a separate read-only engine serves reads: its transactions begin deferred, so
    readers never queue behind the write lock that every writing transaction takes. On
    PostgreSQL, reads use this engine with `postgresql_readonly` (see `Runtime.reading`).
    """
    pool = {"pool_size": threads + RESERVED_CONNECTIONS, "max_overflow": threads, "pool_timeout": timeout}
    timeout_ms = max(1, round(timeout * 1000))
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": timeout}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas(timeout_ms))
        if read_only:
            event.listen(engine, "connect", _sqlite_query_only)
        event.listen(engine, "begin", _sqlite_begin_deferred if read_only else _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True, **pool, connect_args={
            "connect_timeout": max(1, math.ceil(timeout)), "options": _postgresql_waits(url, timeout_ms)})
        event.listen(engine, "begin", _postgresql_bounded_reads(timeout_ms))
    watch(engine)
    return engine


def touch_every_table(connection: Connection) -> None:
    """Read nothing from every table: it answers only if no lock keeps readers out of any of them.

    Each table's read lock is taken while the statement is planned; no row is read.
    """
    first, *others = Base.metadata.sorted_tables
    joined: FromClause = first
    for table in others:
        joined = joined.join(table, true())
    connection.execute(select(literal(1)).select_from(joined).limit(0))


def make_session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(bind=engine, expire_on_commit=False)

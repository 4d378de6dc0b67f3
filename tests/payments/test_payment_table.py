"""Migration 0011: the payment table keeps one row per gateway token, numbers a case's tokens once,
and refuses a status `PaymentStatus` does not know, on SQLite and PostgreSQL alike; and the
moves between payment statuses are the ones the return from the gateway needs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from engine.core.statuses import IllegalTransition, PaymentStatus, moved
from tests.migration_db import empty_database, migrate

SCHEMA = "payment_table"
NOW = datetime(2026, 12, 10, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with empty_database(request.param, tmp_path / "payments.db", SCHEMA) as engine:
        yield engine


def _payment(n: int, token: str, attempt: int, status: str = "pending") -> dict[str, Any]:
    return {"id": n, "instance_id": "i1", "attempt": attempt, "token": token, "order_id": f"o{n}",
            "amount_rial": 4_500_000_000, "description": "fee", "payment_url": f"http://gateway.test/pay/{token}",
            "status": status, "created_at": NOW, "updated_at": NOW}


def _seed(engine: Engine) -> MetaData:
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as db:
        db.execute(insert(tables.tables["deployment"]), [{"id": 1, "content_hash": "h", "name": "d",
                                                          "deployed_by": "t", "deployed_at": NOW, "report": {}}])
        db.execute(insert(tables.tables["process_definition"]),
                   [{"id": 1, "deployment_id": 1, "key": "p", "name": "p", "version": 1}])
        db.execute(insert(tables.tables["instance"]), [{
            "id": "i1", "definition_id": 1, "deployment_id": 1, "process_key": "p", "version": 1,
            "status": "waiting", "tracking_code": "000000000001", "owner": "0013542419", "data": {}, "state": "",
            "serializer_version": "", "library_version": "", "lock_version": 1, "created_at": NOW,
            "updated_at": NOW}])
    return tables


def test_tokens_are_unique_attempts_numbered_once_and_statuses_checked(database: Engine) -> None:
    migrate(database, "0010")
    assert "payment" not in inspect(database).get_table_names()
    migrate(database, "0011")
    tables = _seed(database)
    payment = tables.tables["payment"]
    with database.begin() as db:
        db.execute(insert(payment), [_payment(1, "t1", 1, "cancelled"), _payment(2, "t2", 2)])
    # SQLite names the columns of a unique constraint it refuses, PostgreSQL the constraint.
    for row, refused in ((_payment(3, "t1", 3), "uq_payment_token|payment.token"),
                         (_payment(3, "t3", 2), "uq_payment_instance_id|payment.instance_id, payment.attempt"),
                         (_payment(3, "t3", 3, "paid"), "ck_payment_status")):
        with pytest.raises(IntegrityError, match=refused), database.begin() as db:
            db.execute(insert(payment), [row])
    with pytest.raises(IntegrityError, match="ck_payment_status"), database.begin() as db:
        db.execute(update(payment).where(payment.c.id == 2).values(status="Verified"))
    for status in PaymentStatus:
        with database.begin() as db:
            db.execute(update(payment).where(payment.c.id == 2).values(status=status.value))
    with database.connect() as db:
        assert db.execute(select(payment.c.amount_rial).where(payment.c.id == 1)).scalar_one() == 4_500_000_000


@pytest.mark.parametrize("before, after", [
    (PaymentStatus.PENDING, PaymentStatus.VERIFYING), (PaymentStatus.PENDING, PaymentStatus.FAILED),
    (PaymentStatus.VERIFYING, PaymentStatus.PENDING), (PaymentStatus.VERIFYING, PaymentStatus.VERIFIED),
    (PaymentStatus.VERIFYING, PaymentStatus.CANCELLED), (PaymentStatus.VERIFIED, PaymentStatus.REFUNDED),
])
def test_the_moves_a_payment_makes(before: PaymentStatus, after: PaymentStatus) -> None:
    assert moved(before, after) is after


@pytest.mark.parametrize("before, after", [
    (PaymentStatus.PENDING, PaymentStatus.VERIFIED),  # never without asking the gateway
    (PaymentStatus.CANCELLED, PaymentStatus.VERIFYING), (PaymentStatus.FAILED, PaymentStatus.VERIFIED),
    (PaymentStatus.REFUNDED, PaymentStatus.VERIFIED), (PaymentStatus.VERIFIED, PaymentStatus.PENDING),
    (None, PaymentStatus.VERIFIED),
])
def test_no_other_move(before: PaymentStatus | None, after: PaymentStatus) -> None:
    with pytest.raises(IllegalTransition):
        moved(before, after, "payment")

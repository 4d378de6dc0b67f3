"""A citizen who paid and never came back: the upkeep sweep verifies the payment with the bank,
once, and the case moves on; what is unpaid stays payable, and the sweep keeps to its minute."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from engine.core.statuses import PaymentStatus
from engine.db.base import utcnow
from engine.db.models import AuditEvent, Notification
from engine.services import notifications
from engine.services.payment_returns import RECONCILE_AFTER, reconcile
from engine.services.upkeep import Upkeep
from tests.payments.gateway import at_gateway, pending_payment
from tests.payments.server import Portal
from tests.payments.test_payment_flow import _applied, _payments, _tasks

LATER = RECONCILE_AFTER + timedelta(seconds=1)


def _verified_events(portal: Portal, case: str) -> int:
    with portal.runtime.reading() as session:
        return len(session.execute(select(AuditEvent.id).where(
            AuditEvent.instance_id == case, AuditEvent.action == "payment.verified")).all())


def test_a_payment_whose_citizen_never_came_back_is_verified_once_and_the_case_moves_on(portal: Portal) -> None:
    case = _applied(portal)
    payment = pending_payment(portal.api(), {}, case)
    paid = at_gateway(payment["payment_url"])
    assert paid.status_code == 303  # the bank took the money; the browser is closed here
    assert reconcile(portal.runtime) == [], "a payment younger than a minute is the citizen's to return with"
    assert _payments(portal, case)["payments"][-1]["status"] == "pending"
    [settled] = reconcile(portal.runtime, now=utcnow() + LATER)
    assert settled.payment.status is PaymentStatus.VERIFIED and settled.instance_id == case
    assert _tasks(portal, case) == ["inspect"]
    assert reconcile(portal.runtime, now=utcnow() + LATER) == [], "nothing pending is left to ask about"
    assert _verified_events(portal, case) == 1
    # The citizen's late return finds it paid and moves nothing again.
    back = portal.browser().get(f"/payments/callback?token={payment['token']}")
    assert back.status_code == 200
    assert _tasks(portal, case) == ["inspect"] and _verified_events(portal, case) == 1


def test_an_unpaid_payment_stays_payable_and_the_case_waits(portal: Portal) -> None:
    case = _applied(portal)
    pending_payment(portal.api(), {}, case)
    [asked] = reconcile(portal.runtime, now=utcnow() + LATER)
    assert asked.payment.status is PaymentStatus.PENDING
    assert [p["status"] for p in _payments(portal, case)["payments"]] == ["pending"]
    assert _tasks(portal, case) == [] and _verified_events(portal, case) == 0


def test_the_sweep_runs_once_a_minute_and_resends_what_the_gateway_refused(portal: Portal) -> None:
    portal.browser()  # signed in on the portal once, so the case has a mobile to text
    case = _applied(portal)
    with portal.runtime.unit_of_work() as session:
        ids = list(session.execute(select(Notification.id).where(Notification.instance_id == case)).scalars())
        assert ids, "sending the application texted the citizen"
        session.execute(update(Notification).where(Notification.id.in_(ids)).values(sent_at=None, claimed_at=None))
    now = [0.0]
    upkeep = Upkeep(every=60, clock=lambda: now[0])

    def pending() -> int:
        with portal.runtime.reading() as session:
            return len(session.execute(select(Notification.id).where(
                Notification.instance_id == case, Notification.sent_at.is_(None))).all())

    with portal.runtime.unit_of_work() as session:  # one message the gateway has refused for an hour
        session.execute(update(Notification).where(Notification.id == ids[0])
                        .values(attempts=notifications.MAX_SEND_ATTEMPTS))
    upkeep(portal.runtime)
    assert pending() == 1, "the sweep sent all but the message it has given up on"
    with portal.runtime.unit_of_work() as session:
        session.execute(update(Notification).where(Notification.id == ids[0]).values(attempts=0))
    now[0] = 59.0
    upkeep(portal.runtime)
    assert pending() == 1, "no second sweep within the minute"
    now[0] = 60.0
    upkeep(portal.runtime)
    assert pending() == 0

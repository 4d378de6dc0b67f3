"""Paying a case's fee the way a citizen's browser does: the gateway's page over real HTTP, then
back to the portal with whatever the gateway put in the address."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import httpx

PAYS, DECLINED = "6037991234567893", "6104337812345674"
GATEWAY_KEY = {"Authorization": "Bearer sandbox-payment-key"}


def pending_payment(portal: Any, headers: dict[str, str], instance_id: str, timeout: float = 30) -> dict[str, Any]:
    """The case's newest payment once it is payable (the request call may still be running)."""
    deadline = time.monotonic() + timeout
    while True:
        found = portal.get(f"/api/v1/instances/{instance_id}/payments", headers=headers)
        assert found.status_code == 200, found.text
        newest = (found.json()["payments"] or [None])[-1]
        if newest is not None and newest["status"] == "pending":
            return dict(newest)
        assert time.monotonic() < deadline, f"no payable payment: {found.json()}"
        time.sleep(0.05)


def at_gateway(payment_url: str, action: str = "pay", card: str = PAYS) -> httpx.Response:
    """Open the gateway's page and press a button, as the citizen does; the gateway's answer."""
    with httpx.Client(timeout=30) as browser:
        page = browser.get(payment_url)
        assert page.status_code == 200, page.text
        return browser.post(payment_url, data={"action": action, "card_number": card})


def back_path(gateway_answer: httpx.Response) -> str:
    """Where the gateway sends the browser back, as a path on the portal."""
    assert gateway_answer.status_code == 303, gateway_answer.text
    location = urlsplit(gateway_answer.headers["location"])
    return f"{location.path}?{location.query}"


def pay(portal: Any, headers: dict[str, str], instance_id: str, action: str = "pay", card: str = PAYS) -> Any:
    """Pay (or cancel) the case's pending payment and come back to the portal; the portal's answer."""
    payment = pending_payment(portal, headers, instance_id)
    return portal.get(back_path(at_gateway(payment["payment_url"], action, card)))


def mobile_of(national_code: str) -> str:
    """A mobile the simulated registry has in `national_code`'s name, to sign in to the portal with."""
    from connectors.simulators.mobile_registry import owns

    for number in range(100):
        mobile = f"09120000{number:03d}"
        if owns(national_code, mobile):
            return mobile
    raise AssertionError(f"no mobile for {national_code}")


def pay_in_portal(browser: Any, case_path: str, action: str = "pay", card: str = PAYS) -> Any:
    """From the case page: press pay, pay (or cancel) on the gateway's page, come back; the portal's answer."""
    from tests.web.journey import csrf

    page = browser.get(case_path)
    asked = browser.post(f"{case_path}/pay", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    assert asked.status_code == 303, asked.text
    return browser.get(back_path(at_gateway(asked.headers["location"], action, card)))

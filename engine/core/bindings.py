"""How a service task says it is retried, in each modeler's words, read into one policy.

The task's operation and parameters reach the engine in one form,
`spiffworkflow:serviceTaskOperator`: the importer (`engine.bpmn.service_tasks`) writes it
for Camunda 7 and 8 models, with their FEEL and JUEL mappings translated. How often and how
far apart a failing call is tried again is read here, from whichever the model has:

- SpiffArena: ``<spiffworkflow:retry retries="2" backoff_base="3"/>`` in the operator:
  2 retries after the first attempt, exponential backoff with base 3 s;
- Camunda 8: ``zeebe:taskDefinition retries="3"``: 3 attempts in all (Zeebe's count);
- Camunda 7: ``camunda:failedJobRetryTimeCycle`` ``R3/PT10S`` (3 retries, 10 s apart) or
  a list of waits ``PT10S,PT1M,PT10M`` (one retry after each).

SpiffArena's element wins over the others. Without any, a call gets `RetryPolicy()`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from engine.core.report import shown

CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
UNBOUND_PREFIX = "manual/"  # an operation no connector runs; the service layer waits for a person
DEFAULT_ATTEMPTS = 5
DEFAULT_BACKOFF_BASE = 2.0
# A model asking for more is almost certainly mistaken, and each attempt may reach an agency.
MAX_ATTEMPTS = 100
MAX_DELAY_SECONDS = 24 * 3600.0
# Seconds; waits grow as base ** attempt and are capped far below what this reaches.
MAX_BACKOFF_BASE = 3600
_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
                       r"(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_UNIT_SECONDS = (7 * 86400, 86400, 3600, 60, 1)


class RetryProblem(ValueError):
    """A retry setting the engine cannot honour, said so that an analyst can fix it."""


@dataclass(frozen=True)
class RetryPolicy:
    """How a failing call is tried again.

    `attempts` counts the first one. Before retry n the engine waits `delays[n-1]` seconds
    (the last one repeating) when `delays` are given, else about `backoff_base` ** n
    seconds with jitter (`engine.services.service_calls.retry_delay`).
    """

    attempts: int = DEFAULT_ATTEMPTS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    delays: tuple[float, ...] = ()
    source: str = ""

    def describe(self) -> str:
        """The policy in words, for the compatibility report."""
        if self.attempts == 1:
            waits = "no retry"
        elif self.delays:
            waits = "retries after " + ", ".join(f"{d:g} s" for d in self.delays)
            waits += " (the last repeating)" if len(self.delays) < self.attempts - 1 else ""
        else:
            waits = f"exponential backoff from {self.backoff_base:g} s with jitter"
        return f"{self.source} → {self.attempts} attempt(s), {waits}"


def _whole(text: str, what: str, least: int, most: int) -> int:
    value = text.strip()
    # isdecimal, not isdigit: "²" is a digit that int() refuses; Persian digits are decimals it reads.
    if not value.isdecimal():
        raise RetryProblem(f"{what} '{shown(text)}' must be a whole number (an expression is not evaluated here)")
    value = "".join(str(unicodedata.decimal(digit)) for digit in value)
    # Compared as text first: a number of thousands of digits is refused without converting it.
    if len(value.lstrip("0")) > len(str(most)) or int(value) > most:
        raise RetryProblem(f"{what} '{shown(text)}' must be at most {most:,}")
    number = int(value)
    if number < least:
        raise RetryProblem(f"{what} '{text}' must be at least {least}")
    return number


def _seconds(text: str, what: str) -> float:
    found = _DURATION.match(text.strip().upper())
    if not found or not any(found.groups()):
        raise RetryProblem(f"{what}: '{text}' is not an ISO 8601 duration in weeks, days, hours, minutes or "
                           "seconds (e.g. PT10S)")
    seconds = sum(float(part) * unit for part, unit in zip(found.groups(), _UNIT_SECONDS, strict=True) if part)
    if not 0 < seconds <= MAX_DELAY_SECONDS:
        raise RetryProblem(f"{what}: '{text}' must wait more than nothing and at most a day")
    return seconds


def _bounded(attempts: int, what: str) -> int:
    if attempts > MAX_ATTEMPTS:
        raise RetryProblem(f"{what} asks for {attempts} attempts; at most {MAX_ATTEMPTS} are made")
    return attempts


def _spiff(retry: Any) -> RetryPolicy:
    retries = retry.get("retries")
    base = retry.get("backoff_base")
    attempts = (_whole(retries, "spiffworkflow:retry retries", 0, MAX_ATTEMPTS - 1) + 1 if retries is not None
                else DEFAULT_ATTEMPTS)
    backoff = (float(_whole(base, "spiffworkflow:retry backoff_base", 1, MAX_BACKOFF_BASE)) if base is not None
               else DEFAULT_BACKOFF_BASE)
    return RetryPolicy(_bounded(attempts, "spiffworkflow:retry"), backoff,
                       source=f"spiffworkflow:retry retries={retries!r} backoff_base={base!r}")


def _cycle(text: str) -> RetryPolicy:
    what = f"camunda:failedJobRetryTimeCycle '{text}'"
    stripped = text.strip()
    if "${" in stripped or "#{" in stripped:
        raise RetryProblem(f"{what}: an expression is not evaluated here; write R<count>/<duration>")
    repeated = re.match(r"^R(\d*)/(.*)$", stripped, re.IGNORECASE)
    if repeated:
        if not repeated.group(1):
            raise RetryProblem(f"{what} repeats without end; name the number of retries, e.g. R3/PT10S")
        retries = _whole(repeated.group(1), what, 0, MAX_ATTEMPTS - 1)
        delays: tuple[float, ...] = (_seconds(repeated.group(2), what),)
    else:
        delays = tuple(_seconds(part, what) for part in stripped.split(","))
        retries = len(delays)
    return RetryPolicy(_bounded(retries + 1, what), delays=delays, source=what)


def retry_policy(node: Any) -> RetryPolicy:
    """The retry policy of service task `node`, from whichever dialect the model uses.

    Raises:
        RetryProblem: the model's setting is malformed or out of bounds.
    """
    extensions = node.find(f"{BPMN}extensionElements")
    if extensions is None:
        return RetryPolicy()
    spiff = extensions.find(f"{SPIFF}serviceTaskOperator/{SPIFF}retry")
    if spiff is not None:
        return _spiff(spiff)
    zeebe = extensions.find(f"{ZEEBE}taskDefinition")
    if zeebe is not None and zeebe.get("retries") is not None:
        # Zeebe counts every attempt, the first included; a job with no retries left is an incident.
        text = zeebe.get("retries", "")
        attempts = max(1, _whole(text, "zeebe:taskDefinition retries", 0, MAX_ATTEMPTS))
        return RetryPolicy(_bounded(attempts, "zeebe:taskDefinition retries"),
                           source=f"zeebe:taskDefinition retries '{text}'")
    cycle = extensions.find(f"{CAMUNDA}failedJobRetryTimeCycle")
    if cycle is not None and (cycle.text or "").strip():
        return _cycle(cycle.text or "")
    return RetryPolicy()


def output_targets(node: Any) -> tuple[str, ...]:
    """The variables a Camunda 7 or 8 service task's output mappings set, in order."""
    extensions = node.find(f"{BPMN}extensionElements")
    if extensions is None:
        return ()
    found = [o.get("target", "") for o in extensions.iterfind(f"{ZEEBE}ioMapping/{ZEEBE}output")]
    for scope in (f"{CAMUNDA}connector/{CAMUNDA}inputOutput", f"{CAMUNDA}inputOutput"):
        found += [o.get("name", "") for o in extensions.iterfind(f"{scope}/{CAMUNDA}outputParameter")]
    return tuple(name for name in found if name)

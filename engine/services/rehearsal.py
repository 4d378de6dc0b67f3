"""Model code outside the write transaction: a unit of work is rehearsed, then written.

A change runs model code (scripts, conditions, decisions) for up to
PANJEREH_MAX_CHANGE_SECONDS. Run inside the transaction that saves it, that code would hold
SQLite's one write lock, and so every writer of the server, or PostgreSQL's row locks and a
pooled connection, for as long. So a unit of work that changes instances (`run_rehearsed`)
runs in rounds, each a transaction of its own with a `Rehearsal` attached:

1. The work runs. Every change the instance store would run is looked up among the outcomes
   already known, by everything it depends on (the compiled package, the stored state, the
   change and its limits); the first one not known ends the round, and the round's
   transaction is rolled back: a rehearsal keeps nothing.
2. The changes the round did not know run in the model pool, with no transaction open.
3. The work runs again, from fresh reads. A change on the same stored state finds its outcome
   and saves it; one on a state another writer moved meanwhile is a new change, and runs in
   its turn. The round that knows every change it runs commits, under the instance's
   optimistic lock as always (two last rounds saving one instance at the same moment, which
   only PostgreSQL lets happen, still end one with `LostRace`: 409, or another try where the
   caller retries, as settling a connector's result does).

A change usually takes two rounds: one that finds it, one that saves it; a change whose
events reach other instances, one more per instance that must change in the same
transaction. The last of `MAX_ROUNDS` runs what it does not know in its transaction (as
every change did before, and logged): an instance that keeps changing under the rounds still
gets its change rather than a refusal.

Running a change again, or running one whose outcome is never used, is always safe: model
code has no effect beyond the snapshot it answers (the sandbox allows no I/O, and a service
call is parked as a row, called only after commit). The work itself must be safe to run
again too: it may have no effect outside its transaction (the outbox of service calls is
per transaction; a file written, a rate-limit hit counted, would be repeated).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.orm import Session

from engine.core.changes import Change, ChangeLimits
from engine.core.package import CompiledPackage
from engine.core.snapshot import Snapshot, StoredState
from engine.services.runtime import Runtime

log = logging.getLogger("panjereh.events")
# Rounds before the last one runs what it does not know in its transaction: enough for a
# change, the instances its events reach, and the instances theirs reach.
MAX_ROUNDS = 5
# Where a transaction keeps its rehearsal; a transaction without one runs changes in place.
SESSION_KEY = "panjereh.rehearsal"

Result = TypeVar("Result")


class Unrehearsed(BaseException):
    """Ends a round at a change whose outcome is not known yet.

    A BaseException, like the interruptions Python itself uses for control flow: the round
    must end wherever it is, and no `except Exception` of the work on the way may take this
    for a failure of its own.
    """


@dataclass(frozen=True, eq=False)
class ChangeRun:
    """One run of model code: `change` on the instance of `process_key` stored as `stored`
    (None: a new instance), compiled as `package`, within `limits`."""

    package: CompiledPackage
    process_key: str
    stored: StoredState | None
    change: Change
    limits: ChangeLimits

    def key(self) -> tuple[int, str, StoredState | None, ChangeLimits]:
        """Everything but the change, which carries dicts and has no hash. The package by
        identity: packages are cached per deployment, and a known run keeps its own alive,
        so its id names no other while the rehearsal lasts."""
        return id(self.package), self.process_key, self.stored, self.limits


@dataclass
class _Outcome:
    """What one run answered, or raised; kept to be answered again in the next rounds."""

    run: ChangeRun
    perform: Callable[[], Snapshot | None]
    snapshot: Snapshot | None = None
    error: Exception | None = None
    done: bool = False

    def settle(self) -> None:
        try:
            self.snapshot = self.perform()
        except Exception as error:  # answered again, where the change ran, as if it had just run
            self.error = error
        self.done = True

    def answer(self) -> Snapshot | None:
        if self.error is not None:
            # Raised once per round that asks; each raise would lengthen the traceback.
            raise self.error.with_traceback(None)
        return self.snapshot


@dataclass
class Rehearsal:
    """The outcomes of the changes one unit of work runs, kept across its rounds."""

    _known: dict[tuple[int, str, StoredState | None, ChangeLimits], list[_Outcome]] = field(default_factory=dict)
    _missing: list[_Outcome] = field(default_factory=list)
    _last_round: bool = False
    rounds: int = 0

    @staticmethod
    def of(session: Session) -> Rehearsal | None:
        """The rehearsal the transaction `session` runs in, if any."""
        found = session.info.get(SESSION_KEY)
        return found if isinstance(found, Rehearsal) else None

    @property
    def missing(self) -> bool:
        """Whether this round met a change it did not know (and so may keep nothing)."""
        return bool(self._missing)

    def outcome(self, run: ChangeRun, perform: Callable[[], Snapshot | None]) -> Snapshot | None:
        """What `run` answers: as it answered before, if known; else, in the last round,
        `perform()` now; else the round ends (`Unrehearsed`) and `perform` runs after it.

        Raises:
            Unrehearsed: `run` is not known yet, and this is not the last round.
            Exception: whatever `perform` raised when it ran.
        """
        found = self._find(run)
        if found is None:
            found = _Outcome(run, perform)
            self._known.setdefault(run.key(), []).append(found)
            if not self._last_round:
                self._missing.append(found)
                raise Unrehearsed
            log.warning("a change of %s ran inside its write transaction after %d rounds (its instances kept "
                        "changing, or its events reach far)", run.process_key, self.rounds - 1)
            found.settle()
        if not found.done:
            # Asked again in the round that missed it, which went on past the miss (as a
            # signal's broadcast does): still unknown.
            raise Unrehearsed
        return found.answer()

    def _find(self, run: ChangeRun) -> _Outcome | None:
        return next((known for known in self._known.get(run.key(), ()) if known.run.change == run.change), None)

    def begin_round(self, session: Session, *, last: bool) -> None:
        """Attach to the transaction of the next round; the `last` runs what it does not know."""
        self.rounds += 1
        self._last_round = last
        session.info[SESSION_KEY] = self

    def run_missing(self) -> None:
        """Run the changes the round did not know; called with no transaction open."""
        missing, self._missing = self._missing, []
        for outcome in missing:
            outcome.settle()


def run_rehearsed(runtime: Runtime, work: Callable[[Session], Result]) -> Result:
    """Run `work`, a unit of work that changes instances, with no model code inside its
    transaction (see the module docstring); what it returns, once committed.

    `work` may run several times, each time in a new transaction; only the last one commits.

    Raises:
        Whatever `work` raises in the round that knew every change it ran, and whatever
        `Runtime.unit_of_work` raises for its commit.
    """
    rehearsal = Rehearsal()
    for number in range(1, MAX_ROUNDS + 1):
        try:
            with runtime.unit_of_work() as session:
                rehearsal.begin_round(session, last=number == MAX_ROUNDS)
                result = work(session)
                if rehearsal.missing:
                    raise Unrehearsed  # a round that met an unknown change keeps nothing
            return result
        except Unrehearsed:
            pass
        except Exception:
            # Raised by a round already doomed (a receiver's change unknown, say): the next
            # round, knowing more, decides what is raised.
            if not rehearsal.missing:
                raise
        rehearsal.run_missing()
    raise AssertionError("the last round runs every change it meets")

"""The transaction a route holds: opened by the runtime, handed to services, never used itself.

Routes neither build queries nor import SQLAlchemy (an import contract in pyproject holds them
to it). They receive a transaction from `Runtime.reading()`, `Runtime.unit_of_work()` or, for
work that changes instances, `engine.services.rehearsal.run_rehearsed`, and pass it to the
services that read and write; this name lets a route's signature say what it
holds without importing the driver. `tests/api/test_route_layering.py` checks that no route
touches the transaction other than by passing it on.
"""

from __future__ import annotations

from typing import TypeAlias

from sqlalchemy.orm import Session

Transaction: TypeAlias = Session

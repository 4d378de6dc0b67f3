"""Regular expressions from models (form field patterns), matched in time linear in the input.

A pattern is written by whoever uploads the model and matched against what a citizen types.
Python's `re` backtracks: ``(a+)+$`` against forty a's and a ``!`` runs for hours inside one
C call that nothing can interrupt, holding a server thread. RE2 never backtracks; it refuses
what would need it (back-references, look-arounds), so such a pattern is refused at deploy
with the reason, instead of being accepted and hanging the server later. RE2's ``\\d`` is
ASCII only, as in the ECMAScript regular expressions JSON Schema means; answers reach the
check with their digits already folded to ASCII.
"""

from __future__ import annotations

import functools
from typing import Any

import re2

__all__ = ["PatternError", "check_pattern", "search"]

_OPTIONS = re2.Options()
# RE2 would also print every refused pattern to the process's stderr.
_OPTIONS.log_errors = False
_MAX_LENGTH = 1000


class PatternError(ValueError):
    """A pattern this engine will not match; the message says why."""


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    if len(pattern) > _MAX_LENGTH:
        raise PatternError(f"the pattern is {len(pattern):,} characters long, over the limit of {_MAX_LENGTH:,}")
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as err:
        reason = err.args[0].decode(errors="replace") if err.args and isinstance(err.args[0], bytes) else str(err)
        if "perl operator" in reason or "escape" in reason:
            reason += " (back-references and look-arounds are not supported: patterns are matched without backtracking)"
        raise PatternError(reason) from None


def check_pattern(pattern: str) -> None:
    """Raise `PatternError` unless `pattern` can be matched here."""
    _compiled(pattern)


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text` (JSON Schema's ``pattern``)."""
    return _compiled(pattern).search(text) is not None

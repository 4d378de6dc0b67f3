"""What the engine refuses to store: values no database keeps, and data over the size limit.

Checked before anything is written, so a refused value leaves nothing behind and the
answer names the place that is wrong.
"""

from __future__ import annotations

import json
from itertools import islice
from typing import Any

from engine.services.errors import InvalidInput, Unstorable
from forms.storable import unstorable_places
from forms.validate import FieldError


def check_storable(value: Any, what: str) -> None:
    """Refuse `value` (data the model computed or an agency sent) when it holds what no database keeps.

    The same on SQLite and PostgreSQL, and before anything is written: PostgreSQL alone would
    refuse it, and only when the row is flushed.

    Raises:
        Unstorable: naming the first place found and what is wrong there.
    """
    for path, problem in islice(unstorable_places(value), 1):
        where = ".".join(str(p) for p in path).encode("utf-8", "backslashreplace").decode("utf-8")
        raise Unstorable(f"{what} cannot be saved: {where or 'the value'} {problem}; nothing was saved")


def check_data_size(data: dict[str, Any], limit: int) -> None:
    """Refuse data whose JSON is over `limit` bytes.

    Raises:
        InvalidInput: saying how big the data is and what the limit is.
    """
    size = len(json.dumps(data, default=str).encode())
    if size > limit:
        raise InvalidInput([FieldError("", f"data is {size:,} bytes, over the limit of {limit:,} bytes")])

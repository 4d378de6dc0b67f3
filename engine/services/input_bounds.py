"""What the store can keep of values that arrive in requests: routes refuse more at the door.

The numbers come from the columns themselves (`engine.db.limits`); routes read them here, since
they do not import the database layer.
"""

from __future__ import annotations

from engine.db import limits

MAX_INTEGER = limits.MAX_INTEGER
"""The largest id, version or count the database stores or compares (a 32-bit integer column)."""
MESSAGE_NAME_LENGTH = limits.MESSAGE_NAME.length
"""The most characters a message name may have: the shortest column that keeps one."""
SIGNAL_NAME_LENGTH = limits.SIGNAL_NAME.length
"""The most characters a signal name may have: the shortest column that keeps one."""

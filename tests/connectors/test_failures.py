"""Reading an agency's Retry-After."""

from datetime import UTC, datetime

import pytest

from connectors.failures import MAX_RETRY_AFTER, retry_after_seconds

NOW = datetime(2026, 3, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("header", "seconds"), [
    ("120", 120.0),
    (" 2.5 ", 2.5),
    ("Sat, 21 Mar 2026 12:01:30 GMT", 90.0),
    ("Sat, 21 Mar 2026 11:00:00 GMT", 0.0),
    ("999999", MAX_RETRY_AFTER),
    ("-5", 0.0),
    ("soon", None),
    ("nan", None),
    ("", None),
    (None, None),
])
def test_retry_after(header, seconds):
    assert retry_after_seconds(header, now=NOW) == seconds

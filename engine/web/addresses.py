"""What a page's address may hold: text every database column keeps, and integers within the
range the database stores.

A path or query value with the NUL character or a lone surrogate, or an integer past
`MAX_INTEGER`, would reach the database and fail there (PostgreSQL refuses all three, even in a
comparison). Every page checks its address before it runs (`engine.web.audience` calls
`check_address`): such a path value names nothing ("not found"), such a query value makes a
malformed request.
"""

from __future__ import annotations

from typing import Any, get_args

from starlette.requests import Request

from engine.services.input_bounds import MAX_INTEGER
from forms.storable import unstorable_text

# The most characters an integer within range takes, with a sign and some leading zeros.
MAX_INTEGER_TEXT = 20


class BadAddress(Exception):
    """The address holds a value no page can take: `status` is 404 for a path value, 400 for a query value."""

    def __init__(self, status: int, name: str, problem: str) -> None:
        self.status = status
        super().__init__(f"{name} {problem}")


def check_address(request: Request) -> None:
    """Refuse the request when a path or query value cannot be used.

    Raises:
        BadAddress: naming the first value refused.
    """
    in_path, in_query = _integer_parameters(request.scope.get("route"))
    for name, value in request.path_params.items():
        problem = _problem(str(value), integer=name in in_path)
        if problem:
            raise BadAddress(404, name, problem)
    for name, value in request.query_params.multi_items():
        problem = unstorable_text(name) or _problem(value, integer=name in in_query)
        if problem:
            raise BadAddress(400, name.encode("utf-8", "backslashreplace").decode("utf-8"), problem)


def _problem(value: str, *, integer: bool) -> str | None:
    problem = unstorable_text(value)
    if problem or not integer:
        return problem
    text = value.strip()
    if len(text) > MAX_INTEGER_TEXT or not text.lstrip("+-").isdigit() or not text.isascii():
        return "must be a whole number"
    return None if -MAX_INTEGER <= int(text) <= MAX_INTEGER else f"must be within ±{MAX_INTEGER}"


def _integer_parameters(route: Any) -> tuple[frozenset[str], frozenset[str]]:
    """The names of the path and query parameters a route takes as integers."""
    in_path: set[str] = set()
    in_query: set[str] = set()
    pending = [getattr(route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        in_path.update(p.alias for p in dependant.path_params if _is_integer(p.field_info.annotation))
        in_query.update(p.alias for p in dependant.query_params if _is_integer(p.field_info.annotation))
        pending.extend(dependant.dependencies)
    return frozenset(in_path), frozenset(in_query)


def _is_integer(annotation: Any) -> bool:
    return annotation is int or int in get_args(annotation)

"""What the API accepts before any route sees it: bounded bodies, bounded JSON, clean parameters.

Python's JSON parser recurses once per nesting level and accepts `NaN`, `Infinity` and
numbers of any size; SQLite refuses integers past 64 bits, PostgreSQL refuses NUL characters,
lone surrogates and non-finite numbers in JSON, and JSON readers elsewhere lose integers past
2**53. Input that one of them would refuse or mangle later, or that would make the parser
itself recurse without bound, is refused here with 422 (or 413 for size) and a message
naming the field and the limit, on every route.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from email.message import Message
from itertools import islice
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from engine.api.errors import http_error
from engine.api.schemas import MAX_INT
from engine.services.errors import InvalidInput
from forms.storable import unstorable_text
from forms.validate import FieldError

# Room for the envelope around the data of a JSON body (`{"data": ..., "version": 1}`).
ENVELOPE_BYTES = 64 * 1024
# A number whose digits alone are longer than this is far outside MAX_INT; refusing it before
# `int()` keeps a megabyte of digits from costing quadratic time.
MAX_NUMBER_DIGITS = 40
MAX_REPORTED = 20
PARSER_SLACK = 8
# The tokens that decide how deep a JSON text nests: an opening bracket (group 1), a closing
# one (group 2), and a whole string, whose brackets do not count. Every quantifier is
# possessive, so a match never gives back what it took: a string that never ends is one match
# to the end of the text, not a failed match retried from each quote inside it, and the scan
# costs time linear in the text whatever the text is. (A pattern that could backtrack did
# retry from every quote: 48 KB of escaped quotes took 6 s, a megabyte would take 45 min.)
_NESTING_TOKEN = re.compile(r'([\[{])|([\]}])|"(?:[^"\\]++|\\.)*+"?+', re.DOTALL)
_OPENING, _CLOSING = 1, 2


class BodyTooLarge(HTTPException):
    """A request body over its limit; an HTTPException so that FastAPI's body reading passes it on."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the limit of {limit:,} bytes")


class BodyLimit:
    """Refuse a request whose body is over `limit` bytes, whether or not it declares its length.

    A declared Content-Length over the limit is answered at once; a chunked body is counted as
    it arrives, so neither the framework's spooling of multipart uploads nor a JSON route
    reads more than the limit.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            response = await http_error(Request(scope), BodyTooLarge(self.limit))
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)


def is_json(headers: Headers) -> bool:
    """Whether FastAPI parses a body with these headers as JSON (its rule, repeated)."""
    declared = headers.get("content-type")
    if not declared:
        return False
    message = Message()
    message["content-type"] = declared
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing it as soon as it is over `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes, max_depth: int) -> Any:
    """The value of a JSON request body whose data may nest `max_depth` levels below the body.

    Raises:
        InvalidInput: not UTF-8 JSON, nested too deep, or holding a value no database keeps.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _refused("", f"the body is not UTF-8 text (byte {err.start})") from err
    # Only a guard for the parser, which recurses once per level: a little past the limit, so
    # that bodies just over it are parsed and refused below with the field named.
    if nests_deeper_than(text, max_depth + PARSER_SLACK):
        raise _refused("", f"the body nests objects and arrays far more than {max_depth} levels deep; "
                           f"data may nest at most {max_depth} levels (PANJEREH_MAX_DATA_DEPTH)")
    try:
        value = json.loads(text, parse_int=_integer, parse_constant=float)
    except json.JSONDecodeError as err:
        raise _refused("", f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from err
    except _NumberTooLong as err:
        raise _refused("", str(err)) from err
    # The body's own object is one level more than the data it carries.
    problems = list(islice(_problems(value, max_depth + 1), MAX_REPORTED))
    if problems:
        raise InvalidInput(problems)
    return value


def parameter_problems(parameters: Mapping[str, str], query: Iterator[tuple[str, str]]) -> list[FieldError]:
    """Path and query values that no database column can hold: text with NUL or a lone surrogate."""
    found = [FieldError(name, problem) for name, value in parameters.items()
             if (problem := unstorable_text(value))]
    found += [FieldError(_name((name.replace("\x00", "\\0"),)), problem) for name, value in query
              if (problem := unstorable_text(name) or unstorable_text(value))]
    return found


class _NumberTooLong(ValueError):
    pass


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _NumberTooLong(f"a number of {len(text):,} digits is out of range; integers must be within "
                             f"±{MAX_INT}")
    return int(text)


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than `limit`; stops as soon as they do.

    One pass: each token starts where the one before ended. Up to the first place the
    parser would refuse, this depth is the parser's own, so a text it would recurse into past
    the limit is always caught; past that place (a string that never ends, a stray bracket)
    the parser stops anyway.
    """
    depth = 0
    for token in _NESTING_TOKEN.finditer(text):
        if token.lastindex == _OPENING:
            depth += 1
            if depth > limit:
                return True
        elif token.lastindex == _CLOSING:
            depth -= 1
    return False


def _problems(value: Any, limit: int) -> Iterator[FieldError]:
    """Every value no database keeps, and every container deeper than `limit` (the body is level 1).

    Containers wait on a stack with their path; a scalar is judged where it is found, and its
    path is only spelled out for a problem: a megabyte of small values costs one check each.
    """
    problem = _scalar_problem(value)
    if problem:
        yield FieldError("", problem)
    stack: list[tuple[Any, tuple[str, ...], int]] = [(value, (), 1)] if isinstance(value, dict | list) else []
    while stack:
        node, path, level = stack.pop()
        for key, item in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(key, str) and (problem := unstorable_text(key)):
                yield FieldError(_name((*path, key)), f"the name {problem}")
            if isinstance(item, dict | list):
                if level + 1 > limit:
                    yield FieldError(_name((*path, str(key))[:1]),
                                     f"objects and arrays nest more than {limit - 1} levels deep here; "
                                     f"the limit is {limit - 1} (PANJEREH_MAX_DATA_DEPTH)")
                elif item:
                    stack.append((item, (*path, str(key)), level + 1))
            elif problem := _scalar_problem(item):
                yield FieldError(_name((*path, str(key))), problem)


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return unstorable_text(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        in_range = -MAX_INT <= value <= MAX_INT
        return None if in_range else f"the integer is out of range; integers must be within ±{MAX_INT}"
    if isinstance(value, float) and not math.isfinite(value):
        return "numbers must be finite (no NaN or Infinity)"
    return None


def _name(path: tuple[str, ...]) -> str:
    # The path goes back in the answer, which must itself be valid UTF-8 JSON.
    return ".".join(path).encode("utf-8", "backslashreplace").decode("utf-8")


def _refused(field: str, message: str) -> InvalidInput:
    return InvalidInput([FieldError(field, message)])


MAX_FILE_NAME = 200


def file_name(name: str | None, field: str, default: str) -> str:
    """An uploaded file's name, refused when no database column could hold it."""
    if not name:
        return default
    if len(name) > MAX_FILE_NAME or any(ord(c) < 32 or ord(c) == 127 for c in name) or unstorable_text(name):
        raise _refused(field, f"file names must be at most {MAX_FILE_NAME} characters, without control "
                              "characters")
    return name

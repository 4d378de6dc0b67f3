"""The connector SDK: the only part of Panjereh a connector plugin imports.

A connector wraps one agency's API. Each of its operations is a method marked with
`@operation` that takes a `ConnectorContext` and a pydantic parameters model and returns a
pydantic result model; the engine validates both sides, so a connector never sees
unchecked input and the process never sees an unchecked answer.

This package never imports the engine (an import-linter contract holds it to that), so a
plugin keeps working while the engine changes underneath it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import httpx

__all__ = ["API_VERSION", "Connector", "ConnectorContext", "ConnectorError", "operation"]

API_VERSION: int = 1
"""Bumped only when a change to this module would break existing plugins."""

_F = TypeVar("_F", bound=Callable[..., Any])
_MARK = "__panjereh_operation__"


class ConnectorError(Exception):
    """A failure the engine knows how to handle.

    `code` is short and stable (``"not-found"``, ``"agency-unavailable"``): a BPMN error
    boundary event catches it by that code. `retryable` says whether trying the same call
    again later may succeed; `retry_after` is how many seconds the agency asked us to wait.
    Messages reach logs and operators, so keep personal data out of them.
    """

    def __init__(self, code: str, message: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        if not code:
            raise ValueError("a ConnectorError needs a code")
        if retry_after is not None and retry_after < 0:
            raise ValueError("retry_after cannot be negative")
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return (f"ConnectorError({self.code!r}, {self.message!r}, retryable={self.retryable!r}, "
                f"retry_after={self.retry_after!r})")

    def __reduce__(self) -> tuple[Any, ...]:
        # Workers may hand errors across processes; keep the keyword-only fields.
        return (_rebuild_error, (type(self), self.code, self.message, self.retryable, self.retry_after))

    def as_dict(self) -> dict[str, Any]:
        """The error as JSON-ready data (for job rows and API answers)."""
        return {"code": self.code, "message": self.message, "retryable": self.retryable,
                "retry_after": self.retry_after}


def _rebuild_error(cls: type[ConnectorError], code: str, message: str, retryable: bool,
                   retry_after: float | None) -> ConnectorError:
    return cls(code, message, retryable=retryable, retry_after=retry_after)


@dataclass(frozen=True)
class ConnectorContext:
    """What the engine hands an operation for one call.

    `http` already carries the timeouts and the context headers every agency receives (case,
    purpose, end user, attempt, idempotency key), so use it for every request. The
    `idempotency_key` stays the same across retries of one call: pass it on to agencies
    that accept one in another form.
    """

    http: httpx.Client
    case_id: str
    purpose: str
    end_user: str | None
    attempt: int
    idempotency_key: str
    logger: logging.Logger
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    connector_id: str = ""

    def secret(self, name: str) -> str:
        """The secret called `name` (any case); a ``secret-missing`` error when it is not set.

        A connector is handed only the secrets named after it: ``<id>_...``, set as
        ``PANJEREH_SECRETS__<ID>_...``. A missing secret is an operator's problem, so the
        engine opens an incident rather than retrying or telling the process model.
        """
        value = self.secrets.get(name.lower())
        if value:
            return value
        prefix = f"{self.connector_id}_"
        if self.connector_id and not name.lower().startswith(prefix):
            raise ConnectorError("secret-missing", f"connector '{self.connector_id}' is handed only secrets whose "
                                 f"names start with '{prefix}' (PANJEREH_SECRETS__{prefix.upper()}...); "
                                 f"'{name}' never reaches it")
        raise ConnectorError("secret-missing", f"the secret '{name}' is not configured"
                             + (f" (set PANJEREH_SECRETS__{name.upper()})" if self.connector_id else ""))


class Connector:
    """Base class of every connector; subclass it and mark operations with `@operation`.

    The class attributes describe the connector in the catalogue and in modeler templates;
    `id` must equal the name of the entry point that registers the class.
    """

    id: ClassVar[str]
    title: ClassVar[dict[str, str]]
    agency: ClassVar[str]
    api_version: ClassVar[int] = API_VERSION
    requires: ClassVar[tuple[str, ...]] = ("base_url",)
    """Settings without which no call can be made; the engine does not call the connector
    while one is unset. Most connectors need the agency's address; one that needs none
    declares ``requires = ()``."""

    def __init__(self, config: Mapping[str, str]) -> None:
        self.config: Mapping[str, str] = dict(config)

    def setting(self, name: str) -> str:
        """The configured value `name` (e.g. ``base_url``); a ``not-configured`` error when unset."""
        value = self.config.get(name)
        if not value:
            raise ConnectorError("not-configured", f"connector '{self.id}' has no '{name}' setting "
                                 f"(PANJEREH_CONNECTORS__{self.id.upper()}__{name.upper()})")
        return value

    def missing_settings(self) -> list[str]:
        """The names in `requires` that have no value."""
        return [name for name in self.requires if not self.config.get(name)]


@dataclass(frozen=True)
class OperationMark:
    """What `@operation` records on a method; read by the engine's registry."""

    title: dict[str, str]
    description: dict[str, str]
    fields: tuple[str, ...]


def operation(*, title: dict[str, str], description: dict[str, str] | None = None,
              fields: Sequence[str] = ()) -> Callable[[_F], _F]:
    """Mark a connector method as an operation.

    The method is ``def name(self, ctx: ConnectorContext, params: P) -> R`` with `P` and `R`
    pydantic models, both taken from its type hints.

    Args:
        title: the operation's name for people, ``{"fa": ..., "en": ...}``.
        description: a sentence or two for the modeler, by language.
        fields: the result fields that are personal data; they are named in the data-use
            record the citizen sees.
    """
    if isinstance(fields, str):
        raise TypeError("fields is a sequence of field names, not one string")
    mark = OperationMark(title=dict(title), description=dict(description or {}), fields=tuple(fields))

    def decorate(func: _F) -> _F:
        setattr(func, _MARK, mark)
        return func

    return decorate


def operation_mark(func: object) -> OperationMark | None:
    """The `@operation` mark on `func`, or None when it is not an operation."""
    mark = getattr(func, _MARK, None)
    return mark if isinstance(mark, OperationMark) else None

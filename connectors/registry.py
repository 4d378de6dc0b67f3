"""Finding connector plugins through entry points, and calling their operations safely.

A plugin is any installed distribution that registers a `Connector` subclass in the entry
point group ``panjereh.connectors`` under its connector id; Panjereh's own connectors
register the same way. Loading never fails as a whole: a plugin that cannot be imported,
speaks another API version or breaks the contract is logged, recorded in
`Registry.problems` and left out, and the rest load.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import re
import typing
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from connectors.failures import from_http_error
from connectors.limits import ResultLimits, check_depth, check_result
from connectors.sdk import API_VERSION, Connector, ConnectorContext, ConnectorError, operation_mark

GROUP = "panjereh.connectors"
LANGUAGES = ("fa", "en")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

log = logging.getLogger(__name__)

Handler = Callable[[ConnectorContext, Any], Any]


def describe_errors(error: ValidationError) -> list[str]:
    """One line per problem, naming the field; never the value, which may be personal data."""
    return [f"{'.'.join(str(part) for part in item['loc']) or '(whole)'}: {item['msg']}"
            for item in error.errors(include_url=False, include_input=False, include_context=False)]


@dataclass(frozen=True)
class Operation:
    """One callable operation of an installed connector, e.g. ``civil_registry/person``."""

    connector_id: str
    name: str
    title: dict[str, str]
    description: dict[str, str]
    agency: str
    params_model: type[BaseModel]
    result_model: type[BaseModel]
    personal_fields: tuple[str, ...]
    handler: Handler | None = field(default=None, repr=False, compare=False)
    connector: Connector | None = field(default=None, repr=False, compare=False)
    limits: ResultLimits = field(default_factory=ResultLimits, compare=False)

    @property
    def id(self) -> str:
        """``connector_id/name``: the BPMN task type (Camunda 8) or topic (Camunda 7)."""
        return f"{self.connector_id}/{self.name}"

    def params_schema(self) -> dict[str, Any]:
        """JSON Schema of the parameters."""
        return self.params_model.model_json_schema()

    def result_schema(self) -> dict[str, Any]:
        """JSON Schema of the result, as `call` returns it."""
        return self.result_model.model_json_schema(mode="serialization")

    def check_params(self, raw: Mapping[str, Any]) -> list[str]:
        """What is wrong with `raw` as parameters (for deploy-time checks); [] when they fit."""
        problems = self._unknown_params(raw)
        try:
            self.params_model.model_validate(dict(raw))
        except ValidationError as error:
            problems += describe_errors(error)
        return problems

    def call(self, ctx: ConnectorContext, raw_params: Mapping[str, Any]) -> dict[str, Any]:
        """Validate the parameters, run the operation, validate its result and return it as JSON data.

        Raises:
            ConnectorError: ``not-configured`` before anything is sent when a setting the
                connector requires is unset, ``bad-params`` (not retryable) when the
                parameters do not fit, ``bad-result`` (retryable) when the answer does not
                fit the result model, ``result-too-large`` / ``result-too-deep`` when it is
                over `limits`, the operation's own errors, and HTTP failures translated by
                `connectors.failures`. Any other exception is a bug in the connector and
                propagates as it is.
        """
        if self.handler is None:
            raise ConnectorError("connector-failed", f"{self.id} is not bound to a loaded connector")
        unset = self.unset_settings()
        if unset:
            # Checked before the call: a connector without its agency's address would
            # otherwise send the citizen's data to wherever an empty setting leads.
            raise ConnectorError("not-configured", f"connector '{self.connector_id}' is not configured: set "
                                 + ", ".join(unset))
        problems = self._unknown_params(raw_params)
        params: BaseModel | None = None
        try:
            params = self.params_model.model_validate(dict(raw_params))
        except ValidationError as error:
            problems += describe_errors(error)
        if problems or params is None:
            raise ConnectorError("bad-params", f"{self.id}: " + "; ".join(problems))
        try:
            answer = self.handler(ctx, params)
        except httpx.HTTPError as error:
            raise from_http_error(error) from error
        except httpx.InvalidURL as error:
            # The message may quote the URL, and with it a citizen's national code: not repeated.
            raise ConnectorError("not-configured", f"{self.id}: the connector's address is not a valid URL; check "
                                 "its base_url setting") from error
        except RecursionError as error:
            # What parsing an answer nested thousands of levels deep ends in (json, lxml, pydantic).
            raise ConnectorError("result-too-deep", f"{self.id} could not read the agency's answer: it is nested "
                                 "too deeply") from error
        # The answer's shape is checked before pydantic walks it: a deeply nested answer
        # would otherwise end in a RecursionError deep inside validation or serialization.
        check_depth(self.id, answer, self.limits)
        try:
            # Validate again even when the answer is already a result model: it may have
            # been built with model_construct() or mutated after validation.
            data = answer.model_dump(by_alias=True) if isinstance(answer, BaseModel) else answer
            result = self.result_model.model_validate(data)
        except ValidationError as error:
            raise ConnectorError("bad-result", f"{self.id} answered something its result model refuses: "
                                 + "; ".join(describe_errors(error)), retryable=True) from error
        dumped: dict[str, Any] = result.model_dump(mode="json", by_alias=True)
        check_result(self.id, dumped, self.limits)
        return dumped

    def unset_settings(self) -> list[str]:
        """The environment variables an operator must still set before this operation can be called."""
        missing = self.connector.missing_settings() if self.connector is not None else []
        return [f"PANJEREH_CONNECTORS__{self.connector_id.upper()}__{name.upper()}" for name in missing]

    def _unknown_params(self, raw: Mapping[str, Any]) -> list[str]:
        # Parameters the model does not declare are refused rather than ignored: a typo in a
        # model would otherwise pass silently, and a connector gets only the data it asked for.
        if self.params_model.model_config.get("extra") in ("allow", "forbid"):
            return []  # "allow" by the author's choice; "forbid" pydantic reports itself
        known: set[str] = set()
        for name, info in self.params_model.model_fields.items():
            known.add(name)
            for alias in (info.alias, info.validation_alias):
                if isinstance(alias, str):
                    known.add(alias)
        return [f"{key}: not a parameter of {self.id}" for key in raw if key not in known]


@dataclass
class Registry:
    """What loaded: operations by id, connector instances by id, and what was skipped and why."""

    operations: dict[str, Operation] = field(default_factory=dict)
    connectors: dict[str, Connector] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    """Connector ids left out on purpose by the allow or deny list."""
    installed: set[str] = field(default_factory=set)
    """Every connector id an installed package registers, loaded or not."""

    def get(self, operation_id: str) -> Operation | None:
        """The operation ``connector_id/name``, or None when it is not installed."""
        return self.operations.get(operation_id)


def load_registry(*, allow: Collection[str] | None = None, deny: Collection[str] = (),
                  config: Mapping[str, Mapping[str, str]] | None = None,
                  entry_points: Iterable[metadata.EntryPoint] | None = None,
                  limits: ResultLimits | None = None) -> Registry:
    """Discover, check and start the installed connectors.

    Args:
        allow: connector ids to load; None loads every one not denied.
        deny: connector ids never to load, even when allowed.
        config: settings per connector id, handed to the connector's constructor.
        entry_points: what to load instead of the installed entry points (tests).
        limits: how big and deep an answer may be; the defaults of `ResultLimits` otherwise.
    """
    registry = Registry()
    found = [ep for ep in (metadata.entry_points(group=GROUP) if entry_points is None else entry_points)
             if ep.group == GROUP]
    registry.installed = {ep.name for ep in found}
    counts = Counter(ep.name for ep in found)
    for name in sorted(name for name, count in counts.items() if count > 1):
        values = sorted(ep.value for ep in found if ep.name == name)
        _skip(registry, name, f"registered {counts[name]} times ({', '.join(values)}); none is loaded "
                              "since it is unclear which one should get citizens' data")
    for ep in sorted(found, key=lambda ep: ep.name):
        if counts[ep.name] > 1:
            continue
        if ep.name in deny or (allow is not None and ep.name not in allow):
            registry.excluded.append(ep.name)
            continue
        _load(registry, ep, config or {}, limits or ResultLimits())
    for name in sorted(set(allow or ()) - set(counts)):
        _skip(registry, name, "is on the allow list but no installed package registers it")
    return registry


def _skip(registry: Registry, name: str, reason: str, *, exc_info: bool = False) -> None:
    log.warning("connector plugin %s skipped: %s", name, reason, exc_info=exc_info)
    registry.problems.append(f"{name}: {reason}")


def _load(registry: Registry, ep: metadata.EntryPoint, config: Mapping[str, Mapping[str, str]],
          limits: ResultLimits) -> None:
    try:
        loaded = ep.load()
    except Exception as error:  # a broken plugin must never stop the others
        _skip(registry, ep.name, f"cannot be imported from {ep.value}: {type(error).__name__}: {error}", exc_info=True)
        return
    try:
        operations, problems = inspect_connector(loaded, expected_id=ep.name)
    except Exception as error:
        _skip(registry, ep.name, f"cannot be inspected: {type(error).__name__}: {error}", exc_info=True)
        return
    if problems:
        _skip(registry, ep.name, "; ".join(problems))
        return
    cls: type[Connector] = loaded
    try:
        connector = cls(dict(config.get(ep.name) or {}))
    except Exception as error:
        _skip(registry, ep.name, f"failed to start: {type(error).__name__}: {error}", exc_info=True)
        return
    registry.connectors[ep.name] = connector
    missing = connector.missing_settings()
    if missing:
        # Loaded all the same, so models using it deploy; its calls open incidents until set.
        log.warning("connector %s is not configured (%s): its calls open incidents until it is", ep.name,
                    ", ".join(missing))
    for op in operations:
        registry.operations[op.id] = bind(op, connector, limits)


def bind(op: Operation, connector: Connector, limits: ResultLimits | None = None) -> Operation:
    """`op` with its handler: the method of that name on `connector`."""
    return dataclasses.replace(op, handler=getattr(connector, op.name), connector=connector,
                               limits=limits or ResultLimits())


def inspect_connector(cls: object, expected_id: str | None = None) -> tuple[list[Operation], list[str]]:
    """The operations a connector class declares (unbound), and every way it breaks the contract."""
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        return [], [f"{cls!r} is not a subclass of connectors.sdk.Connector"]
    version = getattr(cls, "api_version", None)
    if version != API_VERSION:
        # Checked first: a plugin written for another API may fail every other check for that reason alone.
        return [], [f"is written for connector API {version!r}; this Panjereh speaks {API_VERSION}"]
    problems: list[str] = []
    connector_id = getattr(cls, "id", None)
    if not isinstance(connector_id, str) or not NAME_PATTERN.match(connector_id):
        problems.append(f"id {connector_id!r} must be lower-case letters, digits and underscores")
    elif expected_id is not None and connector_id != expected_id:
        problems.append(f"id {connector_id!r} differs from its entry-point name {expected_id!r}")
    problems += _text_problems(getattr(cls, "title", None), "title")
    agency = getattr(cls, "agency", None)
    if not isinstance(agency, str) or not agency:
        problems.append("agency must be a non-empty agency code")
    requires = getattr(cls, "requires", None)
    if not (isinstance(requires, tuple) and all(isinstance(name, str) and name for name in requires)):
        problems.append(f"requires {requires!r} must be a tuple of setting names, e.g. ('base_url',)")
    operations: list[Operation] = []
    for name in sorted(dir(cls)):
        if name.startswith("__"):
            continue
        member = inspect.getattr_static(cls, name)
        func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
        mark = operation_mark(func)
        if mark is None:
            continue
        if func is not member:
            problems.append(f"operation {name}: must be a plain method, not a {type(member).__name__}")
            continue
        op, op_problems = _operation(cls, name, func, str(connector_id), str(agency))
        problems += op_problems
        if op is not None:
            operations.append(op)
    if not operations and not problems:
        problems.append("declares no @operation")
    return operations, problems


def _text_problems(value: object, what: str, *, required: bool = True) -> list[str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return [f"{what} must be a dict of texts by language, e.g. {{'fa': ..., 'en': ...}}"]
    missing = [lang for lang in LANGUAGES if not value.get(lang)] if required else []
    return [f"{what} has no {lang!r} text" for lang in missing]


def _is_model(hint: object) -> typing.TypeGuard[type[BaseModel]]:
    return isinstance(hint, type) and issubclass(hint, BaseModel)


def _operation(cls: type, name: str, func: Callable[..., Any], connector_id: str,
               agency: str) -> tuple[Operation | None, list[str]]:
    where = f"operation {name}"
    mark = operation_mark(func)
    assert mark is not None
    problems: list[str] = []
    if not NAME_PATTERN.match(name):
        problems.append(f"{where}: the name must be lower-case letters, digits and underscores")
    problems += [f"{where}: {p}" for p in _text_problems(mark.title, "title")]
    problems += [f"{where}: {p}" for p in _text_problems(mark.description, "description", required=False)]
    shape = f"must be `def {name}(self, ctx: ConnectorContext, params: <pydantic model>) -> <pydantic model>`"
    if inspect.iscoroutinefunction(func):
        return None, [*problems, f"{where}: {shape}, not async"]
    parameters = list(inspect.signature(func).parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if len(parameters) != 3 or any(p.kind not in positional for p in parameters):
        return None, [*problems, f"{where}: {shape}"]
    try:
        hints = typing.get_type_hints(func)
    except Exception as error:
        return None, [*problems, f"{where}: its type hints cannot be resolved ({type(error).__name__}: {error})"]
    params_model, result_model = hints.get(parameters[2].name), hints.get("return")
    if hints.get(parameters[1].name) is not ConnectorContext:
        problems.append(f"{where}: {shape}; the context parameter is not typed ConnectorContext")
    if not _is_model(params_model):
        problems.append(f"{where}: {shape}; the parameters are not typed with a pydantic model")
    if not _is_model(result_model):
        problems.append(f"{where}: {shape}; the result is not typed with a pydantic model")
    if problems:
        return None, problems
    assert _is_model(params_model) and _is_model(result_model)
    unknown = [f for f in mark.fields if f not in result_model.model_fields]
    if unknown:
        problems.append(f"{where}: personal fields {unknown} are not fields of {result_model.__name__}")
    op = Operation(connector_id=connector_id, name=name, title=mark.title, description=mark.description,
                   agency=agency, params_model=params_model, result_model=result_model,
                   personal_fields=mark.fields)
    for kind, schema in (("parameters", op.params_schema), ("result", op.result_schema)):
        try:
            json.dumps(schema())
        except Exception as error:  # pydantic refuses some types a JSON Schema cannot describe
            problems.append(f"{where}: the {kind} have no JSON Schema ({type(error).__name__}: {error})")
    return (None, problems) if problems else (op, [])

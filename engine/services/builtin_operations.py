"""Operations the engine itself performs for a model, called like any connector operation.

A connector reaches another agency over HTTP and sees nothing of the engine; issuing a
document needs the engine's own database (a serial, a code, the case). So it is not a
plugin: it is an `Operation` of the pseudo-connector ``panjereh``, added to the registry the
server, the workers and the command line share (`engine.compose.installed_connectors`) and
given the runtime when a call is made (`bound`, from `engine.services.service_calls`). A
model binds a service task to it the way it binds any operation (``panjereh/issue_document``),
deploy checks its parameters, the modeler templates offer it, and calls to it are claimed,
retried and settled like every other call (at least once; the operation itself makes a retry
issue nothing new).

No data-use record is written for these calls: nothing leaves the engine, and the case
page lists the document itself.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from connectors.registry import Operation, Registry
from connectors.sdk import ConnectorContext
from engine.services import issued_documents
from engine.services.runtime import Runtime

CONNECTOR = "panjereh"
AGENCY = "panjereh"


def is_builtin(operation_id: str) -> bool:
    """Whether `operation_id` names an operation of the engine itself."""
    return operation_id.startswith(f"{CONNECTOR}/")


def operations() -> list[Operation]:
    """The engine's operations, as the registry lists them; `bound` gives one its runtime to run in."""
    return [Operation(
        connector_id=CONNECTOR, name="issue_document",
        title={"fa": "صدور سند (پروانه، گواهی)", "en": "Issue a document (licence, certificate)"},
        description={"fa": "سند را با شماره سریال، کد تصدیق و QR به صورت PDF صادر می‌کند؛ هر پرونده از هر نوع یک سند.",
                     "en": "Issues the document as a PDF with a serial number, a verification code and a QR code; "
                           "one per case and kind."},
        agency=AGENCY, params_model=issued_documents.IssueParams, result_model=issued_documents.IssueResult,
        personal_fields=())]


def bound(operation: Operation, runtime: Runtime) -> Operation:
    """`operation` ready to call in `runtime`: its parameters and result are checked as a connector's are."""

    def issue(ctx: ConnectorContext, params: Any) -> issued_documents.IssueResult:
        return issued_documents.issue(runtime, ctx.case_id, params)

    handlers = {"issue_document": issue}
    return dataclasses.replace(operation, handler=handlers[operation.name])


def install(registry: Registry) -> Registry:
    """Add the engine's operations to `registry`, in place of any plugin that took the engine's name."""
    if CONNECTOR in registry.connectors or any(is_builtin(op) for op in registry.operations):
        registry.problems.append(f"{CONNECTOR}: the name is the engine's own; the plugin's operations are left out")
        registry.connectors.pop(CONNECTOR, None)
        for taken in [op for op in registry.operations if is_builtin(op)]:
            del registry.operations[taken]
    for operation in operations():
        registry.operations[operation.id] = operation
    return registry

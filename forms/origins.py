"""Where each field of a form gets its value: fetched from another agency, or typed by the person.

A field shown read-only with a source (`x-source` in JSON Schema, the `panjereh:source` property
in Camunda formData and form-js) was fetched, never asked: the citizen sees it with the agency
it came from. Every other field the person fills is asked; a file field is a document given, not a
field typed.

What a field holds (`x-kind`, or the `panjereh:kind` property) is one of `FIELD_KINDS`:
identity, address and ownership facts are what an agency already holds, so the single window
should fetch them. Without a declared kind, a national code, legal id or mobile number is
identity and a postal code is address; anything else is other. A file field may say which
document of the service card it is (`x-document`, `panjereh:document`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forms import schema as schemas
from forms.model import FormModel

FIELD_KINDS = ("identity", "address", "ownership", "other")
# The kinds an agency already holds about a person or a property: the once-only target counts these.
AGENCY_HELD = ("identity", "address", "ownership")
_KIND_BY_FORMAT = {"ir-national-code": "identity", "ir-legal-id": "identity", "ir-mobile": "identity",
                   "ir-postal-code": "address"}


@dataclass(frozen=True)
class FieldOrigin:
    """One field of a form and where its value comes from."""

    path: str
    kind: str
    readonly: bool
    source: str | None  # the connector that filled it, for a read-only field
    upload: bool
    document: str | None  # the service card's document a file field is

    @property
    def prefilled(self) -> bool:
        """Fetched from another agency and shown with its source, never asked."""
        return self.readonly and self.source is not None

    @property
    def asked(self) -> bool:
        """Typed or chosen by the person (a read-only field without a source is only shown)."""
        return not self.readonly and not self.upload


class OriginError(ValueError):
    """A field declares a kind that is not one of `FIELD_KINDS`."""


def _declared(root: dict[str, Any], nodes: tuple[dict[str, Any], ...], properties: dict[str, Any],
              name: str) -> str | None:
    value = schemas.keyword(root, nodes, f"x-{name}")
    if value is None:
        value = properties.get(f"panjereh:{name}", properties.get(name))
    return str(value).strip() if isinstance(value, str | int) and str(value).strip() else None


def field_origins(form: FormModel | None) -> list[FieldOrigin]:
    """Each field of `form` that a person sees, in the form's order, with where its value comes from.

    Hidden fields are left out: nobody is asked them and nobody sees them.

    Raises:
        OriginError: a field declares an unknown kind.
    """
    if not form or not isinstance(form.get("schema"), dict):
        return []
    root: dict[str, Any] = form["schema"]
    ui = form.get("ui") or {}
    readonly = set(ui.get("readonly") or [])
    widgets = ui.get("widgets") or {}
    extra = ui.get("properties") or {}
    fields = {f.path: f for f in schemas.walk(root) if f.kind == "field"}
    found = []
    for path in ui.get("order") or list(fields):
        declared = fields.get(path)
        if declared is None or widgets.get(path) == "hidden":
            continue
        properties: dict[str, Any] = extra[path] if isinstance(extra.get(path), dict) else {}
        kind = _declared(root, declared.nodes, properties, "kind")
        if kind is None:
            kind = _KIND_BY_FORMAT.get(str(schemas.keyword(root, declared.nodes, "format")), "other")
        if kind not in FIELD_KINDS:
            raise OriginError(f"field '{path}': kind '{kind}' is not one of {', '.join(FIELD_KINDS)}")
        upload = widgets.get(path) == "file"
        source = _declared(root, declared.nodes, properties, "source") if path in readonly else None
        found.append(FieldOrigin(path, kind, path in readonly, source, upload,
                                 _declared(root, declared.nodes, properties, "document") if upload else None))
    return found

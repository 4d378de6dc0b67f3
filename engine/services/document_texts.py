"""What an issued document says, in Persian and English: its declaration and the model's values.

A service declares each document it issues in its `service.toml` (`[issued_documents.<kind>]`):
the title, each field's label and how its values print, and what the document certifies with
`{name}` placeholders. Here the declaration and the values a model gives are put together into
the texts the document keeps for good (see `engine.services.issued_documents`). A declaration
that lacks a text, or values that do not match its fields, are refused with a connector error,
which the calling service task can catch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from persiantools.jdatetime import JalaliDate

from connectors.sdk import ConnectorError
from forms import issued_pdf

LANGUAGES = ("fa", "en")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
ISOLATE, END_ISOLATE = "\u2068", "\u2069"  # FIRST STRONG ISOLATE, POP DIRECTIONAL ISOLATE


def certifies(content: Mapping[str, Any], lang: str, holder_name: str) -> str:
    """What the document certifies, in `lang`, naming the holder as `holder_name`."""
    return _filled(str((content.get("certifies") or {}).get(lang) or ""), {"holder_name": holder_name})


def certifies_publicly(content: Mapping[str, Any], lang: str, holder_name: str) -> str | None:
    """What the public check says the document certifies: its fields masked unless declared
    public; None for a document issued before that text was kept (the check then omits it)."""
    text = (content.get("certifies_public") or {}).get(lang)
    return _filled(str(text), {"holder_name": holder_name}) if text else None


def masked(name: str) -> str:
    """A name as the public check shows it: each word's first letter, the rest hidden (ز*** ا****)."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


def years_later(day: date, years: int) -> date:
    """The same day of the Iranian calendar `years` later (30 Esfand becomes 29 when that year has no 30th)."""
    start = JalaliDate(day)  # type: ignore[no-untyped-call]  # constructor unannotated upstream
    for last in (start.day, 29):
        try:
            later = JalaliDate(start.year + years, start.month, min(start.day, last))  # type: ignore[no-untyped-call]
        except ValueError:
            continue
        found: date = later.to_gregorian()
        return found
    raise ValueError(f"no day {years} years after {day}")


def _texts(value: Any, what: str) -> dict[str, str]:
    if isinstance(value, str):
        return {lang: value for lang in LANGUAGES}
    if not isinstance(value, Mapping) or not all(isinstance(value.get(lang), str) and value.get(lang)
                                                 for lang in LANGUAGES):
        raise ConnectorError("document-not-declared", f"{what} needs a text in Persian and in English (fa, en)")
    return {lang: str(value[lang]) for lang in LANGUAGES}


def _shown(value: Any, declared: Mapping[str, Any], lang: str) -> str:
    """A field's value as the document prints it in `lang`."""
    choices = declared.get("values") or {}
    if isinstance(value, str) and isinstance(choices, Mapping) and value in choices:
        return _texts(choices[value], f"the value '{value}'")[lang]
    if isinstance(value, bool):
        text = ("بله" if value else "خیر") if lang == "fa" else ("yes" if value else "no")
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    if lang == "fa" and not isinstance(value, str):
        text = issued_pdf.persian_digits(text)
    unit = declared.get("unit")
    return f"{text} {_texts(unit, 'a unit')[lang]}" if unit else text


def _filled(template: str, values: Mapping[str, str]) -> str:
    # Only {name} placeholders are filled, from the declared values: str.format would also
    # reach into attributes and indexes of whatever a placeholder names. Each value is
    # isolated (FSI ... PDI), so a Persian name inside an English sentence, or the reverse,
    # keeps its own direction and leaves the sentence's order alone (Unicode's advice for
    # text put into a template, which browsers and the PDF's layout both follow).
    return _PLACEHOLDER.sub(lambda m: f"{ISOLATE}{values[m.group(1)]}{END_ISOLATE}" if m.group(1) in values
                            else m.group(0), template)


def content(service: Mapping[str, Any], kind: str, given: Mapping[str, Any], agency: str, issued_on: date,
            valid_until: date | None) -> dict[str, Any]:
    """What the document says, in both languages, from its declaration and the model's values."""
    declared = (service.get("issued_documents") or {}).get(kind)
    if not isinstance(declared, Mapping):
        raise ConnectorError("document-not-declared", f"the service declares no document '{kind}' "
                             f"([issued_documents.{kind}] in its service.toml)")
    fields = declared.get("fields") or []
    names = [f.get("name") for f in fields if isinstance(f, Mapping)]
    unknown = sorted(set(given) - set(names))
    missing = [name for name in names if name not in given]
    if unknown or missing:
        raise ConnectorError("document-fields", f"document '{kind}': "
                             + "; ".join([f"field {n} is not declared" for n in unknown]
                                         + [f"field {n} is not given" for n in missing]))
    agency_names = (service.get("agencies") or {}).get(agency) or agency
    lines, values, public = [], {}, {}
    for lang in LANGUAGES:
        # {holder_name} stays in the text: the PDF prints the name, the public check a masked one.
        values[lang] = {"valid_until": date_text(valid_until, lang) if valid_until else "",
                        "issued_on": date_text(issued_on, lang)}
        public[lang] = dict(values[lang])
    for field in fields:
        label = _texts(field, f"the label of field {field.get('name')}")
        value = {lang: _shown(given[field["name"]], field, lang) for lang in LANGUAGES}
        lines.append({"name": field["name"], "label": label, "value": value})
        for lang in LANGUAGES:
            values[lang][field["name"]] = value[lang]
            # The public check (/verify) shows a field whole only where the card says `public = true`
            # (a business's name); anything else about the holder (an address, a parent, a number)
            # only by its first letters, enough to match the paper, not to learn about a stranger.
            public[lang][field["name"]] = value[lang] if field.get("public") is True else masked(value[lang])
    certifies = _texts(declared.get("certifies"), f"what document '{kind}' certifies")
    return {
        "title": _texts(declared.get("title"), f"the title of document '{kind}'"),
        "agency": _texts(agency_names, f"the name of agency '{agency}'"),
        "service": _texts(service.get("title") or kind, "the service's title"),
        "fields": lines,
        "certifies": {lang: _filled(certifies[lang], values[lang]) for lang in LANGUAGES},
        "certifies_public": {lang: _filled(certifies[lang], public[lang]) for lang in LANGUAGES},
    }


def date_text(day: date, lang: str) -> str:
    if lang == "fa":
        return issued_pdf.jalali(day)
    return f"{day.day} {day.strftime('%B %Y')}"

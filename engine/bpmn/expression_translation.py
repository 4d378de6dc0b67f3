"""Expressions in a model, carried over to the sandboxed Python the engine evaluates.

Each expression is read in the language it was written in: the `language` attribute when
the modeler wrote one, else its form (`=...` is FEEL, `${...}` is JUEL), else Python.
Translations happen only through the parsers in `feel.py` and `juel.py`; text outside
their subset is reported with its line and left as it was, never guessed.

Timer expressions are special: SpiffWorkflow evaluates them as Python, so the ISO 8601
literal an analyst types (`PT1H`, `R3/PT10M`, `2026-12-01T09:00:00Z`) would be a name or
a syntax error. A bare ISO literal is quoted instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.bpmn.expression_syntax import Untranslatable
from engine.bpmn.feel import feel_to_python, is_feel
from engine.bpmn.juel import is_juel, juel_to_python
from engine.bpmn.xpath import GET_DATA_OBJECT as _GET_DATA_OBJECT
from engine.bpmn.xpath import xpath_to_python
from engine.core.cron import CronProblem, cron_to_iso
from engine.core.report import shown
from engine.core.sandbox import CRON_CYCLE, SandboxViolation, check_source

_LANGUAGES = {
    "": "", "python": "python", "text/x-python": "python", "text/python": "python", "py": "python",
    "feel": "feel", "http://www.omg.org/spec/feel/20140401": "feel", "juel": "juel",
    "${}": "juel", "http://www.w3.org/1999/xpath": "xpath",
}
_LABELS = {"feel": "FEEL", "juel": "JUEL", "xpath": "BPMN XPath", "iso": "ISO 8601 literal",
           "boolean": "boolean literal", "cron": "Quartz cron (in UTC)"}
# Lower-case truth values mean the same in XPath, JUEL, FEEL, JavaScript and Groovy; only Python differs.
_BOOLEANS = {"true": "True", "true()": "True", "false": "False", "false()": "False"}
_CRON = re.compile(r"^[\d*/?,LW#-]+( [\d*/?,LW#A-Z-]+){4,6}$")
_DURATION = (r"P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
             r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?")
_DATE = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
_ISO = re.compile(rf"^(R\d*/)?({_DURATION}|{_DATE})(/({_DURATION}|{_DATE}))?$")


@dataclass(frozen=True)
class Translation:
    """Python for one expression, and what it was before when it changed."""

    python: str
    source_language: str  # "python" when nothing was translated
    original: str

    @property
    def changed(self) -> bool:
        return self.source_language != "python"

    def describe(self) -> str:
        label = _LABELS.get(self.source_language, self.source_language)
        return f"{label} `{shown(self.original.strip())}` → Python `{shown(self.python)}`"


class ExpressionProblem(ValueError):
    """An expression that cannot run, with the reason an analyst can act on."""


def language_of(text: str, declared: str | None) -> str:
    """The language `text` is written in, from the declared attribute or the text's form."""
    name = (declared or "").strip().lower()
    if name and name not in _LANGUAGES:
        return name
    if _LANGUAGES.get(name):
        return _LANGUAGES[name]
    if is_feel(text):
        return "feel"
    if is_juel(text):
        return "juel"
    return "python"


def translate(text: str, declared: str | None = None) -> Translation:
    """The sandbox Python for `text`.

    Raises:
        ExpressionProblem: the language is not one we run, the text is outside the
            supported subset, or the result is refused by the sandbox.
    """
    language = language_of(text, declared)
    stripped = text.strip()
    try:
        if language in ("python", "xpath") and stripped in _BOOLEANS:
            language, python = "boolean", _BOOLEANS[stripped]
        elif language == "feel":
            python = feel_to_python(stripped[1:] if stripped.startswith("=") else stripped)
        elif language == "juel":
            python = juel_to_python(stripped)
        elif language == "xpath" or (language == "python" and _GET_DATA_OBJECT.search(stripped)):
            language = "xpath"
            python = xpath_to_python(stripped)
        elif language == "python":
            python = stripped
        else:
            raise ExpressionProblem(f"expressions in '{language}' are not supported; write it in Python, "
                                    "JUEL (${...}) or FEEL (=...)")
    except Untranslatable as err:
        raise ExpressionProblem(f"{language.upper()} `{shown(stripped)}` cannot be translated: {err}") from err
    try:
        check_source(python, "eval")
    except SyntaxError as err:
        raise ExpressionProblem(f"`{shown(stripped)}` is not valid Python: {err.msg}") from err
    except SandboxViolation as err:
        raise ExpressionProblem(f"`{shown(stripped)}`: {err}") from err
    return Translation(python, language, text)


def is_iso_literal(text: str) -> bool:
    """Whether `text` is an ISO 8601 duration, date, interval or repetition as typed."""
    return bool(_ISO.match(text.strip()))


def translate_timer(text: str, declared: str | None = None, kind: str = "timeCycle") -> Translation:
    """The Python for a timer expression of `kind` (timeDate, timeDuration or timeCycle); a bare
    ISO 8601 literal becomes a string, a Camunda cron cycle a call that starts it when set.

    Raises:
        ExpressionProblem: as `translate`, and for a cron outside a fixed period or a cycle.
    """
    stripped = text.strip()
    if is_iso_literal(stripped):
        return Translation(repr(stripped), "iso", text)
    if stripped.startswith("=") and is_iso_literal(stripped[1:].strip().strip('"')):
        return Translation(repr(stripped[1:].strip().strip('"')), "feel", text)
    if _CRON.match(stripped):
        if kind != "timeCycle":
            raise ExpressionProblem(f"`{shown(stripped)}` is a cron expression, which only a timeCycle can hold; "
                                    "a date or a duration is written in ISO 8601 (e.g. PT48H)")
        try:
            cron_to_iso(stripped)
        except CronProblem as err:
            raise ExpressionProblem(f"`{shown(stripped)}` is a cron expression that does not fire at a fixed period "
                                    f"({err}); write the cycle as an ISO 8601 repetition, e.g. R/PT5M for "
                                    "every five minutes or R/P1D for every day") from err
        # Evaluated when the timer is set, so the repetition starts at the cron's next firing.
        return Translation(f"{CRON_CYCLE}({stripped!r})", "cron", text)
    return translate(text, declared)

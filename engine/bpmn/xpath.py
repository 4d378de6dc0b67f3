"""BPMN's default expression language, XPath 1.0, for the subset modelers actually write.

Tools that follow the BPMN specification to the letter (ADONIS, Signavio, Trisotech and
others) write conditions such as `bpmn:getDataObject('approved') = 'yes'`. Within the
subset below XPath reads like FEEL (`=` compares, `and`, `or`, `not(...)`), so a data
object reference becomes a variable and the rest goes through the FEEL translator:

- `bpmn:getDataObject('name')` → `bpmn_data_object('name')`, which is None while the data
  object is not set (XPath's empty node set, false in a condition); `.../field` → `[...]['field']`;
- `'single'` and `"double"` quoted strings, numbers, `true()` and `false()`;
- `=`, `!=`, `<`, `<=`, `>`, `>=`, `and`, `or`, `not(...)`, `+ - * div mod`.

Anything else (other functions, axes, predicates) is reported, not guessed.
"""

from __future__ import annotations

import re

from engine.bpmn.expression_syntax import Untranslatable
from engine.bpmn.feel import feel_to_python
from engine.core.sandbox import DATA_OBJECT

GET_DATA_OBJECT = re.compile(
    r"bpmn:getDataObject\(\s*(['\"])([A-Za-z_][A-Za-z0-9_]*)\1\s*\)((?:/[A-Za-z_][A-Za-z0-9_]*)*)")
_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|[^'\"]+")


def _outside_strings(text: str) -> str:
    """`text` with XPath-only spellings turned into FEEL ones, leaving string contents alone."""
    parts = []
    for piece in _TOKEN.findall(text):
        if piece[:1] in {"'", '"'}:
            parts.append('"' + piece[1:-1].replace("\\", "\\\\").replace('"', '\\"') + '"')
            continue
        piece = re.sub(r"\btrue\(\)", "true", piece)
        piece = re.sub(r"\bfalse\(\)", "false", piece)
        piece = re.sub(r"\bdiv\b", "/", piece)
        if re.search(r"\bmod\b|::|\[|@|//", piece):
            raise Untranslatable("XPath beyond data-object comparisons is not supported", text, text.find(piece))
        parts.append(piece)
    return "".join(parts)


def xpath_to_python(text: str) -> str:
    """Python for an XPath condition in the subset above.

    Raises:
        Untranslatable: outside the subset.
    """
    names: dict[str, str] = {}

    def variable(match: re.Match[str]) -> str:
        # A stand-in name the FEEL translator passes through, swapped for the lookup after.
        stand_in = f"xpathdataobject{len(names)}x"
        names[stand_in] = match.group(2)
        return stand_in + "".join(f".{part}" for part in match.group(3).split("/") if part)

    python = feel_to_python(_outside_strings(GET_DATA_OBJECT.sub(variable, text)))
    for stand_in, name in names.items():
        python = re.sub(rf"\b{stand_in}\b", f"{DATA_OBJECT}({name!r})", python)
    return python

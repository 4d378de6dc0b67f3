"""One parsed upload as the core takes it: a document of a deployment.

It lives apart from `package` because call resolution (`calls`) reads documents and
compilation (`package`) uses call resolution: with the class in `package`, the two
modules imported each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lxml import etree

DocumentKind = Literal["bpmn", "dmn"]


@dataclass(frozen=True)
class Document:
    """One parsed upload: its name, kind and (already safely loaded) XML root."""

    name: str
    kind: DocumentKind
    root: etree._Element

"""Multi-instance loops written the Camunda way, rewritten into the BPMN form SpiffWorkflow reads.

SpiffWorkflow takes the collection to loop over from `bpmn:loopDataInputRef` and the
variable each instance sees from `bpmn:inputDataItem` (and collects results through
`bpmn:loopDataOutputRef` / `bpmn:outputDataItem`). Camunda 7 keeps the same facts in
`camunda:collection` / `camunda:elementVariable`; Camunda 8 in a
`zeebe:loopCharacteristics` extension. Those attributes are foreign to SpiffWorkflow's
parser, which ignores them: without this rewrite the loop has nothing to loop over.

A standard loop with neither a condition nor a maximum never repeats: BPMN loops only while
the condition holds, and an absent condition does not. Modelers draw the marker alone in
descriptive diagrams; the activity runs once and the loop is flagged (SpiffWorkflow would
refuse the model).

Only plain variable names are carried over (`items`, `${items}`, `=items`). An expression
(`=for x in items return x.id`, `${bean.list()}`) is left as written and noted, so the
analyst computes the list in a task before the loop.
"""

from __future__ import annotations

import re

from lxml import etree

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
ZEEBE = "{http://camunda.org/schema/zeebe/1.0}"

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Children of multiInstanceLoopCharacteristics in the order the BPMN schema demands.
_ORDER = ("documentation", "extensionElements", "loopCardinality", "loopDataInputRef", "loopDataOutputRef",
          "inputDataItem", "outputDataItem", "complexBehaviorDefinition", "completionCondition",
          "oneBehaviorEventRef", "noneBehaviorEventRef")


def plain_name(raw: str | None) -> str | None:
    """The variable a Camunda value names (`x`, `${x}`, `=x`), or None when it is an expression."""
    text = (raw or "").strip()
    if (text.startswith("${") and text.endswith("}")) or (text.startswith("#{") and text.endswith("}")):
        text = text[2:-1].strip()
    elif text.startswith("="):
        text = text[1:].strip()
    return text if _NAME.match(text) else None


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _child(loop: etree._Element, name: str) -> etree._Element | None:
    found: etree._Element | None = loop.find(f"{BPMN}{name}")
    return found


def _put(loop: etree._Element, name: str, *, text: str | None = None, item: str | None = None) -> None:
    """Add `bpmn:<name>` at its schema position (before the first child that must follow it)."""
    node = etree.Element(f"{BPMN}{name}")
    if text is not None:
        node.text = text
    if item is not None:
        node.set("id", item)
        node.set("name", item)
    rank = _ORDER.index(name)
    for position, existing in enumerate(loop):
        local = _local(existing)
        if local in _ORDER and _ORDER.index(local) > rank:
            loop.insert(position, node)
            return
    loop.append(node)


def _activity_id(loop: etree._Element) -> str:
    parent = loop.getparent()
    return (parent.get("id") if parent is not None else None) or loop.get("id") or ""


def _camunda7(loop: etree._Element) -> list[str]:
    collection = loop.get(f"{CAMUNDA}collection")
    if collection is None:
        return []
    element = loop.get(f"{CAMUNDA}elementVariable")
    source = plain_name(collection)
    if source is None:
        return [f"camunda:collection '{collection}' is an expression, not a variable name; it was not converted "
                "and the loop has nothing to iterate over: compute the list into a variable before the task "
                "and name that variable"]
    if _child(loop, "loopDataInputRef") is None and _child(loop, "loopCardinality") is None:
        _put(loop, "loopDataInputRef", text=source)
    what = f"camunda:collection '{collection}' → loopDataInputRef '{source}'"
    if element:
        item = plain_name(element)
        if item is None:
            return [f"camunda:elementVariable '{element}' is not a variable name; it was not converted"]
        # The element is local to each instance in Camunda 7. Written back into the collection
        # in place, it never reaches the loop's own data, where SpiffWorkflow would refuse to
        # start the next sequential instance ("input item already exists").
        if _child(loop, "inputDataItem") is None:
            if _child(loop, "loopDataOutputRef") is None and _child(loop, "loopCardinality") is None:
                _put(loop, "loopDataOutputRef", text=source)
                _put(loop, "outputDataItem", item=item)
            _put(loop, "inputDataItem", item=item)
        what += (f", camunda:elementVariable → inputDataItem '{item}' (each instance's own copy; "
                 "other variables the instance sets stay in that instance)")
    del loop.attrib[f"{CAMUNDA}collection"]
    loop.attrib.pop(f"{CAMUNDA}elementVariable", None)
    return [what]


def _zeebe(loop: etree._Element) -> list[str]:
    zeebe = loop.find(f"{BPMN}extensionElements/{ZEEBE}loopCharacteristics")
    if zeebe is None or zeebe.get("translated") == "true":
        return []
    values = {key: zeebe.get(key) for key in ("inputCollection", "inputElement", "outputCollection", "outputElement")}
    names = {key: plain_name(value) for key, value in values.items()}
    complex_ = [f"{key} '{value}'" for key, value in values.items() if value and names[key] is None]
    if complex_:
        return [f"zeebe:loopCharacteristics {', '.join(complex_)}: only variable names can be carried over, "
                "expressions were not converted; compute the value into a variable and name that variable"]
    done = []
    if names["inputCollection"] and _child(loop, "loopDataInputRef") is None:
        _put(loop, "loopDataInputRef", text=names["inputCollection"])
        done.append(f"inputCollection '{values['inputCollection']}' → loopDataInputRef '{names['inputCollection']}'")
    if names["outputCollection"] and _child(loop, "loopDataOutputRef") is None:
        _put(loop, "loopDataOutputRef", text=names["outputCollection"])
        done.append(f"outputCollection → loopDataOutputRef '{names['outputCollection']}'")
    if names["inputElement"] and _child(loop, "inputDataItem") is None:
        _put(loop, "inputDataItem", item=names["inputElement"])
        done.append(f"inputElement → inputDataItem '{names['inputElement']}'")
    if names["outputElement"] and _child(loop, "outputDataItem") is None:
        _put(loop, "outputDataItem", item=names["outputElement"])
        done.append(f"outputElement '{values['outputElement']}' → outputDataItem '{names['outputElement']}'")
    if bool(names["outputCollection"]) != bool(names["outputElement"]):
        return ["zeebe:loopCharacteristics sets only one of outputCollection and outputElement; "
                "results are collected only when both are set"]
    # Marked so that a second pass over the same tree changes nothing.
    zeebe.set("translated", "true")
    return [f"zeebe:loopCharacteristics {'; '.join(done)}"] if done else []


def translate_loops(root: etree._Element) -> list[tuple[str, str]]:
    """Rewrite Camunda 7 and Camunda 8 multi-instance loops, and drop standard loops that
    can never repeat, in `root` in place.

    Returns:
        One (activity id, note) pair per loop looked at: a note with "→" says what was
        translated; any other note says what was left as written and why.
    """
    notes: list[tuple[str, str]] = []
    for loop in root.iter(f"{BPMN}multiInstanceLoopCharacteristics"):
        for note in _camunda7(loop) + _zeebe(loop):
            notes.append((_activity_id(loop), note))
    for loop in list(root.iter(f"{BPMN}standardLoopCharacteristics")):
        condition = _child(loop, "loopCondition")
        if (condition is None or not (condition.text or "").strip()) and not loop.get("loopMaximum"):
            notes.append((_activity_id(loop), "the loop has no condition and no maximum, so nothing makes it "
                          "repeat: the activity runs once; give it a loopCondition or loopMaximum to repeat it"))
            parent = loop.getparent()
            if parent is not None:
                parent.remove(loop)
    return notes

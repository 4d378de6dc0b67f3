"""Structures other engines run and SpiffWorkflow refuses, given their BPMN meaning and run."""

from __future__ import annotations

from typing import Any

import pytest

from engine.headless import run_model
from engine.services.deployments import UploadedFile, check
from engine.settings import Settings
from tests.importer.bpmn_text import flow, model, script


def run(settings: Settings, content: bytes, data: dict[str, Any] | None = None) -> Any:
    return run_model([UploadedFile("m.bpmn", content)], settings, data or {}, {}, {})


def entry(settings: Settings, content: bytes, element_id: str) -> dict[str, Any]:
    _, report = check([UploadedFile("m.bpmn", content)], settings)
    found = [e for e in report.as_dict()["elements"] if e["element_id"] == element_id]
    assert found, f"{element_id} is not listed"
    return found[0]


IMPLICIT_SPLIT = model("\n".join([
    '<bpmn:startEvent id="s" />', script("a", "a = 1"), script("b", "b = 2"), script("c", "c = 3"),
    '<bpmn:parallelGateway id="join" />', '<bpmn:endEvent id="e" />',
    flow("f0", "s", "a"), flow("f1", "a", "b"), flow("f2", "a", "c"),
    flow("f3", "b", "join"), flow("f4", "c", "join"), flow("f5", "join", "e"),
]))


def test_implicit_split_runs_every_branch(settings: Settings) -> None:
    result = run(settings, IMPLICIT_SPLIT)
    assert result.status == "completed"
    assert result.data == {"a": 1, "b": 2, "c": 3}
    found = entry(settings, IMPLICIT_SPLIT, "a")
    assert found["status"] == "translated" and "parallel" in found["details"][0]


def conditional_out_of_task(default: bool) -> bytes:
    default_attribute = 'default="fd"' if default else ""
    return model("\n".join([
        '<bpmn:startEvent id="s" />',
        f'<bpmn:scriptTask id="t" scriptFormat="python" {default_attribute}>'
        "<bpmn:script>x = x</bpmn:script></bpmn:scriptTask>",
        script("big", "big = True"), script("small", "small = True"), script("always", "always = True"),
        script("fallback", "fallback = True"),
        '<bpmn:endEvent id="e1" />', '<bpmn:endEvent id="e2" />', '<bpmn:endEvent id="e3" />',
        '<bpmn:endEvent id="e4" />',
        flow("f0", "s", "t"), flow("fa", "t", "big", "x > 10"), flow("fb", "t", "small", "x < 5"),
        *([flow("fd", "t", "fallback")] if default else [flow("fc", "t", "always")]),
        flow("g1", "big", "e1"), flow("g2", "small", "e2"), flow("g3", "always", "e3"), flow("g4", "fallback", "e4"),
    ]))


@pytest.mark.parametrize(("x", "expected"), [(20, {"big", "always"}), (3, {"small", "always"}),
                                             (7, {"always"})])
def test_conditional_flows_out_of_an_activity_take_every_holding_flow(settings: Settings, x: int,
                                                                       expected: set[str]) -> None:
    result = run(settings, conditional_out_of_task(default=False), {"x": x})
    assert result.status == "completed"
    assert {k for k in ("big", "small", "always", "fallback") if result.data.get(k)} == expected


def test_the_default_flow_of_an_activity_is_taken_only_when_no_condition_holds(settings: Settings) -> None:
    model_with_default = conditional_out_of_task(default=True)
    assert {k for k in ("big", "small", "fallback") if run(settings, model_with_default, {"x": 7}).data.get(k)} == {
        "fallback"}
    assert not run(settings, model_with_default, {"x": 20}).data.get("fallback")


def gateway(dialect: str, bare: int, conditional: str | None = "x == 1") -> bytes:
    flows = [flow("c1", "g", "one", conditional)] if conditional else []
    flows += [flow(f"b{i}", "g", "two" if i == 0 else "three") for i in range(bare)]
    return model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:exclusiveGateway id="g" name="Which?" />',
        script("one", "path = 1"), script("two", "path = 2"), script("three", "path = 3"), '<bpmn:endEvent id="e" />',
        flow("f0", "s", "g"), *flows, flow("h1", "one", "e"), flow("h2", "two", "e"), flow("h3", "three", "e"),
    ]), dialect)


def test_one_unconditioned_flow_is_the_default_and_is_reported(settings: Settings) -> None:
    content = gateway("bpmn", bare=1)
    assert run(settings, content, {"x": 1}).data["path"] == 1
    assert run(settings, content, {"x": 5}).data["path"] == 2
    found = entry(settings, content, "g")
    assert found["status"] == "needs attention" and "taken as the default" in found["details"][0]


def test_several_unconditioned_flows_follow_the_order_of_the_file_in_camunda_7(settings: Settings) -> None:
    content = gateway("camunda7", bare=2)
    assert run(settings, content, {"x": 1}).data["path"] == 1
    assert run(settings, content, {"x": 0}).data["path"] == 2
    assert "first holding flow in the order of the file" in entry(settings, content, "g")["details"][0]


def drawn(content: bytes, heights: dict[str, int]) -> bytes:
    """`content` with a diagram placing each element of `heights` at that y (top is 0)."""
    shapes = "".join(f'<bpmndi:BPMNShape id="{e}_di" bpmnElement="{e}"><dc:Bounds x="100" y="{y}" width="100" '
                     'height="80" /></bpmndi:BPMNShape>' for e, y in heights.items())
    diagram = ('<bpmndi:BPMNDiagram id="d" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
               'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"><bpmndi:BPMNPlane id="pl" bpmnElement="p">'
               f"{shapes}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>")
    return content.replace(b"</bpmn:definitions>", diagram.encode() + b"</bpmn:definitions>")


@pytest.mark.parametrize("dialect", ["camunda7", "bpmn"])
def test_the_first_holding_flow_in_the_file_wins_wherever_it_is_drawn(settings: Settings, dialect: str) -> None:
    # SpiffWorkflow alone would try 'three' first, as it is drawn on top.
    conditions = [flow("c1", "g", "one", "x > 0"), flow("c2", "g", "two", "x > 5"), flow("b", "g", "three")]
    content = drawn(model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:exclusiveGateway id="g" />',
        script("one", "path = 1"), script("two", "path = 2"), script("three", "path = 3"), '<bpmn:endEvent id="e" />',
        flow("f0", "s", "g"), *conditions, flow("h1", "one", "e"), flow("h2", "two", "e"), flow("h3", "three", "e"),
    ]), dialect), {"three": 0, "two": 100, "one": 200})
    assert run(settings, content, {"x": 9}).data["path"] == 1
    assert run(settings, content, {"x": 0}).data["path"] == 3


def test_a_bare_flow_listed_before_the_others_always_wins_in_camunda_7(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:exclusiveGateway id="g" />', script("one", "path = 1"),
        script("two", "path = 2"), '<bpmn:endEvent id="e" />', flow("f0", "s", "g"), flow("b", "g", "one"),
        flow("c", "g", "two", "${x > 0}"), flow("h1", "one", "e"), flow("h2", "two", "e"),
    ]), "camunda7")
    assert run(settings, content, {"x": 9}).data["path"] == 1, "Camunda takes the first flow that holds"


def test_several_unconditioned_flows_are_refused_for_camunda_8(settings: Settings) -> None:
    loaded, report = check([UploadedFile("m.bpmn", gateway("camunda8", bare=2, conditional="=x = 1"))], settings)
    assert loaded is None
    [problem] = [p for p in report.problems if p.severity == "error" and p.element_id == "g"]
    assert "give each a condition" in problem.message and problem.line


def test_implicit_start_begins_with_every_node_without_incoming_flow(settings: Settings) -> None:
    content = model("\n".join([
        script("a", "a = 1"), script("b", "b = 2"), '<bpmn:endEvent id="e1" />', '<bpmn:endEvent id="e2" />',
        flow("f1", "a", "e1"), flow("f2", "b", "e2"),
    ]))
    result = run(settings, content)
    assert result.status == "completed" and result.data == {"a": 1, "b": 2}
    assert "implicit start" in entry(settings, content, "a")["details"][0]


def test_link_events_jump_to_their_catch(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', script("a", "a = 1"),
        '<bpmn:intermediateThrowEvent id="go"><bpmn:linkEventDefinition name="L" /></bpmn:intermediateThrowEvent>',
        '<bpmn:intermediateCatchEvent id="land"><bpmn:linkEventDefinition name="L" /></bpmn:intermediateCatchEvent>',
        script("b", "b = a + 1"), '<bpmn:endEvent id="e" />',
        flow("f0", "s", "a"), flow("f1", "a", "go"), flow("f2", "land", "b"), flow("f3", "b", "e"),
    ]))
    result = run(settings, content)
    assert result.status == "completed" and result.data == {"a": 1, "b": 2}
    assert entry(settings, content, "go")["status"] == "translated"


def test_an_empty_collapsed_subprocess_is_a_step(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:subProcess id="sub" name="Later" />', script("a", "a = 1"),
        '<bpmn:endEvent id="e" />', flow("f0", "s", "sub"), flow("f1", "sub", "a"), flow("f2", "a", "e"),
    ]))
    assert run(settings, content).status == "completed"
    assert entry(settings, content, "sub")["status"] == "needs attention"


def test_descriptive_models_import_with_a_report_and_do_not_deploy(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:task id="t" name="Do it" />',
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition /></bpmn:intermediateCatchEvent>',
        '<bpmn:endEvent id="e" />', flow("f0", "s", "t"), flow("f1", "t", "wait"), flow("f2", "wait", "e"),
    ]), executable="false")
    loaded, report = check([UploadedFile("m.bpmn", content)], settings)
    assert loaded is None
    assert [p.message for p in report.problems if p.severity == "error"] == [
        'no executable process: a deployment needs at least one bpmn:process that is not marked '
        'isExecutable="false"']
    statuses = {e.element_id: e.status for e in report.elements}
    assert statuses == {"s": "needs attention", "t": "needs attention", "wait": "needs attention",
                        "e": "needs attention", "f0": "executes", "f1": "executes", "f2": "executes"}
    assert report.files[0].executable is False


def test_a_timer_without_time_in_the_flow_is_unsupported(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:userTask id="t" />',
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition id="td" /></bpmn:intermediateCatchEvent>',
        '<bpmn:endEvent id="e" />', flow("f0", "s", "t"), flow("f1", "t", "wait"), flow("f2", "wait", "e"),
    ]))
    _, report = check([UploadedFile("m.bpmn", content)], settings)
    assert {e.element_id: e.status for e in report.elements}["wait"] == "unsupported"
    assert any("no date, duration or cycle" in p.message and p.line for p in report.problems)


def test_boundary_events_that_can_never_fire_are_left_out(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', script("t", "done = True"),
        '<bpmn:boundaryEvent id="b" attachedToRef="t" />',
        '<bpmn:boundaryEvent id="bt" attachedToRef="t"><bpmn:timerEventDefinition /></bpmn:boundaryEvent>',
        '<bpmn:endEvent id="e" />', '<bpmn:endEvent id="late" />',
        flow("f0", "s", "t"), flow("f1", "t", "e"), flow("f3", "b", "late"), flow("f4", "bt", "late"),
    ]))
    result = run(settings, content)
    assert result.status == "completed" and result.data == {"done": True}
    for boundary in ("b", "bt"):
        found = entry(settings, content, boundary)
        assert found["status"] == "needs attention" and "can never fire" in found["details"][0]


def test_a_subprocess_without_end_event_ends_where_its_paths_stop(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:subProcess id="sub"><bpmn:startEvent id="ss" />' + script("inner", "inner = 1")
        + flow("fs", "ss", "inner") + "</bpmn:subProcess>",
        script("after", "after = inner + 1"), '<bpmn:endEvent id="e" />',
        flow("f0", "s", "sub"), flow("f1", "sub", "after"), flow("f2", "after", "e"),
    ]))
    result = run(settings, content)
    assert result.status == "completed" and result.data == {"inner": 1, "after": 2}
    assert "implicit end" in entry(settings, content, "inner")["details"][0]


def test_data_stores_are_descriptive(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:task id="t"><bpmn:dataOutputAssociation id="out"><bpmn:targetRef>store</bpmn:targetRef>'
        "</bpmn:dataOutputAssociation></bpmn:task>",
        '<bpmn:dataStoreReference id="store" name="Registry" dataStoreRef="registry" />',
        '<bpmn:endEvent id="e" />', flow("f0", "s", "t"), flow("f1", "t", "e"),
    ])).replace(b"<bpmn:process ", b'<bpmn:dataStore id="registry" name="Registry" />\n<bpmn:process ', 1)
    loaded, report = check([UploadedFile("m.bpmn", content)], settings)
    assert loaded is not None, [str(p) for p in report.problems]
    assert entry(settings, content, "store")["status"] == "needs attention"
    assert "has no implementation" in entry(settings, content, "t")["details"][0]


def test_task_data_read_from_or_written_to_a_data_store_is_descriptive_too(settings: Settings) -> None:
    io = ('<bpmn:ioSpecification><bpmn:dataInput id="in" name="Employee" /><bpmn:dataOutput id="out" />'
          "<bpmn:inputSet><bpmn:dataInputRefs>in</bpmn:dataInputRefs></bpmn:inputSet>"
          "<bpmn:outputSet><bpmn:dataOutputRefs>out</bpmn:dataOutputRefs></bpmn:outputSet></bpmn:ioSpecification>")
    content = model("\n".join([
        '<bpmn:startEvent id="s" />',
        f'<bpmn:scriptTask id="t" scriptFormat="python">{io}'
        "<bpmn:dataInputAssociation><bpmn:sourceRef>store</bpmn:sourceRef><bpmn:targetRef>in</bpmn:targetRef>"
        "</bpmn:dataInputAssociation><bpmn:dataOutputAssociation><bpmn:sourceRef>out</bpmn:sourceRef>"
        "<bpmn:targetRef>store</bpmn:targetRef></bpmn:dataOutputAssociation>"
        "<bpmn:script>done = True</bpmn:script></bpmn:scriptTask>",
        '<bpmn:dataStoreReference id="store" name="Staff records" />',
        '<bpmn:endEvent id="e" />', flow("f0", "s", "t"), flow("f1", "t", "e"),
    ]))
    result = run(settings, content)
    assert result.status == "completed" and result.data == {"done": True}, "no input to wait for, no output owed"


def with_root(content: bytes, declarations: str) -> bytes:
    """`content` with `declarations` placed at the top of the file, beside the process."""
    return content.replace(b"</bpmn:definitions>", declarations.encode() + b"\n</bpmn:definitions>")


def test_an_event_that_names_a_reusable_definition_gets_a_copy_of_it(settings: Settings) -> None:
    content = with_root(model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:userTask id="t" />',
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:eventDefinitionRef>daily</bpmn:eventDefinitionRef>'
        "</bpmn:intermediateCatchEvent>",
        '<bpmn:endEvent id="e" />', flow("f0", "s", "t"), flow("f1", "t", "wait"), flow("f2", "wait", "e"),
    ])), '<bpmn:timerEventDefinition id="daily"><bpmn:timeDuration>PT24H</bpmn:timeDuration>'
         '</bpmn:timerEventDefinition>\n<bpmn:timerEventDefinition id="unused" />')
    result = run_model([UploadedFile("m.bpmn", content)], settings, {}, {"t": {}}, {})
    assert result.status == "waiting"
    assert [(w["task"], w["kind"], w["timer"]) for w in result.waiting] == [("wait", "timer", "duration")]
    found = entry(settings, content, "wait")
    assert found["status"] == "translated" and "reusable timerEventDefinition 'daily'" in found["details"][0]


def test_a_reference_to_an_undeclared_event_definition_is_reported(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:eventDefinitionRef>nowhere</bpmn:eventDefinitionRef>'
        "</bpmn:intermediateCatchEvent>",
        '<bpmn:endEvent id="e" />', flow("f0", "s", "wait"), flow("f1", "wait", "e"),
    ]))
    loaded, report = check([UploadedFile("m.bpmn", content)], settings)
    assert loaded is None
    assert any("event definition 'nowhere'" in p.message and p.element_id == "wait" for p in report.problems)


def test_a_reference_to_an_undeclared_escalation_leaves_an_unnamed_escalation(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:subProcess id="sub"><bpmn:startEvent id="ss" />'
        '<bpmn:endEvent id="raise"><bpmn:escalationEventDefinition escalationRef="missing" /></bpmn:endEvent>'
        + flow("fs", "ss", "raise") + "</bpmn:subProcess>",
        '<bpmn:boundaryEvent id="caught" attachedToRef="sub"><bpmn:escalationEventDefinition />'
        "</bpmn:boundaryEvent>",
        script("handled", "handled = True"), '<bpmn:endEvent id="e" />', '<bpmn:endEvent id="e2" />',
        flow("f0", "s", "sub"), flow("f1", "sub", "e"), flow("f2", "caught", "handled"), flow("f3", "handled", "e2"),
    ]))
    result = run(settings, content)
    assert result.status == "completed" and result.data == {"handled": True}, "caught by the catch-all boundary"
    found = entry(settings, content, "raise")
    assert found["status"] == "needs attention" and "escalationRef 'missing'" in found["details"][0]


def test_a_call_to_a_global_task_is_that_task(settings: Settings) -> None:
    content = with_root(model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:callActivity id="review" calledElement="bpmn:check" />',
        '<bpmn:endEvent id="e" />', flow("f0", "s", "review"), flow("f1", "review", "e"),
    ])), '<bpmn:globalUserTask id="check" name="Check the papers" />')
    waiting = run_model([UploadedFile("m.bpmn", content)], settings, {}, {}, {})
    assert waiting.status == "waiting" and [w["task"] for w in waiting.waiting] == ["review"]
    done = run_model([UploadedFile("m.bpmn", content)], settings, {}, {"review": {}}, {})
    assert done.status == "completed"
    found = entry(settings, content, "review")
    assert found["status"] == "translated" and "globalUserTask 'check'" in found["details"][0]


def test_a_qualified_called_element_names_the_process(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:callActivity id="call" calledElement="bpmn:helper" />',
        '<bpmn:endEvent id="e" />', flow("f0", "s", "call"), flow("f1", "call", "e"),
    ])).replace(b"</bpmn:definitions>", b'<bpmn:process id="helper" isExecutable="true"><bpmn:startEvent id="hs" />'
                + script("work", "worked = True").encode() + b'<bpmn:endEvent id="he" />'
                + flow("h0", "hs", "work").encode() + flow("h1", "work", "he").encode()
                + b"</bpmn:process></bpmn:definitions>")
    result = run(settings, content)
    assert result.status == "completed" and result.data == {"worked": True}
    assert "calledElement 'bpmn:helper' is the process 'helper'" in entry(settings, content, "call")["details"][0]


def test_a_loop_marker_without_condition_or_maximum_runs_once(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:scriptTask id="count" scriptFormat="python"><bpmn:standardLoopCharacteristics testBefore="false" />'
        "<bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>",
        '<bpmn:endEvent id="e" />', flow("f0", "s", "count"), flow("f1", "count", "e"),
    ]))
    result = run(settings, content, {"n": 0})
    assert result.status == "completed" and result.data == {"n": 1}
    found = entry(settings, content, "count")
    assert found["status"] == "needs attention" and "nothing makes it repeat" in found["details"][0]


@pytest.mark.parametrize(("dialect", "path"), [("bpmn", 2), ("camunda7", 1)])
def test_plain_bpmn_tries_flows_as_the_gateway_lists_them(settings: Settings, dialect: str, path: int) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:exclusiveGateway id="g"><bpmn:outgoing>c2</bpmn:outgoing><bpmn:outgoing>c1</bpmn:outgoing>'
        "</bpmn:exclusiveGateway>",
        script("one", "path = 1"), script("two", "path = 2"), '<bpmn:endEvent id="e" />',
        flow("f0", "s", "g"), flow("c1", "g", "one", "x > 0"), flow("c2", "g", "two", "x > 5"),
        flow("h1", "one", "e"), flow("h2", "two", "e"),
    ]), dialect)
    assert run(settings, content, {"x": 9}).data["path"] == path, "Camunda 7 goes by the sequenceFlow elements"


def test_a_gateway_with_no_way_out_ends_the_path(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:parallelGateway id="split" />', script("a", "a = 1"),
        script("b", "b = 2"), '<bpmn:exclusiveGateway id="merge" />', '<bpmn:endEvent id="e" />',
        flow("f0", "s", "split"), flow("f1", "split", "a"), flow("f2", "split", "b"), flow("f3", "a", "e"),
        flow("f4", "b", "merge"),
    ]))
    result = run(settings, content)
    assert result.status == "completed" and result.data == {"a": 1, "b": 2}
    assert "implicit end" in entry(settings, content, "merge")["details"][0]


def test_a_flow_across_a_subprocess_boundary_is_named(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:subProcess id="sub"><bpmn:startEvent id="ss" />' + script("inner", "x = 1")
        + '<bpmn:endEvent id="se" />' + flow("i0", "ss", "inner") + flow("i1", "inner", "se") + "</bpmn:subProcess>",
        '<bpmn:endEvent id="e" />', flow("f0", "s", "sub"), flow("f1", "sub", "e"), flow("leak", "inner", "e"),
    ]))
    loaded, report = check([UploadedFile("m.bpmn", content)], settings)
    assert loaded is None
    [problem] = [p for p in report.problems if p.severity == "error"]
    assert problem.element_id == "leak" and "crosses the boundary of a subprocess" in problem.message


def event_gateway(choices: str) -> bytes:
    return model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:eventBasedGateway id="g" />', choices,
        '<bpmn:intermediateCatchEvent id="late"><bpmn:timerEventDefinition /></bpmn:intermediateCatchEvent>',
        script("remind", "reminded = True"), '<bpmn:endEvent id="e" />',
        flow("f0", "s", "g"), flow("f2", "g", "late"), flow("f3", "late", "remind"), flow("f4", "remind", "e"),
    ])).replace(b"</bpmn:definitions>", b'<bpmn:message id="m" name="paid" /></bpmn:definitions>')


def test_an_untimed_timer_among_event_gateway_choices_is_left_out(settings: Settings) -> None:
    content = event_gateway('<bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="m" />'
                            '</bpmn:intermediateCatchEvent><bpmn:endEvent id="done" />'
                            + flow("f1", "g", "paid") + flow("f5", "paid", "done"))
    result = run(settings, content)
    assert result.status == "waiting" and [(w["task"], w["kind"]) for w in result.waiting] == [("g", "message")]
    found = entry(settings, content, "late")
    assert found["status"] == "needs attention" and "waits for its other events" in found["details"][0]


def test_an_untimed_timer_that_is_the_only_choice_is_refused(settings: Settings) -> None:
    loaded, report = check([UploadedFile("m.bpmn", event_gateway(""))], settings)
    assert loaded is None
    assert any("no date, duration or cycle; give it one" in p.message for p in report.problems)


def test_a_call_activity_that_names_no_process_is_refused_by_name(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:callActivity id="call" name="Check the registry" />',
        '<bpmn:endEvent id="e" />', flow("f0", "s", "call"), flow("f1", "call", "e"),
    ]))
    loaded, report = check([UploadedFile("m.bpmn", content)], settings)
    assert loaded is None
    [problem] = [p for p in report.problems if p.severity == "error"]
    assert problem.element_id == "call" and problem.line == 5
    assert "'Check the registry' names no process to call" in problem.message


def test_conditions_with_comments_keep_their_order(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:exclusiveGateway id="g" />',
        script("one", "path = 1"), script("two", "path = 2"), '<bpmn:endEvent id="e" />',
        flow("f0", "s", "g"), flow("c1", "g", "one", "x > 1  # a big one\n"), flow("c2", "g", "two", "x > 0"),
        flow("h1", "one", "e"), flow("h2", "two", "e"),
    ]))
    assert run(settings, content, {"x": 5}).data["path"] == 1
    assert run(settings, content, {"x": 1}).data["path"] == 2


def test_a_bare_flow_the_gateway_lists_first_wins_in_plain_bpmn(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />',
        '<bpmn:exclusiveGateway id="g"><bpmn:outgoing>b</bpmn:outgoing><bpmn:outgoing>c</bpmn:outgoing>'
        "</bpmn:exclusiveGateway>",
        script("one", "path = 1"), script("two", "path = 2"), '<bpmn:endEvent id="e" />',
        flow("f0", "s", "g"), flow("c", "g", "two", "x > 0"), flow("b", "g", "one"),
        flow("h1", "one", "e"), flow("h2", "two", "e"),
    ]))
    assert run(settings, content, {"x": 1}).data["path"] == 1, "b comes first in the gateway's list"


def test_a_receive_task_waiting_for_an_undeclared_message_is_refused(settings: Settings) -> None:
    content = model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:receiveTask id="wait" messageRef="nowhere" />',
        '<bpmn:endEvent id="e" />', flow("f0", "s", "wait"), flow("f1", "wait", "e"),
    ]))
    loaded, report = check([UploadedFile("m.bpmn", content)], settings)
    assert loaded is None
    assert [p.element_id for p in report.problems if p.severity == "error"] == ["wait"]
    assert "waits for message 'nowhere', which this file does not declare" in report.problems[0].message


def test_two_calls_to_one_global_task_get_their_own_copies(settings: Settings) -> None:
    content = with_root(model("\n".join([
        '<bpmn:startEvent id="s" />', '<bpmn:callActivity id="first" calledElement="count" />',
        '<bpmn:callActivity id="second" calledElement="count" />', '<bpmn:endEvent id="e" />',
        flow("f0", "s", "first"), flow("f1", "first", "second"), flow("f2", "second", "e"),
    ])), '<bpmn:globalScriptTask id="count" scriptFormat="python"><bpmn:ioSpecification id="io">'
         '<bpmn:inputSet id="in" /><bpmn:outputSet id="out" /></bpmn:ioSpecification>'
         "<bpmn:script>n = n + 1</bpmn:script></bpmn:globalScriptTask>")
    result = run(settings, content, {"n": 0})
    assert result.status == "completed" and result.data == {"n": 2}
    loaded, _ = check([UploadedFile("m.bpmn", content)], settings)
    assert loaded is not None
    ids = [n.get("id") for n in loaded.compiled.documents[0].root.iter() if isinstance(n.tag, str) and n.get("id")]
    assert len(ids) == len(set(ids)), "every copy has ids of its own"

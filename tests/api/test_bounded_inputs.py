"""Bounded input on every route: data nested past the limit, bodies of any depth, integers
past 64 bits, text no database keeps, non-finite numbers and oversized bodies are refused
with 422 (413 for size) naming the field and the limit; never a 500, never stored.

The routes are found in the OpenAPI, so a route added later is covered without editing this
file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.schemas import MAX_INT
from engine.services.runtime import Runtime
from tests.api.test_commit_before_answer import WRITES
from tests.api.world import build_world
from tests.fixtures import Tokens, model_files
from tests.web.journey import PDF

WHO = {"admin": "admin", "analyst": "analyst", "citizen": "citizen", "staff": "staff_guild"}


def _operations(client: TestClient) -> Iterator[tuple[str, str, dict[str, Any]]]:
    spec = client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def _json_routes(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    found = [(m, p, o) for m, p, o in _operations(client)
             if "application/json" in o.get("requestBody", {}).get("content", {})]
    assert len(found) >= 7, "start, terminate, complete, service-call result and error, messages, signals"
    return found


DUMMIES = {"key": "approval", "instance_id": "i", "task_id": "t", "call_id": "c"}


def _url(path: str, **values: str) -> str:
    """`path` with each parameter filled in: `values` first, then a harmless dummy."""
    for name, value in {**DUMMIES, **values}.items():
        path = path.replace("{" + name + "}", value)
    return path.replace("{deployment_id}", "1").replace("{incident_id}", "1")


def _caller(operation: dict[str, Any], tokens: Tokens) -> dict[str, str]:
    role = next(r for r in ("admin", "analyst", "staff", "citizen") if r in operation["x-roles"])
    return tokens.headers(WHO[role])


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def _refused(response: Any, *words: str) -> dict[str, Any]:
    assert response.status_code == 422, (response.request.url, response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert isinstance(body["detail"], str) and body["errors"], body
    assert not body["detail"].startswith(":"), "an error about the whole body names no empty field"
    text = response.text
    assert all(word in text for word in words), (words, text)
    return body


@pytest.fixture
def deployed(client: TestClient, tokens: Tokens) -> None:
    assert client.post("/api/v1/deployments", files=model_files("approval.bpmn"),
                       headers=tokens.headers("analyst")).status_code == 201


def test_data_nests_up_to_the_limit_and_no_further(client: TestClient, tokens: Tokens, runtime: Runtime,
                                                   deployed: None) -> None:
    limit = runtime.settings.max_data_depth
    headers = tokens.headers("analyst")
    started = client.post("/api/v1/processes/approval/instances", json={"data": {"x": _nested(limit - 1)}},
                          headers=headers)
    assert started.status_code == 201, started.text
    assert client.get(f"/api/v1/instances/{started.json()['id']}", headers=headers).status_code == 200
    body = _refused(client.post("/api/v1/processes/approval/instances", json={"data": {"x": _nested(limit)}},
                                headers=headers), str(limit), "PANJEREH_MAX_DATA_DEPTH")
    assert body["errors"][0]["field"] == "data"
    [task] = client.get("/api/v1/tasks", params={"instance_id": started.json()["id"]}, headers=headers).json()
    _refused(client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"purpose": _nested(limit)}},
                         headers=headers), "PANJEREH_MAX_DATA_DEPTH")


def test_every_json_route_refuses_data_past_the_depth_limit(client: TestClient, tokens: Tokens,
                                                            runtime: Runtime) -> None:
    limit = runtime.settings.max_data_depth
    for method, path, operation in _json_routes(client):
        # Each data-carrying field of any route (start and task data, message and signal payloads,
        # service-call results), and a field no route has: the limit holds for all of them.
        for field in ("data", "payload", "result", "unexpected"):
            response = client.request(method, _url(path), json={field: _nested(limit + 1)},
                                      headers=_caller(operation, tokens))
            assert _refused(response, "PANJEREH_MAX_DATA_DEPTH")["errors"][0]["field"] == field


def test_a_body_nested_a_hundred_thousand_deep_is_refused_before_parsing(client: TestClient,
                                                                           tokens: Tokens) -> None:
    for nesting in ("[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
        for method, path, operation in _json_routes(client):
            response = client.request(method, _url(path), content=f'{{"data": {nesting}}}',
                                      headers={**_caller(operation, tokens), "Content-Type": "application/json"})
            _refused(response, "PANJEREH_MAX_DATA_DEPTH")


def test_integers_past_64_bits_are_refused_wherever_the_api_takes_one(client: TestClient, tokens: Tokens) -> None:
    """Every integer in the contract is bounded, and a bigger one is 404 or 422, never 500."""
    checked = 0
    for method, path, operation in _operations(client):
        for parameter in operation.get("parameters", []):
            if parameter["schema"].get("type") != "integer" and not any(
                    option.get("type") == "integer" for option in parameter["schema"].get("anyOf", [])):
                continue
            in_path = parameter["in"] == "path"
            # Past PostgreSQL's integer, past SQLite's and bigint's, and past both.
            for huge in (str(2**31), str(2**63), str(2**64), str(-(2**63) - 1)):
                url = _url(path, **({parameter["name"]: huge} if in_path else {}))
                response = client.request(method, url, params=None if in_path else {parameter["name"]: huge},
                                          headers=_caller(operation, tokens))
                assert response.status_code in (404, 422), (method, url, response.status_code, response.text)
            checked += 1
    assert checked >= 2
    spec = client.get("/openapi.json").json()
    inputs = [(f"{m} {p} {q['name']}", q["schema"]) for m, p, o in _operations(client) for q in o.get("parameters", [])]
    inputs += [(f"{m} {p} body", o["requestBody"]) for m, p, o in _operations(client) if "requestBody" in o]
    integers = [(name, found) for name, schema in inputs for found in _integer_schemas(spec, schema)]
    assert len(integers) >= 4
    for name, schema in integers:
        assert schema.get("maximum", MAX_INT + 1) <= MAX_INT, f"{name} takes integers of any size"


def _integer_schemas(spec: dict[str, Any], node: Any, seen: frozenset[str] = frozenset()) -> Iterator[dict[str, Any]]:
    """Integer schemas reachable from `node`, following references into the components."""
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference not in seen:
            yield from _integer_schemas(spec, spec["components"]["schemas"][reference.rsplit("/", 1)[1]],
                                        seen | {reference})
        if node.get("type") == "integer":
            yield node
        for value in node.values():
            yield from _integer_schemas(spec, value, seen)
    elif isinstance(node, list):
        for value in node:
            yield from _integer_schemas(spec, value, seen)


def test_values_no_database_keeps_are_refused(client: TestClient, tokens: Tokens, deployed: None) -> None:
    headers = {**tokens.headers("analyst"), "Content-Type": "application/json"}
    start = "/api/v1/processes/approval/instances"
    for body, field in ((f'{{"data": {{"n": {2**64}}}}}', "data.n"), ('{"data": {"n": NaN}}', "data.n"),
                        ('{"data": {"n": -Infinity}}', "data.n"), ('{"data": {"n": 1e999}}', "data.n"),
                        ('{"data": {"s": "a\\u0000b"}}', "data.s"), ('{"data": {"a\\u0000": 1}}', "data.a\x00"),
                        ('{"data": {"s": "\\ud800"}}', "data.s"), ('{"data": {"s": ["ok", "\\udfff"]}}', "data.s.1"),
                        ('{"data": {}, "version": ' + str(2**64) + "}", "version"),
                        ('{"data": {}, "version": ' + str(2**31) + "}", "version")):
        refused = _refused(client.post(start, content=body, headers=headers))
        assert field in [e["field"] for e in refused["errors"]], (body, refused)
    _refused(client.post(start, content='{"data": {"n": ' + "9" * 100_000 + "}}", headers=headers), "digits")
    _refused(client.post(start, json={"data": {"n": -MAX_INT - 1}}, headers=headers), str(MAX_INT))
    _refused(client.post(start, content=b'{"data": {"s": "\xff"}}', headers=headers), "UTF-8")
    _refused(client.post(start, content='{"data": ', headers=headers), "not valid JSON")
    assert client.get("/api/v1/instances", headers=tokens.headers("analyst")).json() == [], "nothing was stored"
    edge = client.post(start, json={"data": {"n": MAX_INT, "m": -MAX_INT, "f": 0.25}}, headers=headers)
    assert edge.status_code == 201, edge.text
    stored = client.get(f"/api/v1/instances/{edge.json()['id']}", headers=tokens.headers("analyst")).json()
    assert (stored["data"]["n"], stored["data"]["m"], stored["data"]["f"]) == (MAX_INT, -MAX_INT, 0.25)


def test_parameters_with_the_nul_character_are_refused(client: TestClient, tokens: Tokens) -> None:
    checked = 0
    for method, path, operation in _operations(client):
        if "public" in operation["x-roles"]:
            continue
        texts = [p for p in operation.get("parameters", []) if "string" in str(p["schema"]) and "enum" not in str(
            p["schema"])]
        for parameter in texts:
            in_path = parameter["in"] == "path"
            url = _url(path, **({parameter["name"]: "a%00b"} if in_path else {}))
            body = {} if "requestBody" in operation else None
            response = client.request(method, url, params=None if in_path else {parameter["name"]: "a\x00b"},
                                      headers=_caller(operation, tokens), json=body)
            refused = _refused(response, "NUL")
            assert refused["errors"][0]["field"] == parameter["name"]
            checked += 1
    assert checked >= 8


def test_bodies_over_their_limit_are_refused_with_413(client: TestClient, tokens: Tokens, runtime: Runtime,
                                                      deployed: None) -> None:
    headers = tokens.headers("analyst")
    big = "x" * (runtime.settings.max_data_bytes + 100 * 1024)
    declared = client.post("/api/v1/processes/approval/instances", json={"data": {"s": big}}, headers=headers)
    assert declared.status_code == 413 and "bytes" in declared.json()["detail"], declared.text

    def chunks() -> Iterator[bytes]:
        yield b'{"data": {"s": "'
        for _ in range(big.__len__() // 65536 + 1):
            yield b"x" * 65536
        yield b'"}}'

    chunked = client.post("/api/v1/processes/approval/instances", content=chunks(),
                          headers={**headers, "Content-Type": "application/json"})
    assert chunked.status_code == 413, chunked.text


def _multipart(field: str, name: bytes, content: bytes) -> tuple[bytes, str]:
    """A multipart body written by hand, so the file name reaches the server byte for byte."""
    boundary = "panjereh-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"".encode() + name
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + content + f"\r\n--{boundary}--\r\n".encode())
    return body, f"multipart/form-data; boundary={boundary}"


def test_file_names_no_database_keeps_are_refused(client: TestClient, tokens: Tokens) -> None:
    [(_, (_, model, _))] = model_files("approval.bpmn")
    for name in (b"deed\x00", b"d" * 300, b"tab\tin"):
        body, kind = _multipart("file", name + b".pdf", PDF)
        _refused(client.post("/api/v1/uploads", content=body,
                             headers={**tokens.headers("citizen"), "Content-Type": kind}), "file names")
        body, kind = _multipart("files", name + b".bpmn", model)
        _refused(client.post("/api/v1/deployments", content=body,
                             headers={**tokens.headers("analyst"), "Content-Type": kind}), "file names")


def _lengthened(value: Any, length: int) -> Any:
    """`value` with every string made `length` characters long, and a long-named, long entry in every object."""
    if isinstance(value, str):
        return (value + "x" * length)[:length]
    if isinstance(value, list):
        return [_lengthened(item, length) for item in value]
    if isinstance(value, dict):
        grown = {key: _lengthened(item, length) for key, item in value.items()}
        return {**grown, "n" * 300: "v" * length} if "name" not in value else grown
    return value


def test_every_write_keeps_text_of_any_length_or_refuses_it(client: TestClient, tokens: Tokens,
                                                            runtime: Runtime) -> None:
    """On PostgreSQL a string past its column's length fails the statement: every route that takes
    text takes it whole (data, payloads, correlations) or refuses it naming the limit, never 500."""
    world = build_world(client, tokens)
    answers: dict[str, list[int]] = {}
    for (_, path), make in WRITES.items():
        call = make(world)
        if "json" not in call.body:
            continue
        for length in (256, 501, 10_000):
            call.body["json"] = _lengthened(make(world).body["json"], length)
            response = client.post(call.url, headers=tokens.headers(call.role), **call.body)
            assert response.status_code < 500, (path, length, response.status_code, response.text[:300])
            if response.status_code == 422:
                assert response.json()["errors"], (path, response.text[:300])
            answers.setdefault(path, []).append(response.status_code)
    assert len(answers) >= 6
    taken = [path for path, codes in answers.items() if 200 in codes]
    assert {"/api/v1/tasks/{task_id}/complete", "/api/v1/service-calls/{call_id}/complete"} <= set(taken), answers

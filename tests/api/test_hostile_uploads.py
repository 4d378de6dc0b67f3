"""Uploads are untrusted: no file is read and no request made because of one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient

from tests.fixtures import Tokens


class _Recorder(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY x "pwned">')

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def listener() -> Iterator[str]:
    """A local HTTP server that records any request an upload might trigger."""
    _Recorder.hits = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _upload(client: TestClient, tokens: Tokens, body: bytes, name: str = "evil.bpmn"):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/deployments", files=[("files", (name, body, "text/xml"))],
                       headers=tokens.headers("analyst"))


BPMN_HEAD = b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">'


@pytest.mark.parametrize("body, words", [
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + BPMN_HEAD
     + b"<bpmn:process id='p'>&x;</bpmn:process></bpmn:definitions>", "DOCTYPE"),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
     b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY e "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
     + BPMN_HEAD + b"<bpmn:documentation>&e;&e;&e;&e;</bpmn:documentation></bpmn:definitions>", "DOCTYPE"),
    (b"PK\x03\x04\x14\x00binary zip", "not an XML document"),
    (b"<bpmn:definitions><unclosed>", "not well-formed"),
    (b"", "empty"),
    (b"<a>" * 400 + b"</a>" * 400, "nest deeper"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "not a BPMN 2.0 or DMN document"),
])
def test_hostile_xml_is_refused_with_a_reason(client: TestClient, tokens: Tokens, body: bytes, words: str) -> None:
    response = _upload(client, tokens, body)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert client.get("/api/v1/deployments", headers=tokens.headers("analyst")).json() == []


def test_external_dtd_and_entities_make_no_request(client: TestClient, tokens: Tokens, listener: str) -> None:
    payloads = [
        f'<?xml version="1.0"?><!DOCTYPE d SYSTEM "{listener}/evil.dtd">'.encode() + BPMN_HEAD
        + b"</bpmn:definitions>",
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "{listener}/p.dtd"> %p;]>'.encode() + BPMN_HEAD
        + b"</bpmn:definitions>",
        BPMN_HEAD + f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{listener}/x"/>'.encode()
        + b"</bpmn:definitions>",
        BPMN_HEAD.replace(b'targetNamespace="x"', f'xsi:schemaLocation="x {listener}/s.xsd" '.encode()
                          + b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" targetNamespace="x"')
        + b"</bpmn:definitions>",
    ]
    for body in payloads:
        response = _upload(client, tokens, body)
        assert 400 <= response.status_code < 500, response.text
    assert _Recorder.hits == []


def test_file_over_the_size_cap_is_413(client: TestClient, tokens: Tokens) -> None:
    cap = client.app.state.runtime.settings.max_upload_bytes  # type: ignore[attr-defined]
    body = BPMN_HEAD + b"<!--" + b"x" * cap + b"--></bpmn:definitions>"
    response = _upload(client, tokens, body)
    assert response.status_code == 413
    assert "over the limit" in response.json()["detail"]


def test_only_model_files_are_accepted(client: TestClient, tokens: Tokens) -> None:
    response = _upload(client, tokens, b"#!/bin/sh\necho hi\n", name="run.sh")
    assert response.status_code == 422
    assert "only .bpmn, .dmn and form" in response.json()["detail"]


def test_oversized_request_is_refused_before_reading(client: TestClient, tokens: Tokens) -> None:
    settings = client.app.state.runtime.settings  # type: ignore[attr-defined]
    declared = str(settings.max_upload_bytes * settings.max_files_per_deployment + 2 * 1024 * 1024)
    response = client.post("/api/v1/deployments", content=b"x" * 10,
                           headers={**tokens.headers("analyst"), "Content-Length": declared,
                                    "Content-Type": "multipart/form-data; boundary=x"})
    assert response.status_code == 413
    assert "over the limit" in response.json()["detail"]


def test_documents_are_judged_by_their_content(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers("citizen")
    disguised = client.post("/api/v1/uploads", files={"file": ("scan.pdf", b"<html><script>alert(1)</script>",
                                                                "application/pdf")}, headers=headers)
    assert disguised.status_code == 422 and "judged by its content" in disguised.json()["detail"]
    real = client.post("/api/v1/uploads", files={"file": ("../../etc/scan.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64,
                                                           "text/html")}, headers=headers)
    assert real.status_code == 201
    assert real.json()["media_type"] == "image/png" and real.json()["name"] == "scan.png"


def _process(body: str) -> bytes:
    return (BPMN_HEAD + b'<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>' + body.encode()
            + b'<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>'
            b"</bpmn:process></bpmn:definitions>")


@pytest.mark.parametrize("body, words", [
    # The parser's own stack overflows: ast.parse raised MemoryError, answered 500.
    ('<bpmn:scriptTask id="t"><bpmn:script>x = ' + "-" * 30_000 + "1</bpmn:script></bpmn:scriptTask>",
     "nested too deeply"),
    ('<bpmn:scriptTask id="t"><bpmn:script>x = ' + "not " * 20_000 + "1</bpmn:script></bpmn:scriptTask>",
     "nested too deeply"),
    # Not processed, and not BPMN either: it deployed with a schema warning.
    ('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>',
     "not part of BPMN"),
    ('<bpmn:task id="t"><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="x.bpmn"/></bpmn:task>',
     "not part of BPMN"),
])
def test_model_text_no_parser_takes_is_a_422(client: TestClient, tokens: Tokens, body: str, words: str) -> None:
    response = _upload(client, tokens, _process(body))
    assert response.status_code == 422, response.text[:500]
    assert words in response.text
    assert client.get("/api/v1/deployments", headers=tokens.headers("analyst")).json() == []

"""Benchmark (not a test): does the server answer while hostile models run?

Starts `panjereh serve` as a new user would (its own SQLite file), deploys a model whose
script never ends, and starts it from several clients at once. The script's CPU limit is
raised far above the worker's wall-clock limit, so only the kill ends it (as for one long C
call the sandbox cannot interrupt). Meanwhile `/api/v1/health` is asked every 50 ms; the
script prints the slowest answer, how the hostile starts were answered, and the server's
resident memory before and after (the workers' memory is theirs, not the server's).

Set PANJEREH_DATABASE_URL to run it on PostgreSQL. On SQLite (one writer at a time) a change
holds the write lock while its model code runs, so the other hostile starts wait for it and
are answered 503 with Retry-After after PANJEREH_DATABASE_TIMEOUT_SECONDS; on PostgreSQL
each is stopped in its own worker and answered 422.

Usage: .venv/bin/python tests/benchmarks/health_under_hostile_model.py [CLIENTS]   (default 4)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOSTILE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
<bpmn:process id="hostile" isExecutable="true">
<bpmn:startEvent id="s"/><bpmn:scriptTask id="spin" scriptFormat="python"><bpmn:script>a = [0]
while True:
    a = [a[0] + 1]</bpmn:script></bpmn:scriptTask><bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="spin"/><bpmn:sequenceFlow id="f1" sourceRef="spin" targetRef="e"/>
</bpmn:process></bpmn:definitions>"""


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(clients: int) -> None:
    with tempfile.TemporaryDirectory() as var:
        env = {**os.environ, "PANJEREH_VAR_DIR": var, "PANJEREH_SCRIPT_CPU_SECONDS": "600",
               "PANJEREH_MAX_CHANGE_SECONDS": "600", "PANJEREH_MODEL_WALL_SECONDS": "15",
               "PANJEREH_ADMIN_TOKEN": "bench-admin-token-0123456789"}
        port = _port()
        server = subprocess.Popen([str(BIN / "panjereh"), "serve", "--port", str(port)], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": "Bearer bench-admin-token-0123456789"}
        try:
            for _ in range(600):
                try:
                    if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            deployed = httpx.post(base + "/api/v1/deployments", headers=headers, timeout=60,
                                  files=[("files", ("hostile.bpmn", HOSTILE, "application/xml"))])
            assert deployed.status_code == 201, deployed.text
            before = _rss_mb(server.pid)
            answers: list[int] = []

            def hostile() -> None:
                answers.append(httpx.post(base + "/api/v1/processes/hostile/instances", json={"data": {}},
                                          headers=headers, timeout=300).status_code)

            threads = [threading.Thread(target=hostile) for _ in range(clients)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            slowest, asked = 0.0, 0
            while any(thread.is_alive() for thread in threads):
                ask = time.perf_counter()
                httpx.get(base + "/api/v1/health", timeout=30)
                slowest, asked = max(slowest, time.perf_counter() - ask), asked + 1
                time.sleep(0.05)
            took = time.perf_counter() - started
            after = _rss_mb(server.pid)
            print(f"{clients} hostile starts answered {sorted(answers)} after {took:.1f} s")
            print(f"/health asked {asked} times meanwhile, slowest answer {slowest * 1000:.0f} ms")
            print(f"server resident memory {before:.0f} MB before, {after:.0f} MB after")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4)

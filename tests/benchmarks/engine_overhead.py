"""Benchmark (not a test): what the engine costs on top of bare SpiffWorkflow.

Runs the business licence service N times start to end and prints ms per instance and the
ratio to raw:
  raw       SpiffWorkflow in memory: parse once, run, answer the two service tasks and the
            three user tasks directly;
  core      the same through `engine.core` (our runtime, in memory);
  sqlite    the engine's services on a SQLite file (state, projections, outbox, connector
            jobs, data-use records, audit, commits); the agencies answer through an
            in-process transport with the same canned answers, so no network time is counted;
  postgres  the same on PostgreSQL, when PANJEREH_BENCH_PG_URL (or the CI default) answers.

Then the script sandbox on its own: a condition, a loop over records and a string built in a
loop, each through `SandboxedEnvironment` and through plain eval/exec, in µs per run.

Usage: .venv/bin/python tests/benchmarks/engine_overhead.py [N] [--sandbox-only]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import text

from engine.compose import build_runtime
from engine.core.execution import Execution, make_script_engine
from engine.core.sandbox import SandboxedEnvironment
from engine.security.principals import Principal, Role
from engine.services import instances, queries, uploads
from engine.services.catalogue import deploy_service, read_service
from engine.services.deployments import check
from engine.services.runtime import Runtime
from engine.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SERVICE = ROOT / "processes" / "business_licence"
ANSWERS = {
    "apply": {"business_name": "نان سنگک", "activity": "food", "area_m2": 40,
     "premises_document": "0d6f3c1e-2b8a-4c39-9a7e-5b1f2e3d4c5a"},
    "inspect": {"inspection_passed": True},
    "review": {"review_outcome": "approve"},
}
PERSON = {"national_code": "0013542419", "first_name": "علی", "last_name": "رضایی", "father_name": "حسن",
          "birth_date": "1365/04/12", "gender": "male", "alive": True, "postal_code": "1193653471"}
ADDRESS = {"postal_code": "1193653471", "province": "تهران", "city": "تهران", "street": "خیابان انقلاب",
           "alley": "کوچه لاله", "plaque": 12, "floor": 3, "unit": 7}
RESULTS = {"fetch_person": PERSON, "fetch_address": ADDRESS}
START = {"applicant_national_code": "0013542419"}
SOAP_ANSWER = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:post="urn:panjereh:sandbox:post">'
    "<soap:Body><post:GetAddressByPostalCodeResponse><post:Address>"
    + "".join(f"<post:{tag}>{ADDRESS[key]}</post:{tag}>" for tag, key in (
        ("PostalCode", "postal_code"), ("Province", "province"), ("City", "city"), ("Street", "street"),
        ("Alley", "alley"), ("Plaque", "plaque"), ("Floor", "floor"), ("Unit", "unit")))
    + "</post:Address></post:GetAddressByPostalCodeResponse></soap:Body></soap:Envelope>").encode()


def agencies(request: httpx.Request) -> httpx.Response:
    """The registry and the post, answering in-process."""
    if request.url.path.endswith("/soap"):
        return httpx.Response(200, content=SOAP_ANSWER, headers={"Content-Type": "text/xml; charset=utf-8"})
    return httpx.Response(200, json=PERSON)


PG_URL = os.environ.get("PANJEREH_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def raw_once(compiled: object, script_engine: object) -> None:
    execution = Execution.start(compiled, "business_licence", dict(START), script_engine)  # type: ignore[arg-type]
    execution.advance()
    while True:
        if calls := execution.service_calls():
            execution.complete_service_task(calls[0].task_id, RESULTS[calls[0].spec_id])
        elif tasks := execution.human_tasks():
            execution.complete_human_task(tasks[0].id, ANSWERS[tasks[0].spec_id])
        else:
            break
    assert execution.status == "completed"


def bare_spiff_once(spec: object, subprocess_specs: object, script_engine: object) -> None:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
    workflow.get_next_task(state=TaskState.READY).data.update(START)
    workflow.do_engine_steps()
    while True:
        if task := workflow.get_next_task(state=TaskState.STARTED):
            task.data[task.task_spec.result_variable] = RESULTS[task.task_spec.bpmn_id]
            task.complete()
        elif task := workflow.get_next_task(state=TaskState.READY, manual=True):
            task.data.update(ANSWERS[task.task_spec.bpmn_id])
            task.run()
        else:
            break
        workflow.do_engine_steps()
    assert workflow.is_completed()


def engine_once(runtime: Runtime, who: Principal) -> None:
    with runtime.unit_of_work() as session:
        instance = instances.start(session, runtime, who, "business_licence", dict(START))
        instance_id = instance.id
    while True:
        with runtime.unit_of_work() as session:
            ready = queries.list_tasks(session, who, instance_id, "ready")
            if not ready:
                break
            row = queries.load_task(session, who, ready[0].id, for_update=True)
            answers = dict(ANSWERS[row.name])
            if "premises_document" in answers:
                # A document belongs to one application: each run uploads its own, as a citizen would.
                answers["premises_document"] = uploads.store(
                    session, runtime.settings.var_dir / "uploads", "bench", "lease.pdf",
                    b"%PDF-1.4 benchmark lease").id
            instances.complete_task(session, runtime, who, row, answers)
    with runtime.reading() as session:
        assert queries.list_instances(session, who)[0].status == "completed"


def measure(label: str, n: int, once: Callable[[], None]) -> float:
    for _ in range(min(5, n)):
        once()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        once()
        samples.append((time.perf_counter() - start) * 1000)
    median = statistics.median(samples)
    print(f"{label:<10} n={n:<5} median {median:8.3f} ms   mean {statistics.fmean(samples):8.3f} ms   "
          f"p90 {sorted(samples)[int(n * 0.9) - 1]:8.3f} ms", flush=True)
    return median


def engine_runtime(url: str, var: Path) -> Runtime:
    runtime = build_runtime(Settings(database_url=url, var_dir=var), connector_transport=httpx.MockTransport(agencies))
    deploy_service(runtime, SERVICE)
    with runtime.unit_of_work() as session:
        lease = uploads.store(session, var / "uploads", "bench", "lease.pdf", b"%PDF-1.4 benchmark lease")
    ANSWERS["apply"]["premises_document"] = lease.id
    return runtime


CONDITION = "age >= 65 and permit_type == 'building' or area > 120"
RECORDS = """
total = 0
items = [{'amount': i, 'code': 'c' + str(i)} for i in range(200)]
for item in items:
    if item['amount'] % 3 == 0 and item['code'] not in skipped:
        total += item['amount']
codes = sorted(item['code'].upper() for item in items if item['amount'] > 150)
summary = f"{len(codes)} codes, total {total:,}: {', '.join(codes[:3])}"
"""
TEXT = """
text = ''
for i in range(300):
    text = text + str(i) + ','
parts = text.split(',')
counts = {}
for part in parts:
    counts[part[:1]] = counts.get(part[:1], 0) + 1
"""


def sandbox_overhead(n: int) -> None:
    """µs per run of three workloads, sandboxed and plain, and their ratio."""
    env = SandboxedEnvironment()
    variables = {"age": 70, "permit_type": "building", "area": 80, "skipped": ["c3", "c9"]}
    # The baseline is compiled once, as the sandbox caches its compiled code.
    condition, records, text_code = (compile(CONDITION, "<bench>", "eval"), compile(RECORDS, "<bench>", "exec"),
                                     compile(TEXT, "<bench>", "exec"))
    workloads: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "condition": (lambda: env.evaluate(CONDITION, dict(variables)), lambda: eval(condition, dict(variables))),
        "records": (lambda: env.execute(RECORDS, dict(variables)), lambda: exec(records, dict(variables))),
        "text": (lambda: env.execute(TEXT, dict(variables)), lambda: exec(text_code, dict(variables))),
    }
    print("\nsandbox (µs per run, median):")
    for label, (sandboxed, plain) in workloads.items():
        times = []
        for run in (sandboxed, plain):
            for _ in range(min(20, n)):
                run()
            samples = []
            for _ in range(n):
                start = time.perf_counter()
                run()
                samples.append((time.perf_counter() - start) * 1e6)
            times.append(statistics.median(samples))
        print(f"  {label:<10} sandboxed {times[0]:9.1f}   plain {times[1]:9.1f}   {times[0] / times[1]:6.1f}x",
              flush=True)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    if "--sandbox-only" in sys.argv:
        sandbox_overhead(n)
        return
    loaded, _ = check(read_service(SERVICE).files, Settings())
    assert loaded is not None
    script_engine = make_script_engine()
    spec, subprocess_specs = loaded.compiled.spec("business_licence")
    results = {"raw": measure("raw", n, lambda: bare_spiff_once(spec, subprocess_specs, script_engine))}
    results["core"] = measure("core", n, lambda: raw_once(loaded.compiled, script_engine))
    who = Principal(Role.ANALYST, "bench")
    with tempfile.TemporaryDirectory() as tmp:
        runtime = engine_runtime(f"sqlite:///{tmp}/bench.db", Path(tmp))
        results["sqlite"] = measure("sqlite", n, lambda: engine_once(runtime, who))
        runtime.close()
    try:
        runtime = engine_runtime(PG_URL, Path(tempfile.gettempdir()))
    except Exception as err:  # PostgreSQL is optional for the benchmark
        print(f"postgres   skipped: {type(err).__name__}: {str(err).splitlines()[0]}")
    else:
        with runtime.engine.begin() as conn:
            conn.execute(text("DELETE FROM draft; DELETE FROM data_use; DELETE FROM incident; DELETE FROM upload; "
                              "DELETE FROM human_task; "
                              "DELETE FROM service_call; DELETE FROM instance"))
        results["postgres"] = measure("postgres", n, lambda: engine_once(runtime, who))
        runtime.close()
    raw = results["raw"]
    print("\nratio to raw SpiffWorkflow (median):")
    for label, value in results.items():
        print(f"  {label:<10} {value / raw:6.2f}x")
    sandbox_overhead(n)


if __name__ == "__main__":
    main()

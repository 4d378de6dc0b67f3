"""The API does what its OpenAPI says: schemathesis generates requests for every operation
from the live app's own schema and calls each one as every role that may call it. Zero
server errors, and every answer (status, headers, content type, body) is one the schema
documents.

Bounded and deterministic: a fixed number of examples per operation, derandomized, no
shrinking, against a database that has something behind every route (see world.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis import GenerationMode, checks
from schemathesis.core.failures import FailureGroup

from engine.app import build_app
from engine.compose import build_runtime
from engine.security.tokens import create_token
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.api.world import World, build_world
from tests.fixtures import ADMIN_TOKEN, PG_URL, ROOT, Tokens, _empty_pg

EXAMPLES_PER_OPERATION = 25
# Not `negative_data_rejection`: it counts unknown query parameters and multipart parts that
# are not text as violations, and the API ignores the first and reads the second as text.
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance,
          checks.missing_required_header, checks.unsupported_method]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, pg_ready: bool, agencies: str) -> Iterator[
        tuple[FastAPI, dict[str, str], World]]:
    """One app over one database for the whole module, with a token for every role."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    settings = Settings(var_dir=folder / "var", database_url=PG_URL if pg_ready else f"sqlite:///{folder / 'f.db'}",
                        processes_dir=ROOT / "processes", admin_token=ADMIN_TOKEN, public_url=agencies,
                        connector_timeout_seconds=5)
    runtime: Runtime = build_runtime(settings, migrate=not PG_URL)
    if PG_URL:
        _empty_pg(runtime)
    with runtime.unit_of_work() as session:
        held = {role: create_token(session, role, f"fuzz-{role}", "guild_union" if role == "staff" else None)
                for role in ("analyst", "staff", "auditor")}
        held["citizen"] = create_token(session, "citizen", "0499370899")
    held["admin"] = ADMIN_TOKEN
    app = build_app(runtime)
    tokens = Tokens(admin=ADMIN_TOKEN, analyst=held["analyst"], staff_guild=held["staff"],
                    staff_municipality=held["staff"], citizen=held["citizen"], other_citizen=held["citizen"])
    with TestClient(app) as client:
        world = build_world(client, tokens, copies=2)
        yield app, held, world
    runtime.close()


def _real(path: str, world: World) -> dict[str, Any]:
    """Path parameters naming things that exist, so answers other than 404 are checked too."""
    known = {"instance_id": world.looked_up, "task_id": world.ready_tasks[-1], "call_id": world.parked_calls[-1],
             "deployment_id": world.deployment_id, "incident_id": world.incident_id, "key": "approval",
             "document_id": world.document_id}
    return {name: value for name, value in known.items() if "{" + name + "}" in path}


def _fuzz(operation: Any, strategy: Any, tokens: list[str | None], seen: Counter[tuple[str, int]]) -> None:
    @hypothesis.given(case=strategy)
    @hypothesis.settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck))
    def run(case: Any) -> None:
        # `ignored_auth` answers a role's success by sending the same request without a key and
        # with a wrong one. Those probes carry no role's key, so every role's call of one case
        # would send the same two: the first success's probes stand for all (schemathesis's
        # own set of operations that have been seen to enforce auth, kept per case here).
        probed: set[str] = set()

        def ignored_auth(ctx: Any, response: Any, case: Any) -> bool | None:
            ctx.auth_enforced_operations = probed
            outcome: bool | None = checks.ignored_auth(ctx, response, case)
            return outcome

        for token in tokens:
            response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"} if token else {},
                                              checks=[*CHECKS, ignored_auth])
            seen[(f"{operation.method.upper()} {operation.path}", response.status_code)] += 1

    run()


def test_every_operation_as_every_role(fuzzed: tuple[FastAPI, dict[str, str], World]) -> None:
    app, held, world = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    seen: Counter[tuple[str, int]] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        roles = operation.definition.raw.get("x-roles", [])
        tokens: list[str | None] = [held[role] for role in roles if role in held] or [None]
        strategies = {"positive": operation.as_strategy(GenerationMode.POSITIVE),
                      "negative": operation.as_strategy(GenerationMode.NEGATIVE)}
        real = _real(operation.path, world)
        if real:
            strategies["existing"] = operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real)
        for mode, strategy in strategies.items():
            try:
                _fuzz(operation, strategy, tokens, seen)
            except hypothesis.errors.Unsatisfiable:
                assert mode == "negative", operation.path  # nothing to get wrong in a request without input
            except (Exception, FailureGroup) as failure:  # each operation's first failure, all reported at the end
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {failure}")
    assert operations >= 20
    assert not failures, "\n\n".join(failures)
    answered = {name for name, status in seen if status < 300}
    assert len(answered) >= operations * 2 // 3, f"too few operations ever succeeded: {sorted(seen.items())}"
    print("\n".join(f"{name}: {status} x{count}" for (name, status), count in sorted(seen.items())))

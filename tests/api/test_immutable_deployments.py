"""A deployment runs what it was translated to: a changed importer reaches it only by a redeploy.

`review_route.bpmn` routes by a JUEL condition, `${amount > 100}`, that the importer
translates to Python. The tests change that translation (as a new importer release could)
under an instance that is waiting before the gateway, restart the engine, and check that the
instance still takes the route it was deployed with.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.app import build_app
from engine.bpmn import expression_sites, translated
from engine.bpmn.expression_translation import Translation
from engine.compose import build_runtime
from engine.core.documents import Document
from engine.core.report import Report
from engine.db.models import AuditEvent
from engine.services.runtime import Runtime
from engine.settings import Settings
from tests.api.test_deploy_and_run import complete, ready_tasks
from tests.fixtures import PG_URL, Tokens, model_files

MODEL = "review_route.bpmn"


def flip_comparisons(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on the importer translates `a > b` as `a < b`: its output for the flow `f_senior` changes."""
    translate = expression_sites.translate

    def flipped(text: str, declared: str | None = None) -> Translation:
        done = translate(text, declared)
        return dataclasses.replace(done, python=done.python.replace(">", "<"))

    monkeypatch.setattr(expression_sites, "translate", flipped)


def mark_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on the importer marks every BPMN document it writes: its output changes for every model."""
    import_documents = translated.import_documents

    def marking(docs: Sequence[Document], report: Report) -> list[Document]:
        done = import_documents(docs, report)
        for doc in done:
            if doc.kind == "bpmn":
                doc.root.set("{urn:panjereh:tests}importer", "changed")
        return done

    monkeypatch.setattr(translated, "import_documents", marking)


@contextmanager
def _restarted(settings: Settings) -> Iterator[TestClient]:
    """A new engine on the same database: nothing compiled is cached, as after a restart or in a new worker."""
    with closing(build_runtime(settings, migrate=not PG_URL)) as runtime, TestClient(build_app(runtime)) as client:
        yield client


def _start(client: TestClient, tokens: Tokens, version: int | None = None) -> str:
    body: dict[str, Any] = {"data": {}} if version is None else {"data": {}, "version": version}
    started = client.post("/api/v1/processes/review_route/instances", json=body, headers=tokens.headers("analyst"))
    assert started.status_code == 201, started.text
    instance_id: str = started.json()["id"]
    return instance_id


def _route(client: TestClient, tokens: Tokens, instance_id: str, amount: int) -> str:
    """Enter `amount` and name the review the instance went on to."""
    [enter] = ready_tasks(client, tokens, instance_id)
    assert enter["name"] == "enter"
    complete(client, tokens, enter["id"], {"amount": amount})
    [review] = ready_tasks(client, tokens, instance_id)
    spec_id: str = review["name"]
    return spec_id


def test_an_importer_change_leaves_deployed_instances_as_they_were(
        client: TestClient, tokens: Tokens, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    analyst = tokens.headers("analyst")
    deployed = client.post("/api/v1/deployments", files=model_files(MODEL), headers=analyst)
    assert deployed.status_code == 201, deployed.text
    first = deployed.json()
    waiting = _start(client, tokens)
    baseline = _start(client, tokens)
    assert _route(client, tokens, baseline, 500) == "senior_review"

    flip_comparisons(monkeypatch)
    with _restarted(settings) as restarted:
        # Restored from storage by an engine that never saw the deployment: the route is unchanged.
        assert _route(restarted, tokens, waiting, 500) == "senior_review"
        [review] = ready_tasks(restarted, tokens, waiting)
        complete(restarted, tokens, review["id"], {})
        assert restarted.get(f"/api/v1/instances/{waiting}", headers=analyst).json()["status"] == "completed"
        # A new instance of the same deployment starts from the stored translation too.
        assert _route(restarted, tokens, _start(restarted, tokens), 500) == "senior_review"

        # The same files deployed again are the same deployment, running its old translation.
        again = restarted.post("/api/v1/deployments", files=model_files(MODEL), headers=analyst)
        assert again.status_code == 200 and again.json()["id"] == first["id"]
        assert _route(restarted, tokens, _start(restarted, tokens), 500) == "senior_review"

        # Only the explicit redeploy brings today's importer, as a new version.
        redeployed = restarted.post(f"/api/v1/deployments/{first['id']}/redeploy", headers=analyst)
        assert redeployed.status_code == 201, redeployed.text
        new = redeployed.json()
        assert new["id"] != first["id"] and new["redeploy_of"] == first["id"]
        assert [p["version"] for p in new["processes"]] == [first["processes"][0]["version"] + 1]
        assert new["files"] == first["files"] and new["report"]["deployable"]
        assert _route(restarted, tokens, _start(restarted, tokens), 500) == "clerk_review"
        # The version deployed before still runs as it did.
        assert _route(restarted, tokens, _start(restarted, tokens, version=1), 500) == "senior_review"
        # Deploying the files once more gives the newest deployment of them.
        latest = restarted.post("/api/v1/deployments", files=model_files(MODEL), headers=analyst)
        assert latest.status_code == 200 and latest.json()["id"] == new["id"]


def test_a_redeploy_that_changes_nothing_keeps_the_deployment(client: TestClient, tokens: Tokens) -> None:
    analyst = tokens.headers("analyst")
    first = client.post("/api/v1/deployments", files=model_files(MODEL), headers=analyst).json()
    assert first["importer_version"] and first["redeploy_of"] is None
    same = client.post(f"/api/v1/deployments/{first['id']}/redeploy", headers=analyst)
    assert same.status_code == 200, same.text
    assert same.json()["id"] == first["id"] and same.json()["created"] is False
    assert [p["version"] for p in client.get("/api/v1/processes", headers=analyst).json()] == [1]
    missing = client.post("/api/v1/deployments/999/redeploy", headers=analyst)
    assert missing.status_code == 404


def test_a_redeployment_is_found_again_and_audited(client: TestClient, tokens: Tokens, runtime: Runtime,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    analyst, admin = tokens.headers("analyst"), tokens.headers("admin")
    first = client.post("/api/v1/deployments", files=model_files(MODEL), headers=analyst).json()
    flip_comparisons(monkeypatch)
    new = client.post(f"/api/v1/deployments/{first['id']}/redeploy", headers=admin).json()
    # Redeploying the redeployment, or the first deployment again, finds today's translation deployed.
    for source in (first["id"], new["id"]):
        again = client.post(f"/api/v1/deployments/{source}/redeploy", headers=analyst)
        assert again.status_code == 200 and again.json()["id"] == new["id"]
    with runtime.reading() as session:
        entries = session.execute(select(AuditEvent.actor, AuditEvent.subject, AuditEvent.detail)
                                  .where(AuditEvent.action == "deployment.redeployed")).all()
    assert [(actor, subject, detail["from"]) for actor, subject, detail in entries] == [
        ("admin:automation", str(new["id"]), first["id"])]
    assert client.get("/api/v1/audit/verify", headers=admin).json()["ok"] is True

"""Upgrading a database whose deployments kept only their uploads: each is translated once, as
its next start would have translated it, and from then on runs what was stored."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, insert, select

from engine.app import build_app
from engine.bpmn.importer import IMPORTER_VERSION
from engine.compose import build_runtime
from engine.services.deployments import UploadedFile, check, content_hash
from engine.settings import Settings
from tests.api.test_deploy_and_run import complete, ready_tasks
from tests.fixtures import ADMIN_TOKEN, MODELS, Tokens
from tests.migration_db import empty_database, migrate

SCHEMA = "immutable_deployment_check"
FILES = [UploadedFile(name, (MODELS / name).read_bytes()) for name in ("approval.bpmn", "permit_fee.dmn")]
BROKEN = UploadedFile("broken.bpmn", b"<definitions")


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database at the schema before immutable deployments; on PostgreSQL a schema of its
    own, so the suite's shared one is left alone."""
    with empty_database(request.param, tmp_path / "old.db", SCHEMA) as engine:
        yield engine


def _deployed_before(engine: Engine) -> None:
    """What an older Panjereh stored: the approval model, and one deployment whose file no longer loads."""
    tables = MetaData()
    tables.reflect(engine)
    now = datetime.now(UTC)
    with engine.begin() as db:
        db.execute(insert(tables.tables["deployment"]), [
            {"id": 1, "content_hash": content_hash(FILES), "name": "approval.bpmn", "deployed_by": "analyst:a",
             "deployed_at": now, "report": {}},
            {"id": 2, "content_hash": "h", "name": "broken.bpmn", "deployed_by": "analyst:a", "deployed_at": now,
             "report": {}}])
        db.execute(insert(tables.tables["deployment_file"]), [
            {"deployment_id": deployment_id, "name": upload.name, "kind": upload.name.rsplit(".", 1)[1],
             "sha256": hashlib.sha256(upload.content).hexdigest(), "content": upload.content}
            for deployment_id, upload in [(1, FILES[0]), (1, FILES[1]), (2, BROKEN)]])
        db.execute(insert(tables.tables["process_definition"]), [
            {"id": 1, "deployment_id": 1, "key": "approval", "name": "Grant approval", "version": 1},
            {"id": 2, "deployment_id": 2, "key": "broken", "name": "broken", "version": 1}])


def test_the_upgrade_translates_existing_deployments_once(old_database: Engine, tmp_path: Path,
                                                          settings: Settings) -> None:
    engine = old_database
    migrate(engine, "0008")
    _deployed_before(engine)
    migrate(engine, "head")

    tables = MetaData()
    tables.reflect(engine)
    deployment, files = tables.tables["deployment"], tables.tables["deployment_file"]
    with engine.connect() as db:
        versions = dict(db.execute(select(deployment.c.id, deployment.c.importer_version)).all())
        forms = db.execute(select(deployment.c.forms).where(deployment.c.id == 1)).scalar_one()
        translated = {(row.deployment_id, row.name): row.translated
                      for row in db.execute(select(files.c.deployment_id, files.c.name, files.c.translated))}
    today, _ = check(FILES, settings)
    assert today is not None
    assert versions == {1: IMPORTER_VERSION, 2: IMPORTER_VERSION}
    assert translated == {(1, "approval.bpmn"): today.translated["approval.bpmn"],
                          (1, "permit_fee.dmn"): today.translated["permit_fee.dmn"], (2, "broken.bpmn"): None}
    assert set(forms) == {"request", "attach"} and forms["request"]["schema"]["required"] == ["amount"]

    upgraded = Settings(var_dir=tmp_path / "var", database_url=engine.url.render_as_string(hide_password=False),
                        admin_token=ADMIN_TOKEN, processes_dir=tmp_path / "none")
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with closing(build_runtime(upgraded, migrate=False)) as runtime, TestClient(build_app(runtime)) as client:
        started = client.post("/api/v1/processes/approval/instances", json={"data": {}}, headers=admin)
        assert started.status_code == 201, started.text
        tokens = Tokens(ADMIN_TOKEN, ADMIN_TOKEN, "", "", "", "")
        [request] = ready_tasks(client, tokens, started.json()["id"], role="admin")
        form = client.get(f"/api/v1/tasks/{request['id']}", headers=admin).json()["form"]
        assert request["name"] == "request" and form["schema"]["required"] == ["amount"]
        complete(client, tokens, request["id"], {"amount": 50000, "channel": "email"}, role="admin")
        assert [t["name"] for t in ready_tasks(client, tokens, started.json()["id"], role="admin")] == [
            "manager_approval"]
        # A deployment whose upload no longer loads refuses to start, naming the file, as it did before.
        broken = client.post("/api/v1/processes/broken/instances", json={"data": {}}, headers=admin)
        assert broken.status_code == 422 and "broken.bpmn" in broken.text

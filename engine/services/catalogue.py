"""The service catalogue: one folder per service under `processes/`, deployed at start."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn.import_context import BPMN
from engine.bpmn.safe_xml import UnsafeXmlError, load_xml
from engine.core.outcomes import read_outcomes
from engine.core.visits import CardError, journey_before
from engine.db.models import Deployment, ProcessDefinition
from engine.services import deployments
from engine.services.deadlines import deadline_problem
from engine.services.deployments import DeployOutcome, UploadedFile
from engine.services.runtime import Runtime

MODEL_SUFFIXES = {".bpmn", ".dmn", ".json", ".form"}
REQUIRED_KEYS = ("process", "agency", "title")
# Only to find the end events for the card's check; the deployment parses the files in full.
_CARD_CHECK_LIMITS = {"max_bytes": 20 * 2**20, "max_depth": 256}


class CatalogueError(ValueError):
    """A service folder is incomplete or its service.toml is not valid."""


@dataclass(frozen=True)
class ServiceFolder:
    path: Path
    meta: dict[str, Any]
    files: list[UploadedFile]


def read_service(folder: Path) -> ServiceFolder:
    """The model files and metadata of one service folder."""
    manifest = folder / "service.toml"
    try:
        meta = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise CatalogueError(f"{folder}: service.toml is missing") from err
    except tomllib.TOMLDecodeError as err:
        raise CatalogueError(f"{manifest}: {err}") from err
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise CatalogueError(f"{manifest}: missing {', '.join(missing)}")
    problem = deadline_problem(meta)
    if problem:
        raise CatalogueError(f"{manifest}: {problem}")
    try:
        journey_before(meta)
    except CardError as err:
        raise CatalogueError(f"{manifest}: the journey before Panjereh is not valid:\n  "
                             + "\n  ".join(err.problems)) from err
    problems = _case_facts_problems(meta.get("case_facts", []))
    if problems:
        raise CatalogueError(f"{manifest}: [[case_facts]] is not valid:\n  " + "\n  ".join(problems))
    files = [UploadedFile(p.name, p.read_bytes()) for p in sorted(folder.iterdir())
             if p.is_file() and p.suffix.lower() in MODEL_SUFFIXES]
    if not files:
        raise CatalogueError(f"{folder}: no .bpmn file")
    try:
        read_outcomes(meta, _end_events(files, str(meta["process"])))
    except CardError as err:
        raise CatalogueError(f"{manifest}: the outcomes are not valid:\n  " + "\n  ".join(err.problems)) from err
    return ServiceFolder(folder, meta, files)


def _end_events(files: list[UploadedFile], process: str) -> set[str]:
    """The ids of the end events at the top level of `process` (those that end the case)."""
    found: set[str] = set()
    for file in files:
        if not file.name.lower().endswith(".bpmn"):
            continue
        try:
            root = load_xml(file.content, name=file.name, **_CARD_CHECK_LIMITS)
        except UnsafeXmlError as err:
            raise CatalogueError(str(err)) from err
        for node in root.iter(f"{BPMN}process"):
            if node.get("id") == process:
                found.update(str(e.get("id")) for e in node.findall(f"{BPMN}endEvent"))
    return found


def _case_facts_problems(facts: Any) -> list[str]:
    """What is wrong with a card's `[[case_facts]]`: each names a data `variable` (and may name
    `variable_fa`/`variable_en` for a value written per language) and its label in `fa` and `en`."""
    if not isinstance(facts, list):
        return ["it must be a list of tables ([[case_facts]])"]
    problems = []
    for number, fact in enumerate(facts, 1):
        if not isinstance(fact, dict):
            problems.append(f"entry {number} is not a table")
            continue
        unknown = sorted(set(fact) - {"variable", "variable_fa", "variable_en", "fa", "en"})
        if unknown:
            problems.append(f"entry {number} has an unknown key {', '.join(map(repr, unknown))}")
        for key in ("variable", "fa", "en"):
            if not isinstance(fact.get(key), str) or not fact[key].strip():
                problems.append(f"entry {number} needs '{key}' (text)")
        for key in ("variable", "variable_fa", "variable_en"):
            if key in fact and not (isinstance(fact[key], str) and fact[key].isidentifier()):
                problems.append(f"entry {number}: '{key}' must name a data variable")
    return problems


def service_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "service.toml").is_file()) if root.is_dir() else []


def deploy_service(runtime: Runtime, folder: Path, actor: str = "system:catalogue") -> DeployOutcome:
    service = read_service(folder)
    with runtime.unit_of_work() as session:
        return deployments.deploy(session, runtime, service.files, actor, name=folder.name, service=service.meta)


def deploy_catalogue(runtime: Runtime, root: Path) -> list[DeployOutcome]:
    """Deploy every service folder under `root`; unchanged folders keep their version."""
    return [deploy_service(runtime, folder) for folder in service_folders(root)]


@dataclass(frozen=True)
class OfferedService:
    """A service in the single window: its newest version and what its service.toml says."""

    key: str
    version: int
    meta: dict[str, Any]
    deployment_id: int


def offered(session: Session) -> list[OfferedService]:
    """Every process that came from a service folder, at its newest version."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    rows = session.execute(
        select(ProcessDefinition.key, ProcessDefinition.version, Deployment.service, Deployment.id)
        .join(newest, (newest.c.key == ProcessDefinition.key) & (newest.c.version == ProcessDefinition.version))
        .join(Deployment, Deployment.id == ProcessDefinition.deployment_id)
        .where(Deployment.service.is_not(None))
        .order_by(ProcessDefinition.key)
    ).all()
    return [OfferedService(key, version, service, deployment_id) for key, version, service, deployment_id in rows
            if service and service.get("process") == key]


def agencies(session: Session) -> dict[str, dict[str, str]]:
    """Every agency whose staff have a step in an offered service (a lane of its card, or the
    service's own agency), with its names by language from the card's `[agencies]` table."""
    found: dict[str, dict[str, str]] = {}
    for service in offered(session):
        named = service.meta.get("agencies") or {}
        lanes = [code for code in (service.meta.get("lanes") or {}).values() if isinstance(code, str)]
        for code in [*lanes, service.meta.get("agency")]:
            if not isinstance(code, str) or not code or code == "citizen" or code.startswith("citizen:"):
                continue
            names = named.get(code)
            found.setdefault(code, {k: str(v) for k, v in names.items()} if isinstance(names, dict) else {})
    return found

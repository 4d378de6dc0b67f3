"""`panjereh`: serve, validate, deploy, redeploy, migrate, run, impact, db upgrade, audit verify, token create."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from engine import audit
from engine.compose import build_runtime, installed_connectors, upgrade_database
from engine.report_text import render
from engine.security.principals import Role
from engine.services import migrations, notifications
from engine.services.catalogue import CatalogueError, deploy_catalogue, deploy_service, service_folders
from engine.services.deployments import DeploymentRejected, UploadedFile, UploadTooLarge, check, deploy, redeploy
from engine.services.errors import Conflict, MigrationRefused, NotFound
from engine.services.runtime import Runtime
from engine.settings import get_settings


def _files(paths: Sequence[str]) -> list[UploadedFile]:
    found: list[UploadedFile] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += [UploadedFile(p.name, p.read_bytes()) for p in sorted(path.iterdir())
                      if p.suffix.lower() in {".bpmn", ".dmn", ".json", ".form"}]
        else:
            found.append(UploadedFile(path.name, path.read_bytes()))
    return found


def _json_arg(text: str | None, what: str) -> dict[str, Any]:
    if not text:
        return {}
    source = Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text
    try:
        value = json.loads(source)
    except json.JSONDecodeError as err:
        raise SystemExit(f"{what}: not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise SystemExit(f"{what}: must be a JSON object")
    return value


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from engine.app import build_app

    settings = get_settings()
    # The address actually served is the one this server's own links and embedded agencies
    # are reached at (unless PANJEREH_PUBLIC_URL says otherwise), so it goes into the settings.
    settings = settings.model_copy(update={"host": args.host or settings.host, "port": args.port or settings.port})
    runtime = build_runtime(settings)
    if settings.deploy_processes_on_start:
        for outcome in deploy_catalogue(runtime, settings.processes_dir):
            keys = ", ".join(f"{d.key} v{d.version}" for d in outcome.definitions)
            print(f"service {outcome.deployment.name}: {keys}{'' if outcome.created else ' (unchanged)'}")
    # Embedded mode runs retries and timers from a tick in this process; broker mode's workers do.
    runtime.dispatcher.start(runtime)
    host, port = settings.host, settings.port
    print(f"Panjereh is running at http://{host}:{port}/  (API docs: http://{host}:{port}/docs)", flush=True)
    # The client address of every rate limit is worked out by the app from PANJEREH_TRUSTED_PROXIES
    # alone; uvicorn's own X-Forwarded-For handling (on by default, trusting loopback and whatever
    # FORWARDED_ALLOW_IPS says) would overwrite the peer address before the app could judge it.
    uvicorn.run(build_app(runtime), host=host, port=port, log_level="warning", proxy_headers=False)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not settings.broker_url:
        print("set PANJEREH_BROKER_URL (redis://... or amqp://...) to run workers; without it, "
              "`panjereh serve` runs connector jobs itself", file=sys.stderr)
        return 1
    from engine.celery_worker import run_worker

    run_worker(args.concurrency, beat=not args.no_beat)
    return 0


def cmd_connectors_list(args: argparse.Namespace) -> int:
    with closing(build_runtime(get_settings(), migrate=False)) as runtime:
        registry = runtime.connectors
    if args.json:
        print(json.dumps([{"id": op.id, "title": op.title, "agency": op.agency, "params": op.params_schema(),
                           "result": op.result_schema()} for op in registry.operations.values()],
                         ensure_ascii=False, indent=2))
    else:
        for op in registry.operations.values():
            params = ", ".join(op.params_schema().get("properties", {}))
            print(f"{op.id:<45} {op.title.get('en', '')}  ({params})")
    for problem in registry.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    if args.summary:
        return _summary(args)
    if not args.files:
        print("name the files to check, or --summary DIR", file=sys.stderr)
        return 2
    settings = get_settings()
    try:
        loaded, report = check(_files(args.files), settings, installed_connectors(settings))
    except UploadTooLarge as err:
        print(err, file=sys.stderr)
        return 1
    if args.json:
        processes = list(loaded.compiled.processes) if loaded else []
        print(json.dumps({**report.as_dict(), "processes": processes}, ensure_ascii=False, indent=2))
    else:
        print(render(report, all_elements=args.all))
    return 0 if report.deployable else 1


def _summary(args: argparse.Namespace) -> int:
    from engine.summary import print_table, summarise
    from engine.summary_files import bpmn_files

    root = Path(args.summary)
    if not root.is_dir():
        print(f"{root} is not a folder", file=sys.stderr)
        return 2
    settings = get_settings()
    results = []
    for path in bpmn_files(root):
        result = summarise(path, settings, args.run)
        result.file = str(path.relative_to(root))
        results.append(result)
        if args.json:
            print(result.as_json(), flush=True)
    if not args.json:
        print_table(results, args.run)
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    with closing(build_runtime(get_settings())) as runtime:
        return _deploy(runtime, args)


def _deploy(runtime: Runtime, args: argparse.Namespace) -> int:
    try:
        if len(args.files) == 1 and Path(args.files[0]).is_dir() and service_folders(Path(args.files[0]).parent):
            outcome = deploy_service(runtime, Path(args.files[0]), actor="cli")
        else:
            with runtime.unit_of_work() as session:
                outcome = deploy(session, runtime, _files(args.files), "cli", name=args.name)
    except (DeploymentRejected, UploadTooLarge, CatalogueError) as err:
        report = getattr(err, "report", None)
        for problem in report.problems if report else []:
            print(problem, file=sys.stderr)
        print(f"not deployed: {err}", file=sys.stderr)
        return 1
    state = "deployed" if outcome.created else "already deployed"
    print(f"{state}: deployment {outcome.deployment.id}; "
          + ", ".join(f"{d.key} v{d.version}" for d in outcome.definitions))
    return 0


def cmd_redeploy(args: argparse.Namespace) -> int:
    with closing(build_runtime(get_settings())) as runtime:
        try:
            with runtime.unit_of_work() as session:
                outcome = redeploy(session, runtime, args.deployment, "cli")
                deployment_id = outcome.deployment.id
                versions = ", ".join(f"{d.key} v{d.version}" for d in outcome.definitions)
        except (DeploymentRejected, NotFound) as err:
            report = getattr(err, "report", None)
            for problem in report.problems if report else []:
                print(problem, file=sys.stderr)
            print(f"not redeployed: {err}", file=sys.stderr)
            return 1
    if outcome.created:
        print(f"redeployed: deployment {deployment_id} translates deployment {args.deployment}'s files with "
              f"today's importer; {versions}")
    else:
        print(f"unchanged: today's importer makes what deployment {deployment_id} already runs; {versions}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    if (args.instance is None) == (args.all_of is None):
        print("name one instance, or --all-of DEPLOYMENT", file=sys.stderr)
        return 2
    with closing(build_runtime(get_settings())) as runtime:
        try:
            if args.all_of is not None:
                outcomes = migrations.migrate_all(runtime, "cli", args.all_of, args.to, dry_run=args.dry_run,
                                                  limit=args.limit)
            else:
                with (runtime.reading() if args.dry_run else runtime.unit_of_work()) as session:
                    outcomes = [migrations.migrate(session, runtime, "cli", args.instance, args.to,
                                                   dry_run=args.dry_run, lock_version=args.lock_version)]
        except MigrationRefused as refused:
            print("not migrated: the instance cannot move to this version", file=sys.stderr)
            print("\n".join(f"  - {reason}" for reason in refused.reasons), file=sys.stderr)
            return 1
        except (NotFound, Conflict) as err:
            print(f"not migrated: {err}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps([migrations.view(o) for o in outcomes], ensure_ascii=False, indent=2, default=str))
    else:
        for outcome in outcomes:
            print(_migration_text(outcome))
    if not outcomes:
        print(f"deployment {args.all_of} has no running instances")
    return 0 if all(not o.refusals for o in outcomes) else 1


def _migration_text(outcome: migrations.Outcome) -> str:
    head = (f"instance {outcome.instance_id} ({outcome.tracking_code}): deployment {outcome.from_deployment} "
            f"v{outcome.from_version} -> deployment {outcome.to_deployment} v{outcome.to_version or '?'}: ")
    if outcome.refusals:
        return head + "cannot move\n" + "\n".join(f"  - {reason}" for reason in outcome.refusals)
    lines = [head + ("moved" if outcome.migrated else "can move (dry run, nothing changed)")]
    plan, after = outcome.plan, outcome.after
    if plan is not None:
        lines += [f"  {t.element_id} ({t.state}): {t.outcome}" + (f", {t.reason}" if t.reason else "")
                  for t in plan.tasks]
        lines += [f"  {what}: {', '.join(elements)}" for what, elements in
                  (("added", plan.added), ("removed", plan.removed),
                   ("changed", [c.element_id for c in plan.changed])) if elements]
    if after is not None:
        waits = [*(f"task {t}" for t in after.tasks), *(f"timer {e} at {d:%Y-%m-%d %H:%M}" for e, d in after.timers),
                 *(f"message {m}" for m in after.messages), *(f"signal {s}" for s in after.signals),
                 *(f"service call {c}" for c in after.service_calls)]
        lines.append(f"  then {after.status}" + (f": {', '.join(waits)}" if waits else ""))
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from engine.core.statuses import InstanceStatus
    from engine.headless import run_model

    try:
        run = run_model(_files(args.files), get_settings(), _json_arg(args.data, "--data"),
                        _json_arg(args.answers, "--answers"), _json_arg(args.results, "--results"), args.process,
                        _json_arg(args.messages, "--messages"))
    except ValueError as err:
        print(err, file=sys.stderr)
        return 1
    print(json.dumps(run.as_dict(), ensure_ascii=False, indent=2, default=str))
    return 0 if run.error is None and run.status in (InstanceStatus.COMPLETED, InstanceStatus.WAITING) else 1


def cmd_impact(args: argparse.Namespace) -> int:
    from engine.impact_text import render
    from engine.services import impact

    settings = get_settings()
    if args.processes:
        found = impact.from_folders(Path(args.processes), settings)
        note = f"counted from the service folders under {args.processes} (translated, not deployed)"
    else:
        with closing(build_runtime(settings)) as runtime, runtime.reading() as session:
            found = impact.deployed(session)
            where = runtime.engine.url.render_as_string(hide_password=True)
        note = f"counted from the services deployed in {where}"
        if not found.services:
            # A fresh checkout has deployed nothing yet: count what `serve` would deploy.
            found = impact.from_folders(settings.processes_dir, settings)
            note = (f"nothing is deployed in {where}: counted from the service folders under "
                    f"{settings.processes_dir} (translated, not deployed)")
    print(note, file=sys.stderr)
    print(json.dumps(found.as_dict(), ensure_ascii=False, indent=2) if args.json else render(found))
    return 0


def cmd_notifications_send(_: argparse.Namespace) -> int:
    with closing(build_runtime(get_settings())) as runtime:
        sent = notifications.deliver_pending(runtime)
    print(f"{sent} pending message(s) sent")
    return 0


def cmd_db_upgrade(_: argparse.Namespace) -> int:
    print(f"database at the newest schema: {upgrade_database(get_settings())}")
    return 0


def cmd_audit_verify(_: argparse.Namespace) -> int:
    with closing(build_runtime(get_settings())) as runtime, runtime.reading() as session:
        result = audit.verify(session)
    for problem in result.problems:
        print(problem)
    print(f"{result.checked} events checked: " + ("chain intact" if result.ok else "CHAIN BROKEN"))
    return 0 if result.ok else 1


def cmd_token_create(args: argparse.Namespace) -> int:
    from engine.security.tokens import TokenError, create_token

    try:
        with closing(build_runtime(get_settings())) as runtime, runtime.unit_of_work() as session:
            token = create_token(session, args.role, args.name, args.agency)
            audit.append(session, "cli", "token.created", subject=args.name,
                         detail={"role": args.role, "agency": args.agency})
    except TokenError as err:
        print(err, file=sys.stderr)
        return 1
    print(token)
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="panjereh", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server (deploys processes/ first)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser("worker", help="run a Celery worker for connector jobs (needs PANJEREH_BROKER_URL)")
    worker.add_argument("--concurrency", type=int, default=2)
    worker.add_argument("--no-beat", action="store_true", help="do not run the due-call tick in this worker")
    worker.set_defaults(func=cmd_worker)

    connectors_cmd = commands.add_parser("connectors", help="connector plugins").add_subparsers(
        dest="connectors_command", required=True)
    listing = connectors_cmd.add_parser("list", help="every operation with its parameters")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_connectors_list)

    validate = commands.add_parser("validate", help="check BPMN/DMN files; exit 0 when deployable")
    validate.add_argument("files", nargs="*")
    validate.add_argument("--json", action="store_true", help="print the report as JSON (one line per file "
                          "with --summary)")
    validate.add_argument("--all", action="store_true", help="list every element, also those that run as drawn")
    validate.add_argument("--summary", metavar="DIR", help="import every BPMN file under DIR and print counts "
                          "by dialect and exporter")
    validate.add_argument("--run", action="store_true", help="with --summary: also run every deployable model "
                          "headless and count those that reach an end event")
    validate.set_defaults(func=cmd_validate)

    deploy_cmd = commands.add_parser("deploy", help="deploy files, or one service folder")
    deploy_cmd.add_argument("files", nargs="+")
    deploy_cmd.add_argument("--name")
    deploy_cmd.set_defaults(func=cmd_deploy)

    redeploy_cmd = commands.add_parser("redeploy", help="translate a deployment's files again with today's "
                                       "importer, as a new version")
    redeploy_cmd.add_argument("deployment", type=int, help="the deployment id")
    redeploy_cmd.set_defaults(func=cmd_redeploy)

    migrate = commands.add_parser("migrate", help="move a running instance (or every running instance of a "
                                  "deployment) to another deployment of its process")
    migrate.add_argument("instance", nargs="?", help="the instance id")
    migrate.add_argument("--to", type=int, required=True, metavar="DEPLOYMENT", help="the deployment to move to")
    migrate.add_argument("--all-of", type=int, metavar="DEPLOYMENT",
                         help="move every running instance of this deployment instead (oldest first, --limit)")
    migrate.add_argument("--dry-run", action="store_true", help="say what would happen; change nothing")
    migrate.add_argument("--limit", type=int, default=100, help="with --all-of: at most this many (default 100)")
    migrate.add_argument("--lock-version", type=int, help="refuse if the instance changed since the dry run that "
                         "reported this lock version")
    migrate.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    migrate.set_defaults(func=cmd_migrate)

    run = commands.add_parser("run", help="run a model headless and print where it ends")
    run.add_argument("files", nargs="+")
    run.add_argument("--process", help="process id (default: the first executable process)")
    run.add_argument("--data", help="start data as JSON, or @file.json")
    run.add_argument("--answers", help='task answers as JSON: {"task_id": {...} or [{...}, ...]}')
    run.add_argument("--results", help="service task results as JSON, keyed like --answers")
    run.add_argument("--messages", help='messages as JSON by name: {"payment_verified": {...} or [{...}, ...]}')
    run.set_defaults(func=cmd_run)

    impact_cmd = commands.add_parser("impact", help="the visits ledger: in-person visits, documents, offices and "
                                     "fields before Panjereh and after, per service and in total")
    impact_cmd.add_argument("--json", action="store_true", help='print one JSON object: {"services": [...], '
                            '"total": {...}}')
    impact_cmd.add_argument("--processes", metavar="DIR", help="count the service folders under DIR instead of "
                            "what is deployed")
    impact_cmd.set_defaults(func=cmd_impact)

    notify_cmd = commands.add_parser("notifications", help="messages to citizens about their cases").add_subparsers(
        dest="notifications_command", required=True)
    notify_cmd.add_parser("send", help="send the messages a gateway failure left pending").set_defaults(
        func=cmd_notifications_send)
    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="migrate to the newest schema").set_defaults(func=cmd_db_upgrade)

    audit_cmd = commands.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command",
                                                                               required=True)
    audit_cmd.add_parser("verify", help="check the hash chain; exit 1 if broken").set_defaults(
        func=cmd_audit_verify)

    token = commands.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    create = token.add_parser("create", help="create a token and print it (shown once)")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--name", required=True, help="who holds it; a citizen's national code for citizens")
    create.add_argument("--agency", help="the agency code, for staff")
    create.set_defaults(func=cmd_token_create)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())

"""The engine's own operations sit in the registry beside the connectors', under a name no plugin takes."""

from __future__ import annotations

import dataclasses

from connectors.registry import Registry
from engine.compose import installed_connectors
from engine.services import builtin_operations
from engine.services.catalogue import read_service
from engine.services.deployments import check
from engine.settings import Settings
from tests.fixtures import ROOT


def test_a_plugin_cannot_take_the_engine_s_name() -> None:
    [issue] = builtin_operations.operations()
    impostor = dataclasses.replace(issue, name="issue_document", title={"fa": "جعلی", "en": "fake"})
    registry = Registry(operations={"panjereh/issue_document": impostor, "panjereh/other": impostor})
    registry.connectors["panjereh"] = object()  # type: ignore[assignment]
    builtin_operations.install(registry)
    assert set(registry.operations) == {"panjereh/issue_document"}
    assert registry.operations["panjereh/issue_document"].title["en"].startswith("Issue a document")
    assert "panjereh" not in registry.connectors and any("engine's own" in p for p in registry.problems)


def test_a_model_binding_it_deploys_and_a_wrong_parameter_does_not() -> None:
    service = read_service(ROOT / "processes" / "business_licence")
    registry = installed_connectors(Settings())  # the engine's own operations included
    loaded, report = check(service.files, Settings(), registry, service=service.meta)
    assert loaded is not None and report.deployable, report.as_dict()
    broken = [dataclasses.replace(f, content=f.content.replace(b'id="valid_years"', b'id="valid_for"'))
              for f in service.files]
    _, refused = check(broken, Settings(), registry, service=service.meta)
    assert not refused.deployable
    assert any("takes no parameter 'valid_for'" in p.message for p in refused.problems)

"""The journey before Panjereh, as a service card declares it: read, or refused with every problem named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from engine.core.visits import CardError, VisitReason, journey_before
from engine.services.catalogue import CatalogueError, read_service
from tests.fixtures import ROOT
from tests.impact.folders import CARD, service_folder


def _card(text: str = CARD) -> dict[str, object]:
    return tomllib.loads(text.format(process="trial"))


def _refusal(text: str) -> list[str]:
    with pytest.raises(CardError) as refused:
        journey_before(_card(text))
    return refused.value.problems


def test_a_card_is_read_with_its_visits_documents_and_offices() -> None:
    before = journey_before(_card())
    assert before is not None
    assert [(v.id, v.reason, v.office) for v in before.visits] == [
        ("prove_identity", VisitReason.IDENTITY, "a"),
        ("fetch_certificate", VisitReason.OBTAIN_DOCUMENT_FROM_OTHER_AGENCY, "b"),
        ("inspection", VisitReason.PHYSICAL_INSPECTION, None),
        ("fingerprints", VisitReason.BIOMETRICS, "a"), ("pickup", VisitReason.PICKUP, "c")]
    assert [v.irreducible for v in before.visits] == [False, False, True, True, False]
    assert [d.id for d in before.documents] == ["id_card", "certificate", "deed"]
    assert before.offices["b"] == {"fa": "دفتر ب", "en": "Office B"}
    assert before.visits[1].source == "Law of examples, article 3"


def test_a_card_without_a_journey_before_has_none() -> None:
    assert journey_before({"process": "x", "title": {"en": "X"}}) is None


@pytest.mark.parametrize("old, new, words", [
    ('reason = "identity"', 'reason = "queueing"', "reason 'queueing' is not one of identity, document_authenticity"),
    ('source = "Law of examples, article 3"\n', "", "'fetch_certificate': `source` is missing"),
    ('source = "Law of examples, article 3"', 'source = "  "', "`source` is missing"),
    ('office = "b"', 'office = "z"', "office 'z' is not in [offices] (known: a, b, c)"),
    ('office = "b"\n', "", "'fetch_certificate': `office` is missing"),
    ('id = "pickup"', 'id = "prove_identity"', "two visits have the id 'prove_identity'"),
    ('id = "deed"', 'id = "Deed Scan"', "`id` must be lower-case letters"),
    ('en = "Certificate"\n', "", "'certificate': `en` (what it is, in English) is missing"),
    ('en = "Office C"', 'en = "Office C"\nphone = "021"', "[offices.c] has an unknown key 'phone'"),
    ('reason = "pickup"', 'reason = "pickup"\nminutes = 40', "'pickup' has an unknown key 'minutes'"),
    ("[[before.documents]]\nid = \"deed\"", "[before.extra]\nx = 1\n\n[[before.documents]]\nid = \"deed\"",
     "[before] has an unknown key 'extra'"),
])
def test_a_card_that_gets_something_wrong_is_refused_saying_what(old: str, new: str, words: str) -> None:
    assert old in CARD
    problems = _refusal(CARD.replace(old, new, 1))
    assert any(words in problem for problem in problems), problems


def test_every_problem_is_named_at_once() -> None:
    problems = _refusal(CARD.replace('reason = "identity"', 'reason = "queueing"')
                        .replace('source = "Law of examples, article 3"\n', ""))
    assert len(problems) == 2, problems


def test_an_inspection_may_happen_on_site_any_other_visit_needs_an_office() -> None:
    text = CARD.replace('reason = "physical_inspection"', 'reason = "signature"')
    assert any("'inspection': `office` is missing" in p for p in _refusal(text))


def test_the_catalogue_refuses_a_bad_card_when_it_reads_the_folder(tmp_path: Path) -> None:
    folder = service_folder(tmp_path)
    (folder / "service.toml").write_text(CARD.format(process="trial").replace('"pickup"\nreason', '"pickup"\nrsn'),
                                         encoding="utf-8")
    with pytest.raises(CatalogueError) as refused:
        read_service(folder)
    message = str(refused.value)
    assert "service.toml: the journey before Panjereh is not valid" in message
    assert "unknown key 'rsn'" in message and "reason None is not one of" in message


def test_every_card_in_the_catalogue_declares_its_journey_before() -> None:
    for folder in sorted(p.parent for p in (ROOT / "processes").glob("*/service.toml")):
        before = journey_before(read_service(folder).meta)
        assert before is not None and before.visits, f"{folder.name}: no [[before.visits]] in its service.toml"

"""A card's outcomes: read and checked against the model's end events, every problem named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.core.outcomes import CaseStatus, Outcome, OutcomeKind, case_status, read_outcomes
from engine.core.visits import CardError
from engine.services.catalogue import CatalogueError, read_service

ROOT = Path(__file__).resolve().parents[2]
TEXTS = {"fa": "رد شد", "en": "Refused"}


def _problems(card: dict[str, object], ends: set[str] | None = None) -> list[str]:
    with pytest.raises(CardError) as refused:
        read_outcomes(card, ends)
    return refused.value.problems


def test_an_outcome_reads_its_kind_reason_and_next_step() -> None:
    card = {"outcomes": {"end_no": {"kind": "refused", "reason": "review_reason", **TEXTS,
                                    "next": {"fa": "دوباره بفرستید", "en": "Send again"}}}}
    outcome = read_outcomes(card, {"end_no"})["end_no"]
    assert outcome.kind is OutcomeKind.REFUSED and outcome.next == {"fa": "دوباره بفرستید", "en": "Send again"}
    assert outcome.reason_in({"review_reason": "  the deed is missing "}) == "the deed is missing"
    assert outcome.reason_in({"review_reason": "   "}) is None and outcome.reason_in({}) is None


def test_every_problem_is_named_at_once() -> None:
    problems = _problems({"outcomes": {
        "end_yes": {"kind": "finished", "fa": "تمام", "en": ""},
        "end_no": {"kind": "refused", **TEXTS, "reason": "review reason", "why": "x"},
        "end_gone": {"kind": "approved", **TEXTS},
    }}, {"end_yes", "end_no", "end_other"})
    expected = ["kind 'finished' is not one of", "the en text is missing", "'review reason' is not a data variable",
                "unknown key 'why'", "the model has no end event 'end_gone'", "end event 'end_other' has no"]
    for words in expected:
        assert any(words in problem for problem in problems), (words, problems)
    assert len(problems) == len(expected), problems


def test_a_next_step_needs_both_languages() -> None:
    problems = _problems({"outcomes": {"end_no": {"kind": "refused", **TEXTS, "next": {"fa": "بعدی"}}}})
    assert problems == ["[outcomes.end_no] next: the en text is missing"]


def test_the_status_tag_of_a_case() -> None:
    refused = Outcome("end_no", OutcomeKind.REFUSED, TEXTS)
    assert case_status("completed", refused, sent=True, waiting_for_citizen=False) is CaseStatus.REFUSED
    # A completed case with no declared outcome is never "finished": staff must look at it.
    assert case_status("completed", None, sent=True, waiting_for_citizen=False) is CaseStatus.PROBLEM
    assert case_status("waiting", None, sent=False, waiting_for_citizen=True) is CaseStatus.DRAFT
    assert case_status("waiting", None, sent=True, waiting_for_citizen=True) is CaseStatus.WAITING_FOR_YOU
    assert case_status("waiting", None, sent=True, waiting_for_citizen=False) is CaseStatus.IN_PROGRESS
    assert case_status("terminated", None, sent=True, waiting_for_citizen=False) is CaseStatus.CLOSED
    assert case_status("terminated", None, sent=True, waiting_for_citizen=False,
                       withdrawn=True) is CaseStatus.WITHDRAWN


def test_the_catalogue_refuses_a_card_whose_end_event_has_no_outcome(tmp_path: Path) -> None:
    folder = tmp_path / "business_licence"
    shutil.copytree(ROOT / "processes" / "business_licence", folder)
    card = folder / "service.toml"
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace('kind = "refused"\n', ""), encoding="utf-8")
    with pytest.raises(CatalogueError) as refused:
        read_service(folder)
    assert "service.toml: the outcomes are not valid" in str(refused.value)
    assert "[outcomes.end_rejected]: kind None is not one of" in str(refused.value)
    card.write_text(text[:text.index("[outcomes.end_rejected]")] + text[text.index("# The journey before"):],
                    encoding="utf-8")
    with pytest.raises(CatalogueError) as missing:
        read_service(folder)
    assert "end event 'end_rejected' has no [outcomes.end_rejected]" in str(missing.value)


def test_every_service_in_the_catalogue_declares_an_outcome_for_each_end() -> None:
    for folder in sorted(p.parent for p in (ROOT / "processes").glob("*/service.toml")):
        read_service(folder)

"""Field patterns come from uploaded models and meet citizens' answers: matched without backtracking."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from forms.model import FormDefinitionError
from tests.forms.helpers import camunda7, codes

ROOT = Path(__file__).resolve().parents[2]
# With Python's `re`, "(a+)+$" against 40 a's and a "!" backtracks about 2**40 times inside one
# C call that nothing interrupts: the server thread validating that answer never comes back.
CATASTROPHIC = """
from forms.validate import validate_submission
from tests.forms.helpers import camunda7, codes
form = camunda7('<camunda:formField id="code" type="string"><camunda:validation>'
                '<camunda:constraint name="pattern" config="(a+)+$"/></camunda:validation></camunda:formField>')
print(codes(validate_submission(form, {"code": "a" * 40 + "!"})[1]))
"""


def test_a_backtracking_pattern_cannot_hold_the_server() -> None:
    # A child process, so that on a backtracking engine the test fails at the timeout instead of
    # hanging the suite; the match itself takes microseconds here.
    done = subprocess.run([sys.executable, "-c", CATASTROPHIC], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "{'code': 'pattern'}"


def test_patterns_still_check_answers() -> None:
    from forms.validate import validate_submission

    form = camunda7('<camunda:formField id="plate" type="string"><camunda:validation>'
                    '<camunda:constraint name="pattern" config="^[0-9]{2}[A-Z][0-9]{5}$"/>'
                    "</camunda:validation></camunda:formField>")
    assert codes(validate_submission(form, {"plate": "12B34567"})[1]) == {}
    assert codes(validate_submission(form, {"plate": "12b34567"})[1]) == {"plate": "pattern"}


@pytest.mark.parametrize("pattern, words", [
    ("(a)\\1", "back-references and look-arounds are not supported"),
    ("(?=a)b", "back-references and look-arounds are not supported"),
    ("(" * 600 + ")" * 600, "over the limit of 1,000"),
    ("[0-", "missing ]"),
])
def test_a_pattern_that_needs_backtracking_is_refused_at_deploy(pattern: str, words: str) -> None:
    with pytest.raises(FormDefinitionError, match=words.replace("(", r"\(")):
        camunda7('<camunda:formField id="f" type="string"><camunda:validation>'
                 f'<camunda:constraint name="pattern" config="{pattern}"/></camunda:validation></camunda:formField>')

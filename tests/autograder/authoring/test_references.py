"""The shipped reference outputs are exactly what `solutions/` produces today."""

from pathlib import Path

import numpy as np
import pytest

from autograder import references
from autograder.authoring.references import generators, write_references

NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"
ASSIGNMENTS = sorted(generators(NOTEBOOKS))


def test_lesson_02_stores_references():
    assert "02_convolution" in ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_references_are_reproducible_byte_for_byte(assignment, tmp_path):
    (fresh,) = write_references([assignment], folder=tmp_path)
    assert fresh.read_bytes() == references.path(assignment).read_bytes(), (
        "stored references differ from solutions/; run `cnn-course references`"
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_references_hold_finite_arrays(assignment):
    for key, value in references.load(assignment).items():
        assert np.isfinite(value).all(), key


def test_reference_outputs_are_read_from_cases_py_as_the_docs_put_them(monkeypatch):
    from types import SimpleNamespace

    from autograder import lessons
    from autograder.authoring import references as authoring

    def outputs(solution):
        return {}

    parts = {"cases": SimpleNamespace(reference_outputs=outputs), "checks": SimpleNamespace()}
    monkeypatch.setattr(lessons, "optional", lambda assignment, part: parts[part])
    assert authoring.outputs_of("01_mlp_limits") is outputs
    parts["cases"] = SimpleNamespace()
    assert authoring.outputs_of("01_mlp_limits") is None


def test_a_lesson_without_stored_outputs_is_not_among_them():
    assert "01_mlp_limits" not in ASSIGNMENTS


def test_missing_outputs_say_why_a_check_outside_a_test_cell_cannot_read_them():
    # The grading sandbox hides the stored outputs; a check copied into a scratch cell meets this.
    with pytest.raises(FileNotFoundError) as raised:
        references.load("99_not_a_lesson")
    message = str(raised.value)
    assert "checks run only in its test cells" in message
    assert "`cnn-course references`" in message

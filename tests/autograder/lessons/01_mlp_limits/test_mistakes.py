"""Every catalogued mistake of lesson 01 is caught by exactly its checks and named in feedback."""

from pathlib import Path

import pytest

from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.checks import mlp_limits as checks
from solutions.mistakes import materialize, wrong_versions

catalogue = lessons.module("01_mlp_limits", "mistakes")

ROOT = Path(__file__).resolve().parents[4]
VERSIONS = wrong_versions("01_mlp_limits")

CELLS = read_test_cells(ROOT / "notebooks" / "01_mlp_limits" / "mlp_limits.ipynb")


def grade(objects, across=False):
    """{grade id: feedback or None} for every test cell of the notebook; with `across`, as
    the grader runs them: across the sandbox boundary, on fresh cases."""
    return grade_test_cells(CELLS, objects, checks, across=across, fresh_seed=7)


def test_every_catalogued_mistake_has_a_wrong_version():
    covered = {version.mistake for version in VERSIONS}
    assert {mistake.id for mistake in catalogue.CATALOGUE} <= covered


def test_wrong_versions_break_only_known_cells():
    for version in VERSIONS:
        assert version.breaks and set(version.breaks) <= set(CELLS), version.name


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
def test_reference_passes_every_cell(across):
    import solutions.mlp_limits as reference

    assert grade(vars(reference), across) == dict.fromkeys(CELLS)


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_wrong_version_fails_exactly_its_cells_and_is_named(version, across):
    results = grade(materialize(version, "solutions.mlp_limits"), across)
    failed = tuple(cell for cell, feedback in results.items() if feedback)
    assert failed == version.breaks
    title = next(m.title for m in catalogue.CATALOGUE if m.id == version.mistake)
    first_failure = results[version.breaks[0]]
    assert f"Likely mistake: {title}." in first_failure, first_failure

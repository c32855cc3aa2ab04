"""Every catalogued mistake of lesson 01 is caught by exactly its checks and named in feedback."""

import contextlib
import io

import pytest

from autograder.checks import mlp_limits as checks
from autograder.feedback import CheckFailed
from autograder.mistakes import mlp_limits as catalogue
from solutions.mistakes import materialize, wrong_versions

VERSIONS = wrong_versions("01_mlp_limits")

# grade id of each test cell -> what the cell runs (public and hidden parts), in notebook order.
CELLS = {
    "test_dense_contract": lambda o: checks.check_dense_contract(o["Dense"]),
    "test_dense_matches_keras": lambda o: (
        checks.check_dense_matches_keras(o["Dense"]),
        checks.check_dense_matches_keras(o["Dense"], hidden=True),
    ),
    "test_dense_trains": lambda o: checks.check_dense_trains(o["Dense"]),
    "test_dense_params": lambda o: (
        checks.check_dense_params(o["dense_params"]),
        checks.check_dense_params(o["dense_params"], hidden=True),
    ),
    "test_mlp_params": lambda o: (
        checks.check_mlp_params(o["mlp_params"]),
        checks.check_mlp_params(o["mlp_params"], hidden=True),
    ),
    "test_conv1d_matrix_example": lambda o: checks.check_conv1d_matrix_example(o["conv1d_matrix"]),
    "test_conv1d_matrix": lambda o: (
        checks.check_conv1d_matrix(o["conv1d_matrix"]),
        checks.check_conv1d_matrix(o["conv1d_matrix"], hidden=True),
    ),
    "test_conv1d_matrix_sparsity": lambda o: checks.check_conv1d_matrix_sparsity(
        o["conv1d_matrix"]
    ),
    "test_conv2d_params": lambda o: (
        checks.check_conv2d_params(o["conv2d_params"]),
        checks.check_conv2d_params(o["conv2d_params"], hidden=True),
    ),
}


def grade(objects):
    """{grade id: feedback or None} for every test cell."""
    results = {}
    for cell, run in CELLS.items():
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                run(objects)
            results[cell] = None
        except CheckFailed as failure:
            results[cell] = str(failure)
    return results


def test_every_catalogued_mistake_has_a_wrong_version():
    covered = {version.mistake for version in VERSIONS}
    assert {mistake.id for mistake in catalogue.CATALOGUE} <= covered


def test_wrong_versions_break_only_known_cells():
    for version in VERSIONS:
        assert version.breaks and set(version.breaks) <= set(CELLS), version.name


def test_reference_passes_every_cell():
    import solutions.mlp_limits as reference

    assert grade(vars(reference)) == dict.fromkeys(CELLS)


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_wrong_version_fails_exactly_its_cells_and_is_named(version):
    results = grade(materialize(version, "solutions.mlp_limits"))
    failed = tuple(cell for cell, feedback in results.items() if feedback)
    assert failed == version.breaks
    title = next(m.title for m in catalogue.CATALOGUE if m.id == version.mistake)
    first_failure = results[version.breaks[0]]
    assert f"Likely mistake: {title}." in first_failure, first_failure

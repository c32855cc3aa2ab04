"""Every catalogued mistake of lesson 02 is caught by exactly its checks and named in feedback."""

import contextlib
import io

import pytest

from autograder.checks import convolution as checks
from autograder.feedback import CheckFailed
from autograder.mistakes import convolution as catalogue
from solutions.mistakes import materialize, wrong_versions

VERSIONS = wrong_versions("02_convolution")

# grade id of each test cell -> what the cell runs (public and hidden parts).
CELLS = {
    "test_hand_example": lambda o: checks.check_hand_example(o["cross_correlate2d"]),
    "test_cross_correlate2d": lambda o: (
        checks.check_cross_correlate2d(o["cross_correlate2d"]),
        checks.check_cross_correlate2d(o["cross_correlate2d"], hidden=True),
    ),
    "test_im2col": lambda o: (
        checks.check_im2col(o["im2col"]),
        checks.check_im2col(o["im2col"], hidden=True),
    ),
    "test_conv2d_contract": lambda o: checks.check_conv2d_contract(o["Conv2D"]),
    "test_conv2d_matches_keras": lambda o: (
        checks.check_conv2d_matches_keras(o["Conv2D"]),
        checks.check_conv2d_matches_keras(o["Conv2D"], hidden=True),
    ),
    "test_conv2d_trains": lambda o: checks.check_conv2d_trains(o["Conv2D"]),
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


def test_reference_passes_every_cell():
    assert grade(materialize_reference()) == dict.fromkeys(CELLS)


def materialize_reference():
    import solutions.convolution as reference

    return vars(reference)


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_wrong_version_fails_exactly_its_cells_and_is_named(version):
    results = grade(materialize(version, "solutions.convolution"))
    failed = tuple(cell for cell, feedback in results.items() if feedback)
    assert failed == version.breaks
    title = next(m.title for m in catalogue.CATALOGUE if m.id == version.mistake)
    first_failure = results[version.breaks[0]]
    assert f"Likely mistake: {title}." in first_failure, first_failure

"""Lesson 08's own mistake tests: the issue's mistakes are catalogued, the probes match no right
answer, and each exercise's stub fails its own cells (what every lesson keeps:
../test_conformance.py)."""

from pathlib import Path

import numpy as np
import pytest

import solutions.dropout as reference
from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.authoring.sources import released_namespace
from autograder.checks import dropout as checks
from autograder.diagnosis import first_match
from solutions.mistakes import wrong_versions

catalogue = lessons.module("08_dropout", "mistakes")

ROOT = Path(__file__).resolve().parents[4]
VERSIONS = wrong_versions("08_dropout")

CELLS = read_test_cells(ROOT / "notebooks" / "08_dropout" / "dropout.ipynb")

DROPOUT_CELLS = (
    "test_dropout_contract",
    "test_dropout_inference",
    "test_dropout_kept_values",
    "test_dropout_keep_rate",
    "test_dropout_fresh_masks",
    "test_dropout_seed",
    "test_dropout_noise_shape",
    "test_dropout_gradient",
    "test_dropout_compiled",
)
# Each exercise's own test cells: its stub must fail them with "not implemented yet".
EXERCISES = {
    "mask_shape": ("test_mask_shape",),
    "Dropout": DROPOUT_CELLS,
    "SpatialDropout2D": ("test_spatial_dropout_contract", "test_spatial_dropout_maps"),
}


def stubbed(names=None) -> dict:
    """The namespace of solutions/dropout.py with the exercises `names` left as stubs."""
    return released_namespace("solutions.dropout", names)


def grade(objects, exercise):
    """{grade id: feedback or None} for the test cells of `exercise` only (the test says
    nothing of the others), in this process."""
    cells = {cell: CELLS[cell] for cell in EXERCISES[exercise]}
    return grade_test_cells(cells, objects, checks)


def test_the_issue_s_mistakes_are_catalogued():
    ids = {mistake.id for mistake in catalogue.CATALOGUE}
    assert {
        "no_rescaling",
        "rescaled_at_inference",
        "rate_as_keep_probability",
        "drops_at_inference",
        "spatial_drops_elements",
        "batch_shared_mask",
        "noise_shape_ignored",
        "numpy_mask",
    } <= ids


def _reference_probe_outputs(cls, probes):
    return [checks._probe_output(cls, probe) for probe in probes]


@pytest.mark.parametrize("kind", ["dropout", "spatial"])
def test_correct_outputs_match_no_variant(kind):
    if kind == "dropout":
        probes, variants = catalogue.dropout_probes(), catalogue.DROPOUT_VARIANTS
        cls = reference.Dropout
    else:
        probes, variants = catalogue.spatial_probes(), catalogue.SPATIAL_VARIANTS
        cls = reference.SpatialDropout2D
    outputs = _reference_probe_outputs(cls, probes)
    assert all(out is not None for out in outputs)
    assert first_match(outputs, probes, variants) is None
    for variant in variants:
        assert not all(
            variant.matches(np.asarray(out), p) for out, p in zip(outputs, probes, strict=True)
        ), variant.mistake.id


@pytest.mark.parametrize("exercise", EXERCISES)
def test_a_stub_fails_its_cells_as_not_implemented(exercise):
    results = grade(stubbed({exercise}), exercise)
    for cell in EXERCISES[exercise]:
        assert results[cell] and "not implemented yet" in results[cell], (cell, results[cell])

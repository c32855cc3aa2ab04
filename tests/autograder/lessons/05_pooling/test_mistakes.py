"""Every catalogued mistake of lesson 05 is caught by exactly its checks and named in feedback."""

from pathlib import Path

import numpy as np
import pytest

import solutions.pooling as reference
from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.authoring.sources import released_namespace
from autograder.checks import pooling as checks
from autograder.diagnosis import first_match
from solutions.mistakes import materialize, wrong_versions

catalogue = lessons.module("05_pooling", "mistakes")

ROOT = Path(__file__).resolve().parents[4]
VERSIONS = wrong_versions("05_pooling")

CELLS = read_test_cells(ROOT / "notebooks" / "05_pooling" / "pooling.ipynb")

# Each exercise's own test cells: its stub must fail them with "not implemented yet".
EXERCISES = {
    "pool_output_size": ("test_pool_output_size",),
    "pool_windows": ("test_pool_windows",),
    "Pooling2D": ("test_pooling_contract", "test_hand_example"),
    "MaxPooling2D": ("test_hand_example", "test_max_pooling_matches_keras", "test_pooling_trains"),
    "AveragePooling2D": (
        "test_hand_example",
        "test_average_pooling_matches_keras",
        "test_pooling_trains",
    ),
    "GlobalAveragePooling2D": (
        "test_global_average_pooling_contract",
        "test_global_average_pooling_matches_keras",
    ),
}


def stubbed(names=None) -> dict:
    """The namespace of solutions/pooling.py with the exercises `names` left as stubs."""
    return released_namespace("solutions.pooling", names)


def grade(objects, across=False):
    """{grade id: feedback or None} for every test cell of the notebook; with `across`, as
    the grader runs them: across the sandbox boundary, on fresh cases."""
    return grade_test_cells(CELLS, objects, checks, across=across, fresh_seed=7)


def test_every_catalogued_mistake_has_a_wrong_version():
    covered = {version.mistake for version in VERSIONS}
    assert {mistake.id for mistake in catalogue.CATALOGUE} <= covered


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
def test_reference_passes_every_cell(across):
    assert grade(vars(reference), across) == dict.fromkeys(CELLS)


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_wrong_version_fails_exactly_its_cells_and_is_named(version, across):
    results = grade(materialize(version, "solutions.pooling"), across)
    failed = tuple(cell for cell, feedback in results.items() if feedback)
    assert failed == version.breaks, results
    title = next(m.title for m in catalogue.CATALOGUE if m.id == version.mistake)
    first_failure = results[version.breaks[0]]
    assert f"Likely mistake: {title}." in first_failure, first_failure
    for cell, feedback in results.items():  # no cell names another mistake
        if feedback and "Likely mistake:" in feedback:
            assert f"Likely mistake: {title}." in feedback, (cell, feedback)


def _probe_outputs(kind):
    if kind == "output_size":
        probes = catalogue.output_size_probes()
        outputs = [np.array([reference.pool_output_size(*c) for c in p["cases"]]) for p in probes]
        return probes, outputs, catalogue.OUTPUT_SIZE_VARIANTS
    if kind == "windows":
        probes = catalogue.windows_probes()
        outputs = [
            reference.pool_windows(
                p["x"], p["pool_size"], p["strides"], p["padding"], p["pad_value"]
            )
            for p in probes
        ]
        return probes, outputs, catalogue.WINDOWS_VARIANTS
    if kind == "global":
        probes = catalogue.global_probes()
        outputs = [reference.GlobalAveragePooling2D(keepdims=p["keepdims"])(p["x"]) for p in probes]
        return probes, outputs, catalogue.GLOBAL_VARIANTS
    probes = catalogue.layer_probes(kind)
    cls = reference.MaxPooling2D if kind == "max" else reference.AveragePooling2D
    outputs = [cls(p["pool_size"], p["strides"], p["padding"])(p["x"]) for p in probes]
    variants = catalogue.MAX_VARIANTS if kind == "max" else catalogue.AVERAGE_VARIANTS
    return probes, outputs, variants


@pytest.mark.parametrize("kind", ["output_size", "windows", "max", "average", "global"])
def test_correct_outputs_match_no_variant(kind):
    probes, outputs, variants = _probe_outputs(kind)
    assert first_match(outputs, probes, variants) is None
    for variant in variants:
        assert not all(
            variant.matches(np.asarray(out), p) for out, p in zip(outputs, probes, strict=True)
        ), variant.mistake.id


@pytest.mark.parametrize("exercise", EXERCISES)
def test_a_stub_fails_its_cells_as_not_implemented(exercise):
    results = grade(stubbed({exercise}))
    for cell in EXERCISES[exercise]:
        assert results[cell] and "not implemented yet" in results[cell], (cell, results[cell])


def test_the_released_notebook_fails_every_cell():
    results = grade(stubbed())
    assert all(results.values()), [cell for cell, feedback in results.items() if not feedback]

"""Every catalogued mistake of lesson 04 is caught by exactly its checks and named in feedback."""

from pathlib import Path

import numpy as np
import pytest

from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.authoring.sources import released_namespace
from autograder.checks import stride as checks
from autograder.diagnosis import first_match
from solutions.mistakes import materialize, wrong_versions

catalogue = lessons.module("04_stride", "mistakes")

ROOT = Path(__file__).resolve().parents[4]
VERSIONS = wrong_versions("04_stride")

CELLS = read_test_cells(ROOT / "notebooks" / "04_stride" / "stride.ipynb")


def grade(objects, across=False):
    """{grade id: feedback or None} for every test cell of the notebook; with `across`, as
    the grader runs them: across the sandbox boundary, on fresh cases."""
    return grade_test_cells(CELLS, objects, checks, across=across, fresh_seed=7)


def test_every_catalogued_mistake_has_a_wrong_version():
    covered = {version.mistake for version in VERSIONS}
    assert {mistake.id for mistake in catalogue.CATALOGUE} <= covered


def test_wrong_version_names_are_unique():
    names = [version.name for version in VERSIONS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
def test_reference_passes_every_cell(across):
    import solutions.stride as reference

    assert grade(vars(reference), across) == dict.fromkeys(CELLS)


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_wrong_version_fails_exactly_its_cells_and_is_named(version, across):
    results = grade(materialize(version, "solutions.stride"), across)
    failed = tuple(cell for cell, feedback in results.items() if feedback)
    assert failed == version.breaks
    title = next(m.title for m in catalogue.CATALOGUE if m.id == version.mistake)
    first_failure = results[version.breaks[0]]
    assert f"Likely mistake: {title}." in first_failure, first_failure


def test_no_variant_matches_the_right_answer():
    from solutions import stride

    probes = catalogue.conv_output_size_probes()
    sizes = np.array([stride.conv_output_size(*c) for c in probes[0]["calls"]], float)
    assert first_match([sizes], probes, catalogue.CONV_OUTPUT_SIZE_VARIANTS) is None
    probes = catalogue.padding_amounts_probes()
    table = np.array([stride.padding_amounts(*c) for c in probes[0]["calls"]], float)
    assert first_match([table], probes, catalogue.PADDING_AMOUNTS_VARIANTS) is None
    probes = catalogue.im2col_probes()
    outputs = [
        stride.im2col(p["x"], p["kernel_size"], p["strides"], p["dilation_rate"]) for p in probes
    ]
    assert first_match(outputs, probes, catalogue.IM2COL_VARIANTS) is None
    probes = catalogue.conv2d_probes()
    outputs = []
    for p in probes:
        layer = stride.Conv2D(
            2, p["kernel_size"], p["strides"], p["padding"], dilation_rate=p["dilation_rate"]
        )
        layer.build(p["x"].shape)
        layer.set_weights([p["kernel"], p["bias"]])
        outputs.append(layer(p["x"]))
    assert first_match(outputs, probes, catalogue.CONV2D_VARIANTS) is None
    probes = catalogue.receptive_field_probes()
    fields = np.array([stride.receptive_field(s) for s in probes[0]["stacks"]], float)
    assert first_match([fields], probes, catalogue.RECEPTIVE_FIELD_VARIANTS) is None


def test_catalogue_references_agree_with_the_solution():
    from solutions import stride

    for call in catalogue.SIZE_CALLS:
        assert catalogue.output_size(*call) == stride.conv_output_size(*call)
    for call in catalogue.AMOUNT_CALLS:
        assert catalogue.amounts(*call) == stride.padding_amounts(*call)
    for p in catalogue.im2col_probes():
        args = (p["x"], p["kernel_size"], p["strides"], p["dilation_rate"])
        np.testing.assert_array_equal(catalogue.patches(*args), stride.im2col(*args))


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
def test_released_stubs_fail_every_cell_with_advice(across):
    results = grade(released_namespace("solutions.stride"), across)
    for cell, feedback in results.items():
        assert feedback is not None and "not implemented yet" in feedback, (cell, feedback)

"""Every catalogued mistake of lesson 03 is caught by exactly its checks and named in feedback."""

from pathlib import Path

import numpy as np
import pytest

from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells, run_test_cell
from autograder.authoring.sources import released_namespace
from autograder.checks import padding as checks
from autograder.diagnosis import first_match
from autograder.feedback import CheckFailed
from solutions.mistakes import WrongVersion, materialize, wrong_versions

catalogue = lessons.module("03_padding", "mistakes")

ROOT = Path(__file__).resolve().parents[4]
VERSIONS = wrong_versions("03_padding")

CELLS = read_test_cells(ROOT / "notebooks" / "03_padding" / "padding.ipynb")


def grade(objects, across=False):
    """{grade id: feedback or None} for every test cell of the notebook; with `across`, as
    the grader runs them: across the sandbox boundary, on fresh cases."""
    return grade_test_cells(CELLS, objects, checks, across=across, fresh_seed=7)


def title(mistake_id):
    return next(m.title for m in catalogue.CATALOGUE if m.id == mistake_id)


def test_every_catalogued_mistake_has_a_wrong_version():
    covered = {version.mistake for version in VERSIONS}
    assert {mistake.id for mistake in catalogue.CATALOGUE} <= covered


def test_wrong_version_names_are_unique():
    names = [version.name for version in VERSIONS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
def test_reference_passes_every_cell(across):
    import solutions.padding as reference

    assert grade(vars(reference), across) == dict.fromkeys(CELLS)


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_wrong_version_fails_exactly_its_cells_and_is_named(version, across):
    results = grade(materialize(version, "solutions.padding"), across)
    failed = tuple(cell for cell, feedback in results.items() if feedback)
    assert failed == version.breaks
    first_failure = results[version.breaks[0]]
    assert f"Likely mistake: {title(version.mistake)}." in first_failure, first_failure


def test_padding_with_ones_is_named_too():
    version = WrongVersion(
        "pad_not_zero", {"ZeroPadding2D.call": "solutions.mistakes.padding:call_pad_with_ones"}
    )
    objects = materialize(version, "solutions.padding")
    for cell in ("test_zero_padding", "test_conv2d_matches_keras"):
        with pytest.raises(CheckFailed, match=f"Likely mistake: {title('pad_not_zero')}"):
            run_test_cell(CELLS[cell], objects, checks)


def test_no_variant_matches_the_right_answer():
    from solutions.padding import Conv2D, ZeroPadding2D, padding_amounts

    probes = catalogue.padding_amounts_probes()
    table = np.array([padding_amounts(k, mode) for k, mode in probes[0]["calls"]], float)
    assert first_match([table], probes, catalogue.PADDING_AMOUNTS_VARIANTS) is None
    probes = catalogue.zero_padding2d_probes()
    outputs = [ZeroPadding2D(p["padding"])(p["x"]) for p in probes]
    assert first_match(outputs, probes, catalogue.ZERO_PADDING2D_VARIANTS) is None
    probes = catalogue.conv2d_probes()
    outputs = []
    for p in probes:
        layer = Conv2D(2, p["kernel_size"], padding=p["padding"])
        layer.build(p["x"].shape)
        layer.set_weights([p["kernel"], p["bias"]])
        outputs.append(layer(p["x"]))
    assert first_match(outputs, probes, catalogue.CONV2D_VARIANTS) is None


@pytest.mark.parametrize("key", sorted(catalogue.RULES))
def test_each_wrong_padding_rule_is_told_apart_on_the_conv2d_probes(key):
    mistake, rule = catalogue.RULES[key]
    probes = catalogue.conv2d_probes()
    outputs = [catalogue.padded_conv(p, rule) for p in probes]
    assert first_match(outputs, probes, catalogue.CONV2D_VARIANTS) == mistake


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
def test_released_stubs_fail_every_cell_with_advice(across):
    results = grade(released_namespace("solutions.padding"), across)
    for cell, feedback in results.items():
        assert feedback is not None and "not implemented yet" in feedback, (cell, feedback)

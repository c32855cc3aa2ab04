"""Every catalogued mistake of lesson 07 is caught by exactly its checks and named in feedback."""

from pathlib import Path

import numpy as np
import pytest

import solutions.batchnorm as reference
from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.authoring.sources import released_namespace
from autograder.checks import batchnorm as checks
from autograder.diagnosis import first_match
from solutions.mistakes import materialize, wrong_versions

catalogue = lessons.module("07_batchnorm", "mistakes")

ROOT = Path(__file__).resolve().parents[4]
VERSIONS = wrong_versions("07_batchnorm")

CELLS = read_test_cells(ROOT / "notebooks" / "07_batchnorm" / "batchnorm.ipynb")

LAYER_CELLS = (
    "test_batchnorm_contract",
    "test_training_mode",
    "test_moving_statistics",
    "test_inference_mode",
    "test_trainable_false",
    "test_batchnorm_trains",
)
# Each exercise's own test cells: its stub must fail them with "not implemented yet".
EXERCISES = {
    "batch_statistics": ("test_batch_statistics",),
    "BatchNormalization": LAYER_CELLS,
    "batchnorm_backward": ("test_batchnorm_backward",),
}


def stubbed(names=None) -> dict:
    """The namespace of solutions/batchnorm.py with the exercises `names` left as stubs."""
    return released_namespace("solutions.batchnorm", names)


def grade(objects, across=False):
    """{grade id: feedback or None} for every test cell of the notebook; with `across`, as
    the grader runs them: across the sandbox boundary, on fresh cases."""
    return grade_test_cells(CELLS, objects, checks, across=across, fresh_seed=7)


def test_every_catalogued_mistake_has_a_wrong_version():
    covered = {version.mistake for version in VERSIONS}
    assert {mistake.id for mistake in catalogue.CATALOGUE} <= covered


def test_the_notebook_has_the_cells_the_catalogue_expects():
    assert tuple(CELLS) == ("test_batch_statistics", *LAYER_CELLS, "test_batchnorm_backward")


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
def test_reference_passes_every_cell(across):
    assert grade(vars(reference), across) == dict.fromkeys(CELLS)


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_wrong_version_fails_exactly_its_cells_and_is_named(version, across):
    results = grade(materialize(version, "solutions.batchnorm"), across)
    failed = tuple(cell for cell, feedback in results.items() if feedback)
    assert failed == version.breaks, results
    title = next(m.title for m in catalogue.CATALOGUE if m.id == version.mistake)
    first_failure = results[version.breaks[0]]
    assert f"Likely mistake: {title}." in first_failure, first_failure
    for cell, feedback in results.items():  # no cell names another mistake
        if feedback and "Likely mistake:" in feedback:
            assert f"Likely mistake: {title}." in feedback, (cell, feedback)


def _layer_outputs():
    outputs = []
    for probe in catalogue.layer_probes():
        kwargs = {"momentum": probe["momentum"], "epsilon": probe["epsilon"]}
        layer = reference.BatchNormalization(**kwargs, trainable=probe["trainable"])
        layer.build((None, *probe["steps"][0][0].shape[1:]))
        checks.ops.assign(layer, probe["weights"])
        results = []
        for x, training in probe["steps"]:
            out = layer(x) if training is None else layer(x, training=training)
            state = checks.ops.weight_values(layer)
            results.append((np.asarray(out), state["moving_mean"], state["moving_variance"]))
        outputs.append(catalogue.pack(results))
    return outputs


def _probe_outputs(kind):
    if kind == "statistics":
        probes = catalogue.statistics_probes()
        outputs = [
            catalogue.packed_statistics(*map(np.asarray, reference.batch_statistics(p["x"])))
            for p in probes
        ]
        return probes, outputs, catalogue.STATISTICS_VARIANTS
    if kind == "layer":
        return catalogue.layer_probes(), _layer_outputs(), catalogue.LAYER_VARIANTS
    probes = catalogue.backward_probes()
    outputs = [
        catalogue.packed_gradients(
            reference.batchnorm_backward(p["x"], p["gamma"], p["grad_output"], p["epsilon"])
        )
        for p in probes
    ]
    return probes, outputs, catalogue.BACKWARD_VARIANTS


@pytest.mark.parametrize("kind", ["statistics", "layer", "backward"])
def test_correct_outputs_match_no_variant(kind):
    probes, outputs, variants = _probe_outputs(kind)
    assert first_match(outputs, probes, variants) is None
    for variant in variants:
        assert not all(
            variant.matches(np.asarray(out), p) for out, p in zip(outputs, probes, strict=True)
        ), variant.mistake.id


def test_the_simulation_without_mistakes_is_the_reference():
    for probe, packed in zip(catalogue.layer_probes(), _layer_outputs(), strict=True):
        kwargs = {k: probe[k] for k in ("momentum", "epsilon", "trainable")}
        wanted = catalogue.pack(catalogue.simulate(probe["steps"], probe["weights"], **kwargs))
        np.testing.assert_allclose(packed, wanted, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_a_stub_fails_its_cells_as_not_implemented(exercise):
    results = grade(stubbed({exercise}))
    for cell in EXERCISES[exercise]:
        assert results[cell] and "not implemented yet" in results[cell], (cell, results[cell])


def test_the_released_notebook_fails_every_cell():
    results = grade(stubbed())
    assert all(results.values()), [cell for cell, feedback in results.items() if not feedback]

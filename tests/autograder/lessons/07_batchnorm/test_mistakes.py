"""Lesson 07's own mistake tests: the notebook has the cells the catalogue expects, the probes
and the simulation agree with the reference, and each exercise's stub fails its own cells (what
every lesson keeps: ../test_conformance.py)."""

from pathlib import Path

import numpy as np
import pytest

import solutions.batchnorm as reference
from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.authoring.sources import released_namespace
from autograder.checks import batchnorm as checks
from autograder.diagnosis import first_match
from solutions.mistakes import wrong_versions

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


def test_the_notebook_has_the_cells_the_catalogue_expects():
    assert tuple(CELLS) == ("test_batch_statistics", *LAYER_CELLS, "test_batchnorm_backward")


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
    objects = released_namespace("solutions.batchnorm", {exercise})
    cells = {cell: CELLS[cell] for cell in EXERCISES[exercise]}
    results = grade_test_cells(cells, objects, checks)
    for cell in EXERCISES[exercise]:
        assert results[cell] and "not implemented yet" in results[cell], (cell, results[cell])

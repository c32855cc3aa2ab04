"""Lesson 06's own mistake tests: the issue's mistakes are catalogued, the probes match no right
answer, and each exercise's stub fails its own cells (what every lesson keeps:
../test_conformance.py)."""

from pathlib import Path

import numpy as np
import pytest

import solutions.backprop as reference
from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.authoring.sources import released_namespace
from autograder.checks import backprop as checks
from autograder.diagnosis import first_match
from autograder.harness import ops
from solutions.mistakes import wrong_versions

catalogue = lessons.module("06_backprop", "mistakes")
own_ops = lessons.module("06_backprop", "ops")

ROOT = Path(__file__).resolve().parents[4]
VERSIONS = wrong_versions("06_backprop")

CELLS = read_test_cells(ROOT / "notebooks" / "06_backprop" / "backprop.ipynb")

# Each exercise's own test cells: its stub must fail them with "not implemented yet".
EXERCISES = {
    "numerical_gradient": ("test_numerical_gradient",),
    "conv2d_backward": (
        "test_conv2d_backward_hand_example",
        "test_conv2d_backward_matches_tensorflow",
        "test_conv2d_backward_gradient_check",
        "test_conv2d_custom_gradient",
        "test_conv2d_trains",
    ),
    "max_pool_backward": (
        "test_max_pool_backward_hand_example",
        "test_max_pool_backward_matches_tensorflow",
    ),
    "Conv2D": ("test_conv2d_custom_gradient", "test_conv2d_trains"),
}


def test_the_issue_s_mistakes_are_catalogued():
    ids = {mistake.id for mistake in catalogue.CATALOGUE}
    assert {
        "unflipped_kernel",
        "valid_not_full",
        "kernel_not_summed",
        "kernel_averaged",
        "bias_not_summed",
        "every_cell",
        "averaged",
        "one_sided",
        "reshaped_not_transposed",
    } <= ids
    assert any(
        v.mistake == "reshaped_not_transposed" and "Conv2D.call" in v.replacements for v in VERSIONS
    )


def _probe_outputs(kind):
    if kind == "numerical":
        probes = catalogue.numerical_gradient_probes()
        fn = reference.numerical_gradient
        outputs = [
            own_ops.numerical_gradient_of(fn, p["spec"], p["x"], eps=p["eps"])["gradient"]
            for p in probes
        ]
        return [(probes, outputs, catalogue.NUMERICAL_GRADIENT_VARIANTS)]
    if kind == "conv":
        probes = catalogue.conv_probes()
        results = [reference.conv2d_backward(p["x"], p["kernel"], p["g"]) for p in probes]
        return [
            (probes, [np.asarray(r[i]) for r in results], variants)
            for i, variants in enumerate(
                (
                    catalogue.GRAD_X_VARIANTS,
                    catalogue.GRAD_KERNEL_VARIANTS,
                    catalogue.GRAD_BIAS_VARIANTS,
                )
            )
        ]
    if kind == "layer":
        probes = catalogue.layer_probes()
        found = []
        for p in probes:
            layer = reference.Conv2D(4, (3, 2), activation="tanh")
            layer.build(p["x"].shape)
            layer.set_weights([p["kernel"].astype("float32"), p["bias"].astype("float32")])
            x, upstream = p["x"].astype("float32"), p["upstream"].astype("float32")
            found.append(ops.gradients(layer, x, upstream=upstream))
        return [
            (
                probes,
                [f["inputs"] if part == "inputs" else f["weights"][part] for f in found],
                variants,
            )
            for part, variants in catalogue.LAYER_VARIANTS.items()
        ]
    probes = catalogue.max_pool_probes()
    outputs = [reference.max_pool_backward(p["x"], p["g"], p["pool_size"]) for p in probes]
    return [(probes, outputs, catalogue.MAX_POOL_VARIANTS)]


@pytest.mark.parametrize("kind", ["numerical", "conv", "layer", "max_pool"])
def test_correct_outputs_match_no_variant(kind):
    for probes, outputs, variants in _probe_outputs(kind):
        assert first_match(outputs, probes, variants) is None
        for variant in variants:
            assert not all(
                variant.matches(np.asarray(out), p) for out, p in zip(outputs, probes, strict=True)
            ), variant.mistake.id


@pytest.mark.parametrize("exercise", EXERCISES)
def test_a_stub_fails_its_cells_as_not_implemented(exercise):
    objects = released_namespace("solutions.backprop", {exercise})
    cells = {cell: CELLS[cell] for cell in EXERCISES[exercise]}
    results = grade_test_cells(cells, objects, checks)
    for cell in EXERCISES[exercise]:
        assert results[cell] and "not implemented yet" in results[cell], (cell, results[cell])

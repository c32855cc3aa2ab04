"""Lesson 05's own mistake tests: the pooling catalogue's probes match no right answer, and each
exercise's stub fails its own cells (what every lesson keeps: ../test_conformance.py)."""

import numpy as np
import pytest

import solutions.pooling as reference
from autograder import lessons
from autograder.diagnosis import first_match
from tests.autograder.lessons import cells

catalogue = lessons.module("05_pooling", "mistakes")

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
    results = cells.grade(
        "05_pooling", cells.stubbed("05_pooling", {exercise}), EXERCISES[exercise]
    )
    for cell in EXERCISES[exercise]:
        assert results[cell] and "not implemented yet" in results[cell], (cell, results[cell])

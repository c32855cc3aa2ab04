"""Every catalogued mistake of lesson 06 is caught by exactly its checks and named in feedback."""

from pathlib import Path

import numpy as np
import pytest

import solutions.backprop as reference
from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.authoring.sources import module_path, released_namespace
from autograder.checks import backprop as checks
from autograder.diagnosis import first_match
from autograder.harness import ops
from solutions.mistakes import materialize, wrong_versions

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


def stubbed(names=None) -> dict:
    """The namespace of solutions/backprop.py with the exercises `names` left as stubs."""
    return released_namespace("solutions.backprop", names)


def grade(objects, across=False):
    """{grade id: feedback or None} for every test cell of the notebook; with `across`, as
    the grader runs them: across the sandbox boundary, on fresh cases."""
    return grade_test_cells(CELLS, objects, checks, across=across, fresh_seed=7)


def test_every_catalogued_mistake_has_a_wrong_version():
    covered = {version.mistake for version in VERSIONS}
    assert {mistake.id for mistake in catalogue.CATALOGUE} <= covered
    assert len({version.name for version in VERSIONS}) == len(VERSIONS)  # demo student ids


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


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
def test_reference_passes_every_cell(across):
    assert grade(materialize_reference(), across) == dict.fromkeys(CELLS)


def materialize_reference():
    """The reference module run as the notebook runs it: one namespace for every object."""
    namespace = {"__name__": "solutions.backprop__notebook"}
    source = module_path("solutions.backprop").read_text()
    exec(compile(source, "<reference>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_wrong_version_fails_exactly_its_cells_and_is_named(version, across):
    results = grade(materialize(version, "solutions.backprop"), across)
    failed = tuple(cell for cell, feedback in results.items() if feedback)
    assert failed == version.breaks, results
    title = next(m.title for m in catalogue.CATALOGUE if m.id == version.mistake)
    first_failure = results[version.breaks[0]]
    assert f"Likely mistake: {title}." in first_failure, first_failure
    for cell, feedback in results.items():  # no cell names another mistake
        if feedback and "Likely mistake:" in feedback:
            assert f"Likely mistake: {title}." in feedback, (cell, feedback)


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
    results = grade(stubbed({exercise}))
    for cell in EXERCISES[exercise]:
        assert results[cell] and "not implemented yet" in results[cell], (cell, results[cell])


def test_the_released_notebook_fails_every_cell():
    results = grade(stubbed())
    assert all(results.values()), [cell for cell, feedback in results.items() if not feedback]


def test_the_released_notebook_fails_every_cell_across_the_boundary():
    results = grade(stubbed(), across=True)
    assert all(results.values()), [cell for cell, feedback in results.items() if not feedback]

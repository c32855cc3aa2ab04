"""Lesson 09's own mistake tests: the notebook has the cells this file knows, a wrong version
runs only the cells it can reach, flips are diagnosed right, and each exercise's stub fails its
own cells (what every lesson keeps: ../test_conformance.py)."""

import importlib
from pathlib import Path

import numpy as np
import pytest

import solutions.transfer_learning as reference
from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.authoring.sources import released_namespace
from autograder.checks import transfer_learning as checks
from solutions.mistakes import wrong_versions

catalogue = lessons.module("09_transfer_learning", "mistakes")
conformance = importlib.import_module("tests.autograder.lessons.09_transfer_learning.conformance")

ROOT = Path(__file__).resolve().parents[4]
VERSIONS = wrong_versions("09_transfer_learning")

CELLS = read_test_cells(ROOT / "notebooks" / "09_transfer_learning" / "transfer_learning.ipynb")

FLIP_CELLS = (
    "test_random_flip_contract",
    "test_random_flip_modes",
    "test_random_flip_per_image",
    "test_random_flip_inference",
)
# Each exercise's own test cells: its stub must fail them with "not implemented yet".
EXERCISES = {
    "RandomFlip": FLIP_CELLS,
    "freeze": ("test_freeze",),
    "TransferModel": ("test_transfer_model",),
    "train_head": ("test_train_head",),
    "unfreeze_from": ("test_unfreeze_from",),
    "fine_tune": ("test_fine_tune",),
}


def stubbed(names=None) -> dict:
    """The namespace of solutions/transfer_learning.py with the exercises `names` left as stubs."""
    return released_namespace("solutions.transfer_learning", names)


def test_the_notebook_has_the_cells_this_file_knows():
    assert set(CELLS) == {cell for cells in EXERCISES.values() for cell in cells}


def test_the_cells_worth_running_follow_the_calls_between_objects():
    assert conformance.DEPENDS["fine_tune"] == {"fine_tune", "train_head"}
    fake = type("Version", (), {"replacements": {"train_head": "x:y"}})()
    assert conformance.cells_worth_running(fake) == {"test_train_head", "test_fine_tune"}
    for version in VERSIONS:
        assert set(version.breaks) <= conformance.cells_worth_running(version), version.name


def test_diagnosis_finds_no_mistake_in_correct_flips():
    x = np.random.default_rng(0).normal(size=(64, 5, 6, 2)).astype("float32")
    layer = reference.RandomFlip("horizontal", seed=1)
    found = catalogue.outcomes(np.asarray(layer(x, training=True)), x)
    assert set(found) == {"unchanged", "horizontal"}
    assert catalogue.mode_mistake("horizontal", found) is None


@pytest.mark.parametrize("exercise", EXERCISES)
def test_a_stub_fails_its_cells_as_not_implemented(exercise):
    cells = {cell: CELLS[cell] for cell in EXERCISES[exercise]}
    results = grade_test_cells(cells, stubbed({exercise}), checks)
    for cell in EXERCISES[exercise]:
        assert results[cell] and "not implemented yet" in results[cell], (cell, results[cell])

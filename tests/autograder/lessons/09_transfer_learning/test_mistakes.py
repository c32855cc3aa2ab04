"""Every catalogued mistake of lesson 09 is caught by exactly its checks and named in feedback."""

import ast
from pathlib import Path

import numpy as np
import pytest

import solutions.transfer_learning as reference
from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.authoring.sources import module_path, released_namespace
from autograder.checks import transfer_learning as checks
from solutions.mistakes import materialize, wrong_versions

catalogue = lessons.module("09_transfer_learning", "mistakes")

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


def grade(objects, across=False):
    """{grade id: feedback or None} for every test cell of the notebook; with `across`, as
    the grader runs them: across the sandbox boundary, on fresh cases."""
    return grade_test_cells(CELLS, objects, checks, across=across, fresh_seed=7)


def test_the_notebook_has_the_cells_this_file_knows():
    assert set(CELLS) == {cell for cells in EXERCISES.values() for cell in cells}


def test_every_catalogued_mistake_has_a_wrong_version():
    covered = {version.mistake for version in VERSIONS}
    assert {mistake.id for mistake in catalogue.CATALOGUE} <= covered
    assert covered <= {mistake.id for mistake in catalogue.CATALOGUE}


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
def test_reference_passes_every_cell(across):
    assert grade(vars(reference), across) == dict.fromkeys(CELLS)


@pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_wrong_version_fails_exactly_its_cells_and_is_named(version, across):
    namespace = materialize(version, "solutions.transfer_learning")
    cells = {cell: CELLS[cell] for cell in CELLS if cell in _cells_worth_running(version)}
    results = grade_test_cells(cells, namespace, checks, across=across, fresh_seed=7)
    failed = tuple(cell for cell, feedback in results.items() if feedback)
    assert failed == version.breaks, results
    title = next(m.title for m in catalogue.CATALOGUE if m.id == version.mistake)
    first_failure = results[version.breaks[0]]
    assert f"Likely mistake: {title}." in first_failure, first_failure
    for cell, feedback in results.items():  # no cell names another mistake
        if feedback and "Likely mistake:" in feedback:
            assert f"Likely mistake: {title}." in feedback, (cell, feedback)


def _uses(tree) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _dependencies() -> dict[str, set[str]]:
    """{top-level object of solutions/transfer_learning.py: the top-level objects it uses,
    directly or through others}."""
    tree = ast.parse(module_path("solutions.transfer_learning").read_text())
    defined = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    direct = {name: _uses(node) & set(defined) - {name} for name, node in defined.items()}
    closure = {}
    for name in defined:
        seen, todo = set(), [name]
        while todo:
            for used in direct[todo.pop()]:
                if used not in seen:
                    seen.add(used)
                    todo.append(used)
        closure[name] = seen | {name}
    return closure


DEPENDS = _dependencies()


def _cells_worth_running(version) -> set[str]:
    """The cells whose code reaches a replaced object: every other cell runs exactly the
    reference's code (or trusted code) and passes, as test_reference_passes_every_cell shows.

    A cell reaches the objects it names and, through them, every object they use (the
    reference fine_tune calls train_head, so a wrong train_head would reach test_fine_tune).
    """
    owners = {target.partition(".")[0] for target in version.replacements}
    worth = set()
    for cell, source in CELLS.items():
        named = _uses(ast.parse(source)) & set(DEPENDS)
        if any(owners & DEPENDS[name] for name in named):
            worth.add(cell)
    return worth


def test_the_cells_worth_running_follow_the_calls_between_objects():
    assert DEPENDS["fine_tune"] == {"fine_tune", "train_head"}
    fake = type("Version", (), {"replacements": {"train_head": "x:y"}})()
    assert _cells_worth_running(fake) == {"test_train_head", "test_fine_tune"}
    for version in VERSIONS:
        assert set(version.breaks) <= _cells_worth_running(version), version.name


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


def test_the_released_notebook_fails_every_cell():
    results = grade(stubbed())
    assert all(results.values()), [cell for cell, feedback in results.items() if not feedback]

"""What every lesson keeps, proved over every lesson found (`autograder.lessons.names()`).

For each lesson: every catalogued mistake has a wrong version (`solutions/mistakes/<topic>.py`);
the reference (`solutions/<topic>.py`) passes every test cell of the notebook, public and
hidden, in this process and across the sandbox boundary on fresh cases over several seeds;
each wrong version fails exactly its cells and is named in feedback; and the released
notebook, untouched, fails every cell as "not implemented yet".

A lesson may tune this in `tests/autograder/lessons/NN_topic/conformance.py`, a module of
optional settings (defaults below, in `Lesson`):

- `FRESH_SEED`: the seed of the fresh cases across the boundary;
- `EXTRA_SEEDS`: more seeds on which the reference must pass across (fewer for slow lessons);
- `reference()`: the reference namespace, when `vars(solutions.<topic>)` is not the right one;
- `cells_worth_running(version)`: the cells a wrong version can reach, when running all of
  them is slow and the others provably run only the reference's code;
- `EVERY_BROKEN_CELL_NAMED`: every cell a wrong version breaks names its mistake, not only
  the first;
- `ONLY_ITS_MISTAKE_NAMED`: no cell names another mistake than the wrong version's (off where
  a wrong part makes a later, correct part behave exactly like another catalogued mistake);
- `UNIQUE_VERSION_NAMES = False`: a known defect, two wrong versions share a name (the test
  then fails until it is fixed).

A new lesson needs no entry here: copying a lesson's folder is enough (test_new_lesson.py).
"""

import ast
import importlib
from functools import cached_property
from pathlib import Path

import pytest

from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.authoring.sources import released_namespace
from solutions.mistakes import materialize, wrong_versions

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).parent


# What a lesson's conformance.py may set; it may also define `reference`, `cells_worth_running`.
SETTINGS = (
    "FRESH_SEED",
    "EXTRA_SEEDS",
    "EVERY_BROKEN_CELL_NAMED",
    "ONLY_ITS_MISTAKE_NAMED",
    "UNIQUE_VERSION_NAMES",
)


class Lesson:
    """One lesson as the tests see it: its notebook's cells, checks, catalogue and settings."""

    FRESH_SEED = 7
    # Two more draws of the fresh cases: the grader draws new ones for every submission.
    EXTRA_SEEDS = (11, 12)
    EVERY_BROKEN_CELL_NAMED = False
    ONLY_ITS_MISTAKE_NAMED = True
    UNIQUE_VERSION_NAMES = True

    def __init__(self, name: str):
        self.name = name
        self.topic = lessons.topic(name)
        self.module = f"solutions.{self.topic}"
        hook = HERE / name / "conformance.py"
        local = (
            importlib.import_module(f"tests.autograder.lessons.{name}.conformance")
            if hook.is_file()
            else None
        )
        self.local = local
        for setting in SETTINGS:
            if hasattr(local, setting):
                setattr(self, setting, getattr(local, setting))

    def __repr__(self) -> str:
        return self.name

    @property
    def parts(self) -> dict[str, Path]:
        """What a lesson has outside its folder, where docs/authoring.md puts it."""
        return {
            "notebook": ROOT / "notebooks" / self.name / f"{self.topic}.ipynb",
            "reference code": ROOT / "solutions" / f"{self.topic}.py",
            "wrong versions": ROOT / "solutions" / "mistakes" / f"{self.topic}.py",
        }

    @cached_property
    def cells(self) -> dict[str, str]:
        notebook = self.parts["notebook"]
        if not notebook.is_file():
            pytest.fail(f"{self}: no notebook {notebook.relative_to(ROOT)}", pytrace=False)
        return read_test_cells(notebook)

    @cached_property
    def checks(self):
        return lessons.module(self.name, "checks")

    @cached_property
    def catalogue(self):
        return lessons.module(self.name, "mistakes")

    def title(self, mistake: str) -> str:
        return next(m.title for m in self.catalogue.CATALOGUE if m.id == mistake)

    def reference(self) -> dict:
        if hasattr(self.local, "reference"):
            return self.local.reference()
        return vars(importlib.import_module(self.module))

    def cells_for(self, version) -> dict[str, str]:
        if not hasattr(self.local, "cells_worth_running"):
            return self.cells
        worth = self.local.cells_worth_running(version)
        return {cell: source for cell, source in self.cells.items() if cell in worth}

    def grade(self, objects, across=False, seed=None, cells=None) -> dict[str, str | None]:
        """{grade id: feedback or None} for the notebook's test cells (all, or `cells`); with
        `across`, as the grader runs them: across the sandbox boundary, on fresh cases."""
        seed = self.FRESH_SEED if seed is None else seed
        cells = self.cells if cells is None else cells
        return grade_test_cells(cells, objects, self.checks, across=across, fresh_seed=seed)


LESSONS = {name: Lesson(name) for name in lessons.names()}
VERSIONS = [(lesson, v) for lesson in LESSONS.values() for v in wrong_versions(lesson.name)]
ACROSS = pytest.mark.parametrize("across", [False, True], ids=["in-process", "across"])


def by_lesson(test):
    return pytest.mark.parametrize("lesson", LESSONS.values(), ids=str)(test)


@by_lesson
def test_the_lesson_has_all_its_parts(lesson):
    """Its notebook, reference code and wrong versions are where docs/authoring.md puts them
    (its folder, with checks.py, is how it was found)."""
    missing = [
        f"{part} {path.relative_to(ROOT)}"
        for part, path in lesson.parts.items()
        if not path.is_file()
    ]
    assert not missing, f"{lesson} lacks: {'; '.join(missing)} (see docs/authoring.md)"


@by_lesson
def test_every_test_cell_calls_the_lesson_s_checks(lesson):
    """The notebook (notebooks/NN_topic/topic.ipynb) has test cells, and each calls checks
    that the lesson's checks module defines."""
    assert lesson.cells, "the notebook has no autograded test cell"
    for cell, source in lesson.cells.items():
        called = {
            node.attr
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "checks"
        }
        assert called, f"{cell} calls no check"
        assert all(hasattr(lesson.checks, name) for name in called), (cell, called)


@by_lesson
def test_every_catalogued_mistake_has_a_wrong_version(lesson):
    versions = wrong_versions(lesson.name)
    catalogued = {mistake.id for mistake in lesson.catalogue.CATALOGUE}
    made = {version.mistake for version in versions}
    unmade, unknown = sorted(catalogued - made), sorted(made - catalogued)
    where = f"WRONG_VERSIONS of solutions/mistakes/{lesson.topic}.py"
    assert not unmade, f"catalogued mistakes with no wrong version in {where}: {unmade}"
    assert not unknown, f"{where} makes mistakes its mistakes.py lacks: {unknown}"
    for version in versions:
        unknown_cells = sorted(set(version.breaks) - set(lesson.cells))
        assert version.breaks, f"{version.name}: `breaks` names no test cell"
        assert not unknown_cells, f"{version.name} breaks cells the notebook lacks: {unknown_cells}"


@by_lesson
def test_wrong_version_names_are_unique(lesson, request):
    """Each names a demo student (`mistake-<name>`): two with one name would share a folder."""
    if not lesson.UNIQUE_VERSION_NAMES:
        request.applymarker(pytest.mark.xfail(strict=True, reason="known: see its conformance.py"))
    names = [version.name for version in wrong_versions(lesson.name)]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@ACROSS
@by_lesson
def test_reference_passes_every_cell(lesson, across):
    assert lesson.grade(lesson.reference(), across) == dict.fromkeys(lesson.cells)


@by_lesson
def test_reference_passes_every_cell_over_fresh_seeds(lesson):
    if not lesson.EXTRA_SEEDS:
        pytest.skip(f"{lesson} draws its fresh cases from one seed only (its conformance.py)")
    for seed in lesson.EXTRA_SEEDS:
        results = lesson.grade(lesson.reference(), across=True, seed=seed)
        assert results == dict.fromkeys(lesson.cells), (seed, results)


@ACROSS
@pytest.mark.parametrize(
    ("lesson", "version"), VERSIONS, ids=[f"{lesson}-{v.name}" for lesson, v in VERSIONS]
)
def test_wrong_version_fails_exactly_its_cells_and_is_named(lesson, version, across):
    objects = materialize(version, lesson.module)
    results = lesson.grade(objects, across, cells=lesson.cells_for(version))
    failed = tuple(cell for cell, feedback in results.items() if feedback)
    assert failed == version.breaks, results
    title = lesson.title(version.mistake)
    first_failure = results[version.breaks[0]]
    assert f"Likely mistake: {title}." in first_failure, first_failure
    if lesson.EVERY_BROKEN_CELL_NAMED:
        for cell in version.breaks:
            assert f"Likely mistake: {title}." in results[cell], (cell, results[cell])
    if lesson.ONLY_ITS_MISTAKE_NAMED:
        for cell, feedback in results.items():
            if feedback and "Likely mistake:" in feedback:
                assert f"Likely mistake: {title}." in feedback, (cell, feedback)
    # a cell that names a mistake also carries it: the class report counts it, its text folds
    for cell, feedback in results.items():
        if feedback and f"Likely mistake: {title}." in feedback:
            assert feedback.mistake == version.mistake, (cell, feedback)


@ACROSS
@by_lesson
def test_the_released_notebook_fails_every_cell_as_not_implemented(lesson, across):
    """An untouched release scores zero, with advice rather than a traceback."""
    results = lesson.grade(released_namespace(lesson.module), across)
    for cell, feedback in results.items():
        assert feedback is not None and "not implemented yet" in feedback, (cell, feedback)

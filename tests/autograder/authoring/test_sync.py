from pathlib import Path

import nbformat
import pytest

from autograder.authoring.sources import (
    object_source,
    rename_object,
    replace_definition,
    strip_solution_markers,
)
from autograder.authoring.sync import lesson_notebooks, sync_notebook

NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"


@pytest.mark.parametrize("path", lesson_notebooks(NOTEBOOKS), ids=lambda p: p.parent.name)
def test_notebooks_are_in_sync_with_solutions(path):
    drift = sync_notebook(path, write=False)
    assert drift == [], "run `cnn-course sync`: " + "; ".join(map(str, drift))


@pytest.mark.parametrize("path", lesson_notebooks(NOTEBOOKS), ids=lambda p: p.parent.name)
def test_notebooks_are_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", lesson_notebooks(NOTEBOOKS), ids=lambda p: p.parent.name)
def test_run_all_goes_on_past_errors(path):
    """JupyterLab's Run All stops at the first cell that raises, unless the cell is tagged
    `raises-exception`: a student who has not finished exercise 1 must still see the rest of
    the lesson run (a failing test cell still shows its error and scores 0 in nbgrader)."""
    nb = nbformat.read(path, as_version=4)
    untagged = [
        index
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and "raises-exception" not in cell.metadata.get("tags", [])
    ]
    assert untagged == [], f"code cells {untagged} lack the `raises-exception` tag"


def test_an_edited_solution_cell_is_reported_and_rewritten(tmp_path):
    source = NOTEBOOKS / "02_convolution" / "convolution.ipynb"
    copy = tmp_path / "convolution.ipynb"
    nb = nbformat.read(source, as_version=4)
    generated = [c for c in nb.cells if "cnn_course" in c.metadata]
    generated[0].source += "\n# an edit"
    nbformat.write(nb, copy)
    drift = sync_notebook(copy)
    assert len(drift) == 1 and "differs from solutions/" in str(drift[0])
    assert sync_notebook(copy, write=False) == []


def test_object_source_keeps_markers_and_strip_removes_them():
    text = object_source("solutions.convolution:cross_correlate2d")
    assert text.startswith("def cross_correlate2d(") and "### BEGIN SOLUTION" in text
    assert "### BEGIN SOLUTION" not in strip_solution_markers(text)


def test_replace_definition_swaps_a_method_and_a_function():
    source = "def f(x):\n    return x\n\n\nclass A:\n    def g(self):\n        return 1\n"
    new_method = "def wrong_g(self):\n    return 2\n"
    replaced = replace_definition(source, "A.g", new_method)
    namespace = {}
    exec(replaced, namespace)
    assert namespace["A"]().g() == 2
    replaced = replace_definition(source, "f", "def other(x):\n    return -x\n")
    exec(replaced, namespace)
    assert namespace["f"](3) == -3


def test_rename_object_requires_a_definition():
    with pytest.raises(ValueError):
        rename_object("x = 1", "f", "g")

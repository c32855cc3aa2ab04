"""Conventions every lesson notebook keeps: stored clean, and the course's modules imported
before TensorFlow, which they quiet (tags: tests/autograder/authoring/test_sync.py)."""

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*/*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_notebook_conventions(path):
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    imports = [
        node
        for node in ast.parse(code[0].source).body
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    first = imports[0]
    module = first.module if isinstance(first, ast.ImportFrom) else first.names[0].name
    assert module.split(".")[0] in ("autograder", "course"), (
        "the first import must be the course's (it quiets TensorFlow before it loads)"
    )


def _exercise_names(cell) -> set[str]:
    """The functions and classes of an exercise cell whose code the student writes."""
    lines = cell.source.splitlines()
    return {
        node.name
        for node in ast.parse(cell.source).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
        and any("### BEGIN SOLUTION" in line for line in lines[node.lineno - 1 : node.end_lineno])
    }


def _required(cell) -> set[str]:
    """The names a cell's leading `ready.require("Exercise n", name, ...)` lines check."""
    names = set()
    for node in ast.parse(cell.source).body:
        call = node.value if isinstance(node, ast.Expr) else None
        if not (isinstance(call, ast.Call) and ast.unparse(call.func) == "ready.require"):
            break
        names |= {arg.id for arg in call.args[1:] if isinstance(arg, ast.Name)}
    return names


# lessons 01-05 do not ask yet (issue 15 covered lessons 06-09)
@pytest.mark.parametrize("path", NOTEBOOKS[5:], ids=lambda p: p.parent.name)
def test_demonstrations_first_ask_for_the_exercises_they_use(path):
    """A demonstration or experiment that uses an exercise's code checks first that it is done
    (`course.ready`), so that an unfinished one gives one line, not a traceback after work."""
    nb = nbformat.read(path, as_version=4)
    exercises: set[str] = set()
    missing = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("solution"):
            exercises |= _exercise_names(cell)
            continue
        if grading.get("grade") or not exercises:
            continue
        used = {
            node.id
            for node in ast.walk(ast.parse(cell.source))
            if isinstance(node, ast.Name) and node.id in exercises
        }
        if used - _required(cell):
            missing[index] = sorted(used - _required(cell))
    assert not missing, f"cells using exercises without ready.require first: {missing}"

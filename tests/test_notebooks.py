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

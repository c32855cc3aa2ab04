"""Conventions every lesson notebook keeps: stored clean, and the course's modules imported
before TensorFlow, which they quiet (tags: tests/autograder/authoring/test_sync.py)."""

import ast
import re
import symtable
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


def _required(cell) -> dict[str, str]:
    """The names a cell's leading `ready.require("Exercise n", name, ...)` lines check, each with
    the exercise it is named under."""
    names = {}
    for node in ast.parse(cell.source).body:
        call = node.value if isinstance(node, ast.Expr) else None
        if not (isinstance(call, ast.Call) and ast.unparse(call.func) == "ready.require"):
            break
        names |= {arg.id: call.args[0].value for arg in call.args[1:] if isinstance(arg, ast.Name)}
    return names


def _reads(source: str) -> set[str]:
    """The notebook globals a cell reads: names its functions and comprehensions read as
    globals, and names its top level reads before (or without) binding them."""
    table = symtable.symtable(source, "cell", "exec")
    names = set()
    children = list(table.get_children())
    while children:
        child = children.pop()
        names |= {s.get_name() for s in child.get_symbols() if s.is_global()}
        children.extend(child.get_children())
    first_load, first_store = {}, {}  # name -> the line where the cell first reads / binds it
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            first = first_store if isinstance(node.ctx, ast.Store) else first_load
            first[node.id] = min(first.get(node.id, node.lineno), node.lineno)
    top = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    unbound = float("inf")
    return names | {n for n in top if first_load.get(n, 0) <= first_store.get(n, unbound)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_demonstrations_first_ask_for_the_exercises_they_use(path):
    """A demonstration or experiment that uses an exercise's code checks first that it is done
    (`course.ready`), so that an unfinished one gives one line, not a traceback after work.
    "Uses" follows the notebook: an exercise whose solution calls another's, and a name an
    earlier demonstration defines after its own checks (unbound if that one stopped), need the
    exercises behind them too; each is named under its own exercise's number."""
    nb = nbformat.read(path, as_version=4)
    exercise = None
    numbered: dict[str, str] = {}  # exercise name -> "Exercise n"
    needs: dict[str, set[str]] = {}  # notebook global -> the exercise names it depends on
    wrong = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            heading = re.search(r"^#+ (Exercise \d+)", cell.source, re.M)
            exercise = heading.group(1) if heading else exercise
            continue
        grading = cell.metadata.get("nbgrader", {})
        depends = set().union(*(needs[name] for name in _reads(cell.source) & needs.keys()))
        if grading.get("solution"):
            for name in _exercise_names(cell):
                numbered[name] = exercise
                needs[name] = {name} | depends
            continue
        if grading.get("grade"):
            continue
        tree = ast.parse(cell.source)
        if all(isinstance(node, ast.FunctionDef | ast.ClassDef) for node in tree.body):
            # a cell that only defines runs nothing yet: its definitions need what they read
            for node in tree.body:
                reads = _reads(ast.unparse(node)) & needs.keys()
                needs.setdefault(node.name, set().union(*(needs[name] for name in reads)))
            continue
        required = _required(cell)
        problems = sorted(depends - required.keys()) + [
            f"{name} is {numbered[name]}, not {said}"
            for name, said in required.items()
            if name in numbered and numbered[name] != said
        ]
        if problems:
            wrong[index] = problems
        for node in tree.body:
            stored = (
                [node.name]
                if isinstance(node, ast.FunctionDef | ast.ClassDef)
                else [
                    n.id
                    for n in ast.walk(node)
                    if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
                ]
            )
            needs |= {name: depends for name in stored if name not in needs}
    assert not wrong, f"cells that do not first ask for the exercises they use: {wrong}"

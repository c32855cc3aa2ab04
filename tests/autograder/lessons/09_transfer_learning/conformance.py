"""Lesson 09's settings for test_conformance.py: its cells train models, so a wrong version
runs only the cells its code can reach."""

import ast
from pathlib import Path

from autograder.authoring.notebook_tests import read_test_cells
from autograder.authoring.sources import module_path

# Its cells train a transfer model: the reference's run across costs the most of any lesson, so
# it runs on the grading seed only (no extra seed), which keeps CI time as it was.
EXTRA_SEEDS = ()

ROOT = Path(__file__).resolve().parents[4]
CELLS = read_test_cells(ROOT / "notebooks" / "09_transfer_learning" / "transfer_learning.ipynb")


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


def cells_worth_running(version) -> set[str]:
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

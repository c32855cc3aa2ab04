"""Notebooks released before the lessons moved into one folder each still grade the same.

`released_test_cells.json` holds every test cell as lesson 01-09 notebooks were released
before that change (main at 21a5561). Their imports (`from autograder.checks import topic as
checks`) and their calls must still resolve to the same checks with the same arguments, and a
cell that has changed since must still pass on the reference. Cells unchanged since the
release are run on the reference and on every wrong version by the conformance suite.
"""

import ast
import inspect
import json
from pathlib import Path

import pytest

import autograder.checks
from autograder import lessons
from autograder.authoring.notebook_tests import read_test_cells

ROOT = Path(__file__).resolve().parents[3]
RELEASED = json.loads((Path(__file__).parent / "released_test_cells.json").read_text())


def calls(source: str):
    """(check name, positional count, keyword names) of each `checks.check_*(...)` call."""
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "checks"
        ):
            yield node.func.attr, len(node.args), [k.arg for k in node.keywords]


@pytest.mark.parametrize("lesson", sorted(RELEASED))
def test_released_calls_reach_the_same_checks(lesson):
    checks = getattr(autograder.checks, lessons.topic(lesson))  # as the notebook imports it
    assert checks is lessons.module(lesson, "checks")
    for grade_id, source in RELEASED[lesson].items():
        for name, positional, keywords in calls(source):
            check = getattr(checks, name, None)
            assert callable(check), f"{lesson} {grade_id}: checks.{name} is gone"
            target = check.__call__ if not inspect.isroutine(check) else check
            inspect.signature(target).bind(*range(positional), **dict.fromkeys(keywords))


@pytest.mark.parametrize("lesson", sorted(RELEASED))
def test_released_test_cells_are_the_ones_the_conformance_suite_runs(lesson):
    notebook = next((ROOT / "notebooks" / lesson).glob("*.ipynb"))
    current = read_test_cells(notebook)
    changed = [gid for gid, source in RELEASED[lesson].items() if current.get(gid) != source]
    assert not changed, (
        f"{lesson}: test cells {changed} differ from the released ones; notebooks already in "
        "students' hands still run the old cells: prove they grade the same, then update "
        "released_test_cells.json"
    )

"""Run a lesson notebook's test cells in this process, against given objects.

The instructor's tests use this to prove, without nbgrader, which test cells a wrong version
of the reference fails: the cells are read from the notebook, hidden tests included, so the
tests run exactly what students' notebooks run.

With `across=True` the objects sit behind a loopback agent, reached through the same bytes and
operations as the grading sandbox, and the checks draw fresh cases as they do when grading
(`fresh_seed`): this proves that every check works across the boundary, without a sandbox.
"""

import contextlib
import io
from pathlib import Path

import nbformat

from ..feedback import CheckFailed
from ..harness import cases
from ..harness.remote import LoopbackSession


def read_test_cells(notebook: Path) -> dict[str, str]:
    """{grade id: source} of the notebook's autograded test cells, in notebook order."""
    cells = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cells[meta["grade_id"]] = cell.source
    return cells


def run_test_cell(source: str, objects: dict, checks) -> None:
    """Run one test cell with `objects` and the lesson's `checks` module; output is discarded.

    Raises CheckFailed when the cell fails, as it would in the notebook.
    """
    namespace = {**objects, "checks": checks}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source, "<test cell>", "exec"), namespace)


class Feedback(str):
    """A failing cell's feedback, and the id of the catalogued mistake it carries (None if it
    names none): the one the grader counts in the class report."""

    mistake: str | None = None


def _feedback(failure: CheckFailed) -> Feedback:
    found = Feedback(str(failure))
    found.mistake = failure.mistake.id if failure.mistake is not None else None
    return found


def grade_test_cells(
    cells: dict[str, str], objects: dict, checks, across: bool = False, fresh_seed: int = 0
) -> dict[str, Feedback | None]:
    """{grade id: feedback, or None when the cell passes} for every cell."""
    fresh = contextlib.nullcontext()
    if across:
        objects = LoopbackSession(objects).globals(objects)
        fresh = cases.fresh(fresh_seed)
    results = {}
    with fresh:
        for grade_id, source in cells.items():
            try:
                run_test_cell(source, objects, checks)
                results[grade_id] = None
            except CheckFailed as failure:
                results[grade_id] = _feedback(failure)
    return results

"""A lesson notebook's test cells, graded in this process, for a lesson's own tests.

`test_conformance.py` grades every cell of every lesson; a lesson's own tests often need less:
the cells of one exercise, run on the reference with some exercises left as stubs.
"""

from functools import cache
from pathlib import Path

from autograder import lessons
from autograder.authoring.notebook_tests import grade_test_cells, read_test_cells
from autograder.authoring.sources import released_namespace

ROOT = Path(__file__).resolve().parents[3]


@cache
def notebook_cells(lesson: str) -> dict[str, str]:
    """{grade id: source} of the test cells of notebooks/<lesson>/<topic>.ipynb."""
    return read_test_cells(ROOT / "notebooks" / lesson / f"{lessons.topic(lesson)}.ipynb")


def stubbed(lesson: str, names=None) -> dict:
    """The namespace of the lesson's reference (solutions/<topic>.py) as released, with the
    exercises `names` (all when None) left as stubs."""
    return released_namespace(f"solutions.{lessons.topic(lesson)}", names)


def grade(lesson: str, objects: dict, cells) -> dict[str, str | None]:
    """{grade id: feedback, or None when it passes} for the test cells `cells` (grade ids) of
    the lesson's notebook only, run on `objects` with the lesson's checks."""
    found = notebook_cells(lesson)
    checks = lessons.module(lesson, "checks")
    return grade_test_cells({cell: found[cell] for cell in cells}, objects, checks)

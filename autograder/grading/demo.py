"""`cnn-course demo`: the whole loop, offline, on sample submissions, checked against expectations.

Release every lesson, make sample submissions (perfect, untouched, one per known mistake and,
with `broken=True`, the broken ones; with `hostile=True`, the cheats and attacks of the lessons
that have an `attacks.py`), grade them with `cnn-course grade`, print the gradebook and a
verdict per row: perfect gets the maximum, untouched 0, a mistake the maximum minus the points
of exactly the test cells it breaks, a cheat no more than its notebook without the cheat.
"""

import importlib.util
import tempfile
from collections.abc import Callable
from pathlib import Path

from .. import lessons
from ..sandbox.policy import unavailable_reason
from .config import Settings
from .course_dir import CourseDir
from .errors import CourseError
from .grade import grade
from .release import release
from .report import grade_table, render
from .submissions import broken_for, make_samples


def require_solutions() -> None:
    if importlib.util.find_spec("solutions") is None:
        raise CourseError("the demo needs the solutions package: pip install -e ./solutions")


def make_all_samples(
    course: CourseDir,
    released: dict,
    folder: Path,
    broken: bool,
    hostile: bool = False,
    mistakes: int | None = None,
) -> dict:
    """Write the samples of every released notebook under `folder`; return the sample sets
    by (assignment, notebook). `mistakes` caps the wrong versions per lesson (None: all)."""
    from solutions.mistakes import wrong_versions

    sets = {}
    for assignment, notebooks in released.items():
        for release_path in notebooks:
            source_path = course.source / assignment / release_path.name
            extra = broken_for(assignment, source_path, release_path) if broken else ()
            versions = wrong_versions(assignment) if len(notebooks) == 1 else ()
            versions = _spread(versions, mistakes)
            samples = make_samples(source_path, release_path, versions, extra)
            attacks = lessons.optional(assignment, "attacks") if hostile else None
            if attacks is not None:
                samples.samples += attacks.hostile_samples(source_path, release_path, course.root)
            samples.write(folder)
            sets[(assignment, release_path.stem)] = samples
    return sets


def _spread(versions, count: int | None):
    """`count` of the wrong versions, taken evenly over the list (all when `count` is None)."""
    if count is None or len(versions) <= count:
        return versions
    step = len(versions) / count
    return tuple(versions[int(i * step)] for i in range(count))


def verdicts(table, sets) -> tuple[dict, bool]:
    """Expected score and verdict of every row of `table`; and whether all rows are as expected."""
    extra, ok = {}, True
    for row in table.rows:
        samples = sets.get((row["assignment"], row["notebook"]))
        expected = samples.expected().get(row["student"]) if samples else None
        if expected is None:
            extra[(row["student"], row["assignment"], row["notebook"])] = {"expected": "-"}
            continue
        good = abs(row["total"] - expected) < 1e-9
        ok &= good
        extra[(row["student"], row["assignment"], row["notebook"])] = {
            "expected": f"{expected:g}",
            "verdict": "ok" if good else "WRONG",
        }
    return extra, ok


def run_demo(
    notebooks_dir: Path,
    folder: Path | None = None,
    jobs: int | None = None,
    assignments=None,
    broken: bool = False,
    cell_timeout: int = 120,
    say: Callable[[str], None] = print,
    hostile: bool = False,
    mistakes: int | None = None,
) -> bool:
    """Run the demo in `folder` (a temporary folder by default); True if every row is as
    expected."""
    require_solutions()
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="cnn-course-demo-") as tmp:
            return run_demo(
                notebooks_dir,
                Path(tmp),
                jobs,
                assignments,
                broken,
                cell_timeout,
                say,
                hostile,
                mistakes,
            )
    folder = Path(folder)
    course = CourseDir(folder / "course")
    submissions = folder / "submissions"
    if submissions.exists() and any(submissions.iterdir()):
        raise CourseError(f"{submissions} is not empty; pass an empty or new --dir")
    released = release(notebooks_dir, course, assignments, Settings(cell_timeout=cell_timeout), say)
    sets = make_all_samples(course, released, submissions, broken, hostile, mistakes)
    isolate = unavailable_reason() is None
    if not isolate:
        say(
            f"note: {unavailable_reason()}; the demo's own sample submissions are graded "
            "without the sandbox"
        )
    grade(course, submissions, jobs=jobs, say=say, isolate=isolate or hostile)
    failed = 0
    for assignment in sorted(released):
        table = grade_table(course, [assignment])
        extra, ok = verdicts(table, sets)
        failed += sum(1 for values in extra.values() if values.get("verdict") == "WRONG")
        say("")
        say(assignment)
        say(render(table, extra))
    say("")
    say(
        "every submission got the expected score"
        if not failed
        else f"{failed} submissions did not get the expected score"
    )
    return not failed

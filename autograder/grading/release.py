"""Build the nbgrader course directory from `notebooks/` and generate the student versions.

`release` refuses notebooks whose generated cells drifted from `solutions/`, runs nbgrader's
own `generate_assignment` (which fills the gradebook), then proves that no released
notebook contains solution code or hidden tests, and stores in each what Validate's scan needs.
"""

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import nbformat

from .config import CODE_STUB, Settings, write_config
from .course_dir import CourseDir, scripts_on_path
from .errors import CourseError

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it lies below it."""
    try:
        return os.fspath(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return os.fspath(path)


def find_assignments(notebooks_dir: Path) -> dict[str, list[Path]]:
    """Source notebooks by assignment id (the name of their folder)."""
    from ..authoring.sync import lesson_notebooks

    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        raise CourseError(
            f"notebooks folder {notebooks_dir} does not exist; pass --notebooks with the folder "
            "that holds <assignment>/<notebook>.ipynb"
        )
    found: dict[str, list[Path]] = {}
    for path in lesson_notebooks(notebooks_dir):
        found.setdefault(path.parent.name, []).append(path)
    if not found:
        raise CourseError(
            f"no notebooks in {notebooks_dir}; expected {notebooks_dir}/<assignment>/<name>.ipynb"
        )
    return found


def _unknown(assignment: str, notebooks_dir: Path, found) -> str:
    """Why `assignment` cannot be released: a lesson of the course without its notebook yet,
    or a name the notebooks folder does not have."""
    from .. import lessons

    known = ", ".join(sorted(found))
    if assignment in lessons.names():
        expected = Path(notebooks_dir) / assignment / f"{lessons.topic(assignment)}.ipynb"
        return (
            f"lesson {assignment!r} has no notebook: expected {expected} (notebooks has: {known})"
        )
    return f"unknown assignment {assignment!r} (notebooks has: {known}); check the name"


def check_in_sync(paths: Iterable[Path]) -> None:
    """Raise CourseError naming the first generated cell that differs from `solutions/`."""
    from ..authoring.sync import sync_notebook

    drifts = []
    for path in paths:
        try:
            drifts += sync_notebook(path, write=False)
        except LookupError as exc:
            raise CourseError(f"{display_path(path)}: {exc}") from exc
    if drifts:
        first = drifts[0]
        names = ", ".join(first.objects)
        more = f" (and {len(drifts) - 1} more cells)" if len(drifts) > 1 else ""
        raise CourseError(
            f"{display_path(first.notebook)}: cell {first.cell_index} ({names}) differs from "
            f"solutions/{more}; run `cnn-course sync`"
        )


def _regions(source: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """(lines inside begin/end regions, lines outside them) of one cell's source."""
    inside, outside, depth = [], [], False
    for line in source.splitlines():
        if begin in line:
            depth = True
        elif end in line:
            depth = False
        elif depth:
            inside.append(line)
        else:
            outside.append(line)
    return inside, outside


def _code_lines(lines: Iterable[str]) -> set[str]:
    return {s for s in (line.strip() for line in lines) if s and not s.startswith("#")}


def secret_lines(source_nb) -> set[str]:
    """Lines that only solution regions and hidden tests of `source_nb` contain.

    Lines that also appear outside those regions (given code, `else:`, `)`) and the lines of
    the code stub are left out: finding them in a release proves nothing.
    """
    secret, public = set(), set()
    for cell in source_nb.cells:
        solution, rest = _regions(cell.source, BEGIN_SOLUTION, END_SOLUTION)
        hidden, rest = _regions("\n".join(rest), BEGIN_HIDDEN, END_HIDDEN)
        secret |= _code_lines(solution) | _code_lines(hidden)
        public |= _code_lines(rest)
    return secret - public - _code_lines(CODE_STUB.splitlines())


def find_leaks(source_nb, release_nb) -> list[str]:
    """Descriptions of the places where `release_nb` shows solution code or hidden tests."""
    secret = secret_lines(source_nb)
    leaks = []
    for index, cell in enumerate(release_nb.cells):
        for marker in MARKERS:
            if marker.removeprefix("### ") in cell.source:
                leaks.append(f"cell {index} contains the marker {marker!r}")
        for line in cell.source.splitlines():
            if line.strip() in secret:
                leaks.append(f"cell {index} contains the solution line {line.strip()!r}")
    return leaks


def check_no_leaks(course: CourseDir, assignment: str) -> None:
    """Raise CourseError if a released notebook of `assignment` shows solution code."""
    for release_path in sorted((course.release / assignment).glob("*.ipynb")):
        source_path = course.source / assignment / release_path.name
        leaks = find_leaks(
            nbformat.read(source_path, as_version=4), nbformat.read(release_path, as_version=4)
        )
        if leaks:
            shutil.rmtree(course.release / assignment)
            raise CourseError(
                f"{display_path(release_path)} leaks solution code: {leaks[0]}"
                + (f" (and {len(leaks) - 1} more)" if len(leaks) > 1 else "")
                + "; the release was deleted; put that code inside ### BEGIN SOLUTION / "
                "### END SOLUTION (or the hidden tests markers) in the source notebook and "
                "release again"
            )


def record_scan(course: CourseDir, assignment: str) -> None:
    """Store in each released notebook what the scan needs of it (`scan.Release`), so that a
    student's Validate can list the lines grading would hold for review."""
    from .scan import Release

    for path in sorted((course.release / assignment).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nb.metadata[Release.KEY] = Release.of(nb).metadata()
        nbformat.write(nb, path)


def publish(course: CourseDir, assignment: str) -> None:
    """nbgrader's release_assignment into the course's local exchange, so that formgrader
    shows the assignment as released (and students of a JupyterHub course can fetch it)."""
    from nbgrader.auth import Authenticator
    from nbgrader.exchange.abc import ExchangeError
    from nbgrader.exchange.default import ExchangeReleaseAssignment

    coursedir = course.coursedirectory(assignment_id=assignment)
    exchange = ExchangeReleaseAssignment(
        coursedir=coursedir,
        authenticator=Authenticator(config=coursedir.config),
        config=coursedir.config,
    )
    exchange.force = True
    try:
        exchange.start()
    except ExchangeError as exc:
        raise CourseError(f"could not publish {assignment} to the exchange: {exc}") from exc


def _copy_source(notebooks: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(notebooks, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))


def generate_assignment(course: CourseDir, assignment: str) -> None:
    """Run nbgrader's generate_assignment in this process; CourseError if it fails."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.utils import capture_log

    coursedir = course.coursedirectory(assignment_id=assignment)
    converter = GenerateAssignment(coursedir=coursedir, config=coursedir.config)
    converter.force = True
    converter.create_assignment = True
    with scripts_on_path():
        result = capture_log(converter)
    if not result["success"]:
        log = (result.get("log", "") + result.get("error", "")).strip().splitlines()
        errors = [line for line in log if line.startswith("[ERROR]")] or log[-1:]
        reason = errors[0].removeprefix("[ERROR] ") if errors else "unknown error"
        raise CourseError(
            f"nbgrader generate_assignment failed for {assignment}: {reason}; fix the source "
            f"notebook or run `nbgrader generate_assignment {assignment} --force` in "
            f"{course.root} to see the whole log"
        )


def release(
    notebooks_dir: Path,
    course: CourseDir,
    assignments: Iterable[str] | None = None,
    settings: Settings | None = None,
    say: Callable[[str], None] = print,
) -> dict[str, list[Path]]:
    """Build or update `course` from `notebooks_dir` and release the assignments.

    Returns the released notebooks by assignment.
    """
    found = find_assignments(notebooks_dir)
    wanted = list(assignments) if assignments else sorted(found)
    unknown = [a for a in wanted if a not in found]
    if unknown:
        raise CourseError(_unknown(unknown[0], notebooks_dir, found))
    check_in_sync(path for a in wanted for path in found[a])
    course.root.mkdir(parents=True, exist_ok=True)
    write_config(course.root, settings or Settings())
    released = {}
    for assignment in wanted:
        _copy_source(Path(notebooks_dir) / assignment, course.source / assignment)
        generate_assignment(course, assignment)
        check_no_leaks(course, assignment)
        record_scan(course, assignment)
        publish(course, assignment)
        released[assignment] = sorted((course.release / assignment).glob("*.ipynb"))
        names = ", ".join(p.name for p in released[assignment])
        say(f"released {assignment}: {names} -> {display_path(course.release / assignment)}")
    course.enable_wal()
    return released

"""Sample submissions made from a lesson's source and release notebooks.

- perfect: the release notebook with every solution cell filled from the source (markers
  stripped): what a student who solved everything hands in;
- untouched: the release notebook as is;
- one per wrong version in `solutions.mistakes` (needs the solutions package);
- broken ones that prove a grading run survives bad submissions: an import that fails, a
  loop that never ends, a deleted or edited test cell, NaN output, megabytes of print, a
  forbidden built-in, code imported from `solutions`, a file that is not a notebook, a wrong
  file name (`broken_for`).

Each sample says which test cells it must fail (`breaks`); its expected score is the maximum
minus the points of those cells.
"""

import ast
import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .. import lessons
from ..authoring.sources import object_source, replace_definition, strip_solution_markers

NBGRADER = "nbgrader"


@dataclass(frozen=True)
class Sample:
    """One sample submission.

    Attributes:
        student: student id it is submitted under (a valid folder name).
        kind: "perfect", "untouched", "mistake" or "broken".
        filename: file name in the submission folder.
        content: the notebook, or raw bytes for files that are not notebooks.
        breaks: grade ids of the test cells it must fail; None when it must score 0 overall.
        why: one line on what the sample does wrong.
    """

    student: str
    kind: str
    filename: str
    content: object
    breaks: tuple[str, ...] | None = ()
    why: str = ""

    def expected_score(self, points: dict[str, float]) -> float:
        """The score this sample must get, given the points of every test cell."""
        if self.breaks is None:
            return 0.0
        return sum(p for cell, p in points.items() if cell not in self.breaks)

    def write(self, folder: Path, assignment: str) -> Path:
        """Write under `folder/<student>/<assignment>/`; return the file's path."""
        target = Path(folder) / self.student / assignment / self.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(self.content, bytes):
            target.write_bytes(self.content)
        else:
            nbformat.write(self.content, target)
        return target


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get(NBGRADER, {}).get("grade_id")


def is_solution(cell) -> bool:
    return bool(cell.get("metadata", {}).get(NBGRADER, {}).get("solution"))


def is_test(cell) -> bool:
    meta = cell.get("metadata", {}).get(NBGRADER, {})
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def test_points(notebook) -> dict[str, float]:
    """Points of each autograded test cell, by grade id, in notebook order."""
    return {
        grade_id(cell): float(cell.metadata[NBGRADER].get("points", 0))
        for cell in notebook.cells
        if is_test(cell)
    }


def perfect(source_nb, release_nb):
    """The release notebook with each solution cell's source taken from the source notebook."""
    solved = {
        grade_id(cell): strip_solution_markers(cell.source)
        for cell in source_nb.cells
        if is_solution(cell)
    }
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        if is_solution(cell) and grade_id(cell) in solved:
            cell.source = solved[grade_id(cell)]
    return nb


def defines(source: str, name: str) -> bool:
    """Whether `source` has a top-level def or class called `name`."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(
        isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name for node in tree.body
    )


def defining_cell(nb, target: str):
    """The code cell with the top-level definition of `target` ("name" or "Class.method")."""
    owner = target.partition(".")[0]
    for cell in nb.cells:
        if cell.cell_type == "code" and defines(cell.source, owner):
            return cell
    raise LookupError(f"no cell of the notebook defines {owner!r}")


def with_replacements(nb, replacements: dict[str, str]):
    """A copy of `nb` where each target is replaced by new source text (a def or class)."""
    nb = copy.deepcopy(nb)
    for target, new_source in replacements.items():
        cell = defining_cell(nb, target)
        cell.source = strip_solution_markers(replace_definition(cell.source, target, new_source))
    return nb


def apply_wrong_version(nb, version):
    """A copy of the perfect notebook `nb` with a `WrongVersion`'s objects swapped in."""
    sources = {target: object_source(ref) for target, ref in version.replacements.items()}
    return with_replacements(nb, sources)


ID_LENGTH = 64  # intake refuses longer student ids


def student_id(label: str) -> str:
    """A folder-safe, lower-case student id made from `label`, within intake's 64 characters
    (`names.SAFE_ID`): a longer one keeps its start and ends with a hash of the whole label."""
    found = re.sub(r"[^a-z0-9_-]+", "-", label.lower()).strip("-")
    if len(found) <= ID_LENGTH:
        return found
    digest = hashlib.sha256(found.encode()).hexdigest()[:8]
    return f"{found[: ID_LENGTH - 9].rstrip('-')}-{digest}"


def with_cell(nb, source: str):
    """A copy of `nb` with a code cell holding `source` right after the first code cell."""
    nb = copy.deepcopy(nb)
    first = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell(source))
    return nb


SLOW_CELL = "import time\ntime.sleep(20)  # one of five such cells"


def slow_sample(source_path: Path, release_path: Path) -> Sample:
    """Five cells of 20 s each before the first exercise: a notebook time limit stops it."""
    source_nb = nbformat.read(source_path, as_version=4)
    release_nb = nbformat.read(release_path, as_version=4)
    nb = perfect(source_nb, release_nb)
    for _ in range(5):
        nb = with_cell(nb, SLOW_CELL)
    return Sample("attack-slow", "attack", Path(release_path).name, nb, None, "sleeps 100 s")


# --- broken submissions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    """A recipe for one broken submission: `make(perfect_nb, release_nb)` gives its content."""

    name: str
    make: Callable
    breaks: tuple[str, ...] | None = ()
    why: str = ""
    filename: str | None = None  # None: the notebook's own name


def _edit_cell(nb, target: str, edit: Callable[[str], str]):
    nb = copy.deepcopy(nb)
    cell = defining_cell(nb, target)
    cell.source = edit(cell.source)
    return nb


def raises_at_import(target: str, breaks, module: str = "my_helpers") -> Broken:
    """The cell defining `target` first imports a module that only the student's computer has."""

    def make(nb, _release):
        return _edit_cell(nb, target, lambda s: f"import {module}  # my own helpers\n{s}")

    why = f"the cell defining {target} imports {module}, which the grader does not have"
    return Broken("raises-at-import", make, tuple(breaks), why)


def deleted_test_cell(grade: str, breaks=()) -> Broken:
    """The test cell `grade` is deleted; nbgrader must put it back and grade it."""

    def make(nb, _release):
        nb = copy.deepcopy(nb)
        nb.cells = [cell for cell in nb.cells if grade_id(cell) != grade]
        return nb

    return Broken("deleted-test-cell", make, tuple(breaks), f"test cell {grade} deleted")


def edited_test_cell(grade: str, version, breaks) -> Broken:
    """A wrong version, with the locked test cell `grade` edited to `pass` to hide it."""

    def make(nb, _release):
        nb = apply_wrong_version(nb, version)
        for cell in nb.cells:
            if grade_id(cell) == grade:
                cell.source = "pass  # the check failed, so I removed it"
        return nb

    why = f"{version.mistake} in {', '.join(version.replacements)}, test cell {grade} edited"
    return Broken("edited-test-cell", make, tuple(breaks), why)


def replaced(name: str, target: str, new_source: str, breaks, why: str) -> Broken:
    """The definition of `target` replaced by `new_source`."""
    return Broken(
        name, lambda nb, _r: with_replacements(nb, {target: new_source}), tuple(breaks), why
    )


def imports_solutions(target: str, module: str) -> Broken:
    """The cell defining `target` imports it from the reference solutions instead: withheld
    for review (every test cell scores 0 until the instructor has looked)."""

    def make(nb, _release):
        return _edit_cell(nb, target, lambda _: f"from {module} import {target}")

    why = f"imports {target} from {module}: withheld for review"
    return Broken("imports-solutions", make, None, why)


def prints_megabytes(target: str, megabytes: int = 10) -> Broken:
    """The cell defining `target` also prints `megabytes` MB (in lines of 100 kB)."""
    lines = megabytes * 10
    loop = f'\n\nfor _ in range({lines}):\n    print("debug " * 16_667)\n'
    return Broken(
        "prints-10mb",
        lambda nb, _r: _edit_cell(nb, target, lambda s: s + loop),
        (),
        f"prints {megabytes} MB",
    )


def invalid_json() -> Broken:
    return Broken(
        "invalid-json",
        lambda nb, _r: json.dumps(nb)[: len(json.dumps(nb)) // 2].encode(),
        None,
        "a notebook file cut in half (invalid JSON)",
    )


def not_a_notebook() -> Broken:
    return Broken(
        "not-a-notebook",
        lambda nb, _r: b'{"answer": 42}\n',
        None,
        "valid JSON, but not a notebook",
    )


def wrong_file_name(filename: str) -> Broken:
    """The perfect notebook under another file name (the sole notebook, so it is graded)."""
    return Broken(
        "wrong-file-name",
        lambda nb, _r: nb,
        (),
        f"saved as {filename}",
        filename=filename,
    )


def generic_broken(perfect_nb) -> tuple[Broken, ...]:
    """Broken submissions any lesson can have (no lesson-specific expectations)."""
    tests = list(test_points(perfect_nb))
    cases = [invalid_json(), not_a_notebook(), wrong_file_name("copy of notebook.ipynb")]
    if tests:
        cases.insert(0, deleted_test_cell(tests[0]))
    return tuple(cases)


# --- all samples of an assignment ----------------------------------------------------------------


@dataclass
class SampleSet:
    """The samples of one notebook of an assignment, with the points of its test cells."""

    assignment: str
    notebook: str
    points: dict[str, float]
    samples: list[Sample] = field(default_factory=list)

    def write(self, folder: Path) -> list[Path]:
        return [sample.write(folder, self.assignment) for sample in self.samples]

    def expected(self) -> dict[str, float]:
        """Expected total score by student id."""
        return {s.student: s.expected_score(self.points) for s in self.samples}


def make_samples(
    source_path: Path,
    release_path: Path,
    wrong_versions: Iterable = (),
    broken: Iterable[Broken] | None = None,
) -> SampleSet:
    """Sample submissions of one notebook.

    `wrong_versions` are `solutions.mistakes.WrongVersion`s; `broken` defaults to none (pass
    `broken_for(assignment, ...)` for the robustness samples).
    """
    source_path, release_path = Path(source_path), Path(release_path)
    source_nb = nbformat.read(source_path, as_version=4)
    release_nb = nbformat.read(release_path, as_version=4)
    solved = perfect(source_nb, release_nb)
    filename = release_path.name
    points = test_points(release_nb)
    samples = [
        Sample("perfect", "perfect", filename, solved, (), "solves everything"),
        Sample("untouched", "untouched", filename, copy.deepcopy(release_nb), None, "blank"),
    ]
    for version in wrong_versions:
        samples.append(
            Sample(
                student_id(f"mistake-{version.name}"),
                "mistake",
                filename,
                apply_wrong_version(solved, version),
                tuple(version.breaks),
                f"{version.mistake} in {', '.join(sorted(version.replacements))}",
            )
        )
    for case in broken or ():
        content = case.make(solved, release_nb)
        samples.append(
            Sample(
                student_id(f"broken-{case.name}"),
                "broken",
                case.filename or filename,
                content,
                case.breaks,
                case.why,
            )
        )
    return SampleSet(release_path.parent.name, release_path.stem, points, samples)


def broken_for(assignment: str, source_path: Path, release_path: Path) -> tuple[Broken, ...]:
    """The broken samples of `assignment`: its own (`broken()` in its folder's `samples.py`),
    or the generic ones."""
    own = lessons.optional(assignment, "samples")
    if own is not None and hasattr(own, "broken"):
        return own.broken()
    source_nb = nbformat.read(source_path, as_version=4)
    release_nb = nbformat.read(release_path, as_version=4)
    return generic_broken(perfect(source_nb, release_nb))

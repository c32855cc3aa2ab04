"""Find the submissions in a folder and stage them for nbgrader's `submitted/` directory.

Accepted layouts:
- nbgrader's `<dir>/<student>/<assignment>/<notebook>.ipynb` (other files and a
  `timestamp.txt` next to the notebook are kept);
- `<dir>/<student>/<notebook>.ipynb` and `<dir>/<student>.ipynb`, when one assignment is
  given (the flat file only when that assignment has one notebook).

A notebook that cannot be read is kept under `<name>.ipynb.unreadable` (nbgrader ignores it)
and its submission is marked with the reason. When the only notebook of a one-notebook
assignment has another name, it is graded under the expected name, and the note says so.
"""

import json
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from .errors import CourseError

IGNORED = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}
UNREADABLE_SUFFIX = ".unreadable"


@dataclass
class Submission:
    """One student's submission of one assignment, ready to be written to `submitted/`.

    Attributes:
        student, assignment: nbgrader ids.
        origin: where it was found.
        files: path relative to the submission folder -> bytes.
        notes: what was noticed on the way in (renamed file, ignored extra notebook, ...).
        unreadable: why no notebook of it can be graded, or None.
    """

    student: str
    assignment: str
    origin: Path
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unreadable: str | None = None

    @property
    def label(self) -> str:
        return f"{self.student} {self.assignment}"


MAX_NOTEBOOK_BYTES = 50 * 2**20


def read_notebook(data: bytes):
    """The notebook in `data`, or raise ValueError saying in one line why it is not one."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise ValueError(
            f"{len(data) / 2**20:.0f} MB is more than a lesson notebook can be "
            f"({MAX_NOTEBOOK_BYTES // 2**20} MB); clear its outputs and save it again"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not a text file ({exc.reason} at byte {exc.start})") from exc
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg}, line {exc.lineno})") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. cells without ids: nbformat adds them
            nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several types for non-notebooks
        raise ValueError(f"not a Jupyter notebook ({type(exc).__name__}: {exc})") from exc
    if not isinstance(nb.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no list of cells)")
    return nb


def _files_below(folder: Path) -> dict[str, bytes]:
    """The submission's files; of a file larger than any notebook may be, only enough to
    tell so (a submission cannot make the grader read gigabytes)."""
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not path.is_symlink() and not IGNORED & set(rel.parts):
            with path.open("rb") as handle:
                files[rel.as_posix()] = handle.read(MAX_NOTEBOOK_BYTES + 1)
    return files


TIMESTAMP = "timestamp.txt"


def stamp(submission: Submission) -> None:
    """Record when the submission was handed in (nbgrader's timestamp.txt), where it says
    nothing itself: the time its newest notebook was last saved."""
    if TIMESTAMP in submission.files:
        return
    origin = Path(submission.origin)
    files = [origin] if origin.is_file() else list(origin.rglob("*.ipynb"))
    times = [path.stat().st_mtime for path in files if path.is_file()]
    if times:
        moment = datetime.fromtimestamp(max(times), UTC)
        submission.files[TIMESTAMP] = moment.strftime("%Y-%m-%d %H:%M:%S.%f UTC").encode()


def prepare(submission: Submission, notebooks: list[str]) -> Submission:
    """Check the notebooks of `submission` against the assignment's notebook names.

    Unreadable notebooks are renamed `*.ipynb.unreadable`; a lone notebook with another name
    takes the expected one (one-notebook assignments only). A timestamp is added when the
    submission has none.
    """
    stamp(submission)
    expected = {f"{name}.ipynb" for name in notebooks}
    found = [name for name in submission.files if name.endswith(".ipynb") and "/" not in name]
    reasons = {}
    for name in found:
        try:
            read_notebook(submission.files[name])
        except ValueError as exc:
            reasons[name] = str(exc)
    readable = [name for name in found if name not in reasons]
    if len(expected) == 1 and not expected & set(found) and len(readable) == 1:
        (want,) = expected
        submission.files[want] = submission.files.pop(readable[0])
        submission.notes.append(f"notebook was named {readable[0]!r}; graded as {want}")
        found = [want if name == readable[0] else name for name in found]
    for name in found:
        if name in reasons:
            submission.files[name + UNREADABLE_SUFFIX] = submission.files.pop(name)
        elif name not in expected:
            submission.notes.append(f"ignored {name}: the assignment has no notebook of that name")
    graded = sorted(expected & (set(found) - set(reasons)))
    if not graded:
        if reasons:
            name, reason = next(iter(reasons.items()))
            submission.unreadable = f"{name} cannot be graded: {reason}"
        else:
            listing = ", ".join(found) or "no notebook at all"
            submission.unreadable = (
                f"no {' or '.join(sorted(expected))} in the submission (found: {listing})"
            )
    else:
        for name, reason in reasons.items():
            submission.notes.append(f"{name} cannot be graded ({reason}); it scores 0")
        for name in sorted(expected - set(found)):
            submission.notes.append(f"{name} is missing; it scores 0")
    return submission


def _is_student_dir(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".") and path.name not in IGNORED


def scan(folder: Path, notebooks_of: dict[str, list[str]], assignment: str | None = None):
    """Submissions in `folder`, and notes on what was skipped.

    `notebooks_of` maps each released assignment to its notebook names; `assignment`
    restricts the scan to one of them (and allows the two flat layouts).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseError(
            f"submissions folder {folder} does not exist; pass the folder that holds "
            "<student>/<assignment>/<notebook>.ipynb"
        )
    submissions, skipped = [], []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix == ".ipynb":
            if assignment is None:
                skipped.append(f"{path.name}: a notebook directly in the folder needs --assignment")
            elif len(notebooks_of[assignment]) != 1:
                skipped.append(
                    f"{path.name}: {assignment} has several notebooks; use "
                    "<student>/<assignment>/<notebook>.ipynb"
                )
            else:
                name = f"{notebooks_of[assignment][0]}.ipynb"
                with path.open("rb") as handle:
                    data = handle.read(MAX_NOTEBOOK_BYTES + 1)
                sub = Submission(path.stem, assignment, path, {name: data})
                submissions.append(prepare(sub, notebooks_of[assignment]))
            continue
        if not _is_student_dir(path):
            continue
        student = path.name
        if assignment is not None and any(p.suffix == ".ipynb" for p in path.iterdir()):
            sub = Submission(student, assignment, path, _files_below(path))
            submissions.append(prepare(sub, notebooks_of[assignment]))
            continue
        for sub_dir in sorted(p for p in path.iterdir() if _is_student_dir(p)):
            if assignment is not None and sub_dir.name != assignment:
                continue
            if sub_dir.name not in notebooks_of:
                skipped.append(f"{student}/{sub_dir.name}: no released assignment of that name")
                continue
            sub = Submission(student, sub_dir.name, sub_dir, _files_below(sub_dir))
            submissions.append(prepare(sub, notebooks_of[sub_dir.name]))
    if not submissions:
        raise CourseError(
            f"no submissions found in {folder}; expected <student>/<assignment>/<notebook>.ipynb"
            + ("" if assignment else " (or pass --assignment for <student>.ipynb files)")
        )
    return submissions, skipped


def stored_files(folder: Path) -> dict[str, bytes]:
    """The files of a submission already in `submitted/` (empty when there is none)."""
    return _files_below(folder) if folder.is_dir() else {}


def write(submission: Submission, folder: Path) -> None:
    """Write the submission's files into `folder` (which must not exist)."""
    for rel, data in submission.files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

"""Find the submissions in a folder and stage them for nbgrader's `submitted/` directory.

Accepted layouts:
- nbgrader's `<dir>/<student>/<assignment>/<notebook>.ipynb` (other files and a
  `timestamp.txt` next to the notebook are kept);
- `<dir>/<student>/<notebook>.ipynb` and `<dir>/<student>.ipynb`, when one assignment is
  given (the flat file only when that assignment has one notebook).

A notebook that cannot be read is kept under `<name>.ipynb.unreadable` (nbgrader ignores it)
and its submission is marked with the reason. When the only notebook of a one-notebook
assignment has another name, it is graded under the expected name, and the note says so.

Every name is data (`names`): a student or assignment folder whose name is not a safe id is
refused, one line each, and nothing of it is read. Inside a submission, only regular files with
safe names are taken, within `Caps` (size of a file, number of files, total size); symbolic
links, hard links, FIFOs and devices are skipped without being opened or followed, and a file
over a cap is skipped without being read (its size is what `stat` says, so a sparse file counts
at its full apparent size). What was skipped is said in the submission's notes.
"""

import json
import os
import stat as stat_mode
import warnings
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from .display import shown
from .errors import CourseError
from .names import FILE_RULE, ID_RULE, is_safe_file_name, is_safe_id

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
    too_big: dict[str, str] = field(default_factory=dict)  # notebook name -> why not read
    saved: float | None = None  # when its newest notebook was last saved (mtime)

    @property
    def label(self) -> str:
        return f"{self.student} {self.assignment}"


@dataclass(frozen=True)
class Caps:
    """What intake takes of one submission (`cnn-course grade --max-file-mb ...`)."""

    file_mb: int = 20
    files: int = 200
    total_mb: int = 50

    def __post_init__(self):
        for name in ("file_mb", "files", "total_mb"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise CourseError(f"the intake cap {name} must be a positive number (got {value})")

    @property
    def file_bytes(self) -> int:
        return self.file_mb * 2**20

    @property
    def total_bytes(self) -> int:
        return self.total_mb * 2**20

    @property
    def entries(self) -> int:
        """Entries of a submission folder looked at, at most (files, folders, anything)."""
        return 10 * self.files + 100


CAPS = Caps()


def too_big(size: int, caps: Caps) -> str:
    """Why a notebook of `size` bytes is not read."""
    return (
        f"{size / 2**20:.0f} MB is more than a notebook may be ({caps.file_mb} MB, "
        "--max-file-mb); clear its outputs and save it again"
    )


def read_notebook(data: bytes, caps: Caps = CAPS):
    """The notebook in `data`, or raise ValueError saying in one line why it is not one."""
    if len(data) > caps.file_bytes:
        raise ValueError(too_big(len(data), caps))
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


def read_file(path: Path, expected: os.stat_result, limit: int) -> bytes | None:
    """At most `limit` bytes of the regular file at `path`, opened without following a link
    and checked to be the file `expected` was (None when it is not, or is not readable)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        now = os.fstat(fd)
        if not stat_mode.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (
            expected.st_dev,
            expected.st_ino,
        ):
            return None
        return handle.read(limit + 1)


def _what_it_is(mode: int) -> str:
    if stat_mode.S_ISLNK(mode):
        return "a symbolic link (not followed)"
    if stat_mode.S_ISFIFO(mode):
        return "a FIFO"
    if stat_mode.S_ISSOCK(mode):
        return "a socket"
    if stat_mode.S_ISCHR(mode) or stat_mode.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _entries(folder: Path, budget: list[int]):
    """(name, lstat) of the entries of `folder`, notebooks first, at most budget[0] of them
    (the budget shrinks as they are taken)."""
    found = []
    try:
        with os.scandir(folder) as listing:
            for entry in listing:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
                try:
                    found.append((entry.name, entry.stat(follow_symlinks=False)))
                except OSError:
                    continue
    except OSError:
        return []
    return sorted(found, key=lambda item: (not item[0].endswith(".ipynb"), item[0]))


def skipped_note(reason: str, names: list[str], shown_names: int = 3) -> str:
    """One note for every file skipped for one reason."""
    listing = ", ".join(f"'{shown(name)}'" for name in names[:shown_names])
    if len(names) > shown_names:
        listing += f" and {len(names) - shown_names} more"
    count = f"{len(names)} file{'s' if len(names) > 1 else ''}"
    return f"skipped {count} ({reason}): {listing}"


def _expected(folder: Path, names) -> list:
    """(name, lstat) of those of `names` that are in `folder`."""
    found = []
    for name in names:
        try:
            found.append((name, os.lstat(folder / name)))
        except OSError:
            continue
    return found


def _files_below(folder: Path, caps: Caps = CAPS, first=()) -> Submission:
    """The files of the submission in `folder`, within `caps` (see the module docstring),
    with one note per reason files were skipped. The files named `first` (the expected
    notebooks) come first, then other notebooks, the top folder before subfolders."""
    found = Submission("", "", folder)
    budget, total, skipped = [caps.entries], 0, {}
    queue = deque([Path()])
    while queue:
        rel_dir = queue.popleft()
        entries = _entries(folder / rel_dir, budget)
        if rel_dir == Path():
            ahead = _expected(folder, first)
            entries = ahead + [e for e in entries if e[0] not in {n for n, _ in ahead}]
        for name, info in entries:
            rel = (rel_dir / name).as_posix()
            top_notebook = rel_dir == Path() and name.endswith(".ipynb")
            reason = None
            if name in IGNORED:
                continue
            if not is_safe_file_name(name) and not top_notebook:
                reason = f"not a safe file name: {FILE_RULE}"
            elif stat_mode.S_ISDIR(info.st_mode):
                queue.append(rel_dir / name)
                continue
            elif not stat_mode.S_ISREG(info.st_mode):
                reason = _what_it_is(info.st_mode)
            elif info.st_nlink > 1:
                reason = "hard links: each has another name elsewhere"
            elif info.st_size > caps.file_bytes:
                if top_notebook:
                    found.too_big[rel] = too_big(info.st_size, caps)
                    continue
                reason = f"larger than {caps.file_mb} MB, --max-file-mb; not read"
            elif len(found.files) >= caps.files:
                reason = f"a submission may have {caps.files} files, --max-files"
            elif total + info.st_size > caps.total_bytes:
                reason = f"a submission may hold {caps.total_mb} MB in all, --max-submission-mb"
            else:
                data = read_file(folder / rel, info, caps.file_bytes)
                if data is None or len(data) > caps.file_bytes:
                    reason = "changed while being read"
                elif total + len(data) > caps.total_bytes:
                    reason = f"a submission may hold {caps.total_mb} MB in all, --max-submission-mb"
                else:
                    total += len(data)
                    found.files[rel] = data
                    if top_notebook:
                        found.saved = max(found.saved or 0.0, info.st_mtime)
            if reason:
                skipped.setdefault(reason, []).append(rel)
    found.notes += [skipped_note(reason, names) for reason, names in skipped.items()]
    if budget[0] <= 0:
        found.notes.append(
            f"looked at only the first {caps.entries} entries of the submission folder; the rest "
            "were not read"
        )
    return found


TIMESTAMP = "timestamp.txt"


def stamp(submission: Submission) -> None:
    """Record when the submission was handed in (nbgrader's timestamp.txt), where it says
    nothing itself: the time its newest notebook was last saved."""
    if TIMESTAMP in submission.files or submission.saved is None:
        return
    moment = datetime.fromtimestamp(submission.saved, UTC)
    submission.files[TIMESTAMP] = moment.strftime("%Y-%m-%d %H:%M:%S.%f UTC").encode()


def prepare(submission: Submission, notebooks: list[str], caps: Caps = CAPS) -> Submission:
    """Check the notebooks of `submission` against the assignment's notebook names.

    Unreadable notebooks are renamed `*.ipynb.unreadable`; a lone notebook with another name
    takes the expected one (one-notebook assignments only). A timestamp is added when the
    submission has none.
    """
    stamp(submission)
    expected = {f"{name}.ipynb" for name in notebooks}
    found = [name for name in submission.files if name.endswith(".ipynb") and "/" not in name]
    found += sorted(submission.too_big)
    reasons = dict(submission.too_big)
    parsed = {}
    for name in found:
        if name in reasons:
            continue
        try:
            parsed[name] = read_notebook(submission.files[name], caps)
        except ValueError as exc:
            reasons[name] = str(exc)
    readable = [name for name in found if name not in reasons]
    for name, nb in parsed.items():
        try:
            copies = without_copied_cells(nb)
            data = nbformat.writes(nb).encode("utf-8") if copies else None
        except Exception:  # a notebook this malformed: nbgrader says what is wrong with it
            copies, data = [], None
        if data is not None:
            submission.files[name] = data
            submission.notes += [f"{shown(name)}: {note}" for note in copies]
    if len(expected) == 1 and not expected & set(found) and len(readable) == 1:
        (want,) = expected
        submission.files[want] = submission.files.pop(readable[0])
        submission.notes.append(f"notebook was named '{shown(readable[0])}'; graded as {want}")
        found = [want if name == readable[0] else name for name in found]
    for name in found:
        if name in submission.too_big:
            continue  # never read: nothing of it is kept
        if not is_safe_file_name(name):
            submission.files.pop(name)
            submission.notes.append(skipped_note(f"not a safe file name: {FILE_RULE}", [name]))
            reasons.pop(name, None)
        elif name in reasons:
            submission.files[name + UNREADABLE_SUFFIX] = submission.files.pop(name)
        elif name not in expected:
            submission.notes.append(f"ignored {name}: the assignment has no notebook of that name")
    found = [name for name in found if name in submission.too_big or is_safe_file_name(name)]
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


def without_copied_cells(nb) -> list[str]:
    """Make a notebook whose cells repeat an nbgrader cell id gradable; one note per copy.

    A cell copied in Jupyter keeps its metadata, id included, and nbgrader refuses to grade a
    notebook with a repeated id at all. Of a test cell's copies only the last stays (it runs
    after the most of the student's code; nbgrader grades the release's version of it). A
    copy of any other cell stays as an ordinary cell after the first, so that code the
    student wrote in it still runs.
    """

    def meta(cell):
        metadata = cell.get("metadata") if isinstance(cell, dict) else None
        found = metadata.get("nbgrader") if isinstance(metadata, dict) else None
        return found if isinstance(found, dict) and isinstance(found.get("grade_id"), str) else None

    def is_test(found):
        return bool(found.get("grade")) and not found.get("solution")

    last_test = {
        meta(c)["grade_id"]: i for i, c in enumerate(nb.cells) if meta(c) and is_test(meta(c))
    }
    seen, kept, notes = set(), [], []
    for index, cell in enumerate(nb.cells):
        found = meta(cell)
        if found is None:
            kept.append(cell)
            continue
        grade_id = found["grade_id"]
        name = shown(grade_id[:80])
        if is_test(found) and last_test.get(grade_id) != index:
            notes.append(f"cell {index + 1}, a copy of test cell {name}, was removed")
        elif grade_id in seen and not is_test(found):
            del cell.metadata["nbgrader"]
            notes.append(f"cell {index + 1}, a copy of cell {name}, was graded as an ordinary cell")
            kept.append(cell)
        else:
            seen.add(grade_id)
            kept.append(cell)
    nb.cells = kept
    return notes


def refusal(rel: str, what: str, rule: str) -> str:
    """The one line that says a folder of the submissions was refused, and why."""
    return f"refused '{shown(rel)}': {what} must be {rule}; nothing of it was read"


def _submission(student, assignment, folder: Path, notebooks, caps: Caps) -> Submission:
    taken = _files_below(folder, caps, [f"{name}.ipynb" for name in notebooks])
    sub = Submission(student, assignment, folder, taken.files, taken.notes, None, taken.too_big)
    sub.saved = taken.saved
    return prepare(sub, notebooks, caps)


def _flat(path: Path, info, assignment, notebooks_of, caps: Caps):
    """The submission of a `<student>.ipynb` file, or the line that says why it is none."""
    student = path.name.removesuffix(".ipynb")
    if assignment is None:
        return f"{shown(path.name)}: a notebook directly in the folder needs --assignment"
    if len(notebooks_of[assignment]) != 1:
        return (
            f"{shown(path.name)}: {assignment} has several notebooks; use "
            "<student>/<assignment>/<notebook>.ipynb"
        )
    if not is_safe_id(student):
        return refusal(path.name, "a student id (the file's name without .ipynb)", ID_RULE)
    name = f"{notebooks_of[assignment][0]}.ipynb"
    sub = Submission(student, assignment, path, saved=info.st_mtime)
    if info.st_size > caps.file_bytes:
        sub.too_big[name] = too_big(info.st_size, caps)
    else:
        data = read_file(path, info, caps.file_bytes)
        if data is None:
            return f"{shown(path.name)}: it changed while it was read; skipped"
        sub.files[name] = data
    return prepare(sub, notebooks_of[assignment], caps)


def scan(
    folder: Path,
    notebooks_of: dict[str, list[str]],
    assignment: str | None = None,
    caps: Caps = CAPS,
):
    """Submissions in `folder`, and one line for each folder or file skipped or refused.

    `notebooks_of` maps each released assignment to its notebook names; `assignment`
    restricts the scan to one of them (and allows the two flat layouts). Raises CourseError
    when the folder holds no submission and nothing was refused (a wrong folder).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseError(
            f"submissions folder {shown(folder)} does not exist; pass the folder that holds "
            "<student>/<assignment>/<notebook>.ipynb"
        )
    submissions, skipped = [], []
    for name, info in _entries(folder, [10**6]):
        path = folder / name
        if name in IGNORED or (name.startswith(".") and stat_mode.S_ISDIR(info.st_mode)):
            continue
        if stat_mode.S_ISLNK(info.st_mode):
            skipped.append(f"refused '{shown(name)}': a symbolic link; it was not followed")
            continue
        if stat_mode.S_ISREG(info.st_mode):
            if name.endswith(".ipynb"):
                found = _flat(path, info, assignment, notebooks_of, caps)
                (submissions if isinstance(found, Submission) else skipped).append(found)
            continue
        if not stat_mode.S_ISDIR(info.st_mode):
            continue
        if not is_safe_id(name):
            skipped.append(refusal(name, "a student id (the folder's name)", ID_RULE))
            continue
        inside = _entries(path, [caps.entries])
        if assignment is not None and any(n.endswith(".ipynb") for n, _ in inside):
            submissions.append(_submission(name, assignment, path, notebooks_of[assignment], caps))
            continue
        for sub_name, sub_info in inside:
            rel = f"{name}/{sub_name}"
            if sub_name in IGNORED or sub_name.startswith("."):
                continue
            if stat_mode.S_ISLNK(sub_info.st_mode):
                skipped.append(f"refused '{shown(rel)}': a symbolic link; it was not followed")
                continue
            if not stat_mode.S_ISDIR(sub_info.st_mode):
                continue
            if assignment is not None and sub_name != assignment:
                continue
            if not is_safe_id(sub_name):
                skipped.append(refusal(rel, "an assignment folder's name", ID_RULE))
                continue
            if sub_name not in notebooks_of:
                skipped.append(f"{rel}: no released assignment of that name")
                continue
            notebooks = notebooks_of[sub_name]
            submissions.append(_submission(name, sub_name, path / sub_name, notebooks, caps))
    if not submissions and not any(line.startswith("refused ") for line in skipped):
        raise CourseError(
            f"no submissions found in {shown(folder)}; expected "
            "<student>/<assignment>/<notebook>.ipynb"
            + ("" if assignment else " (or pass --assignment for <student>.ipynb files)")
        )
    return submissions, skipped


def stored_files(folder: Path, caps: Caps = CAPS) -> dict[str, bytes]:
    """The files of a submission already in `submitted/` (empty when there is none)."""
    return _files_below(folder, caps).files if folder.is_dir() else {}


def write(submission: Submission, folder: Path) -> None:
    """Write the submission's files into `folder` (which must not exist): only what intake
    took, under names it checked, never through a link."""
    for rel, data in submission.files.items():
        parts = rel.split("/")
        if not all(is_safe_file_name(part) for part in parts):
            raise ValueError(f"refusing to write {shown(rel)!r}: not a safe file name")
        target = folder.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)

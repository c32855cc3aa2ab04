"""What a grading task carries to a machine that has no copy of the course directory.

An assignment's kit, made once per assignment by the coordinator, holds what nbgrader needs to
autograde any submission of it: the course's `nbgrader_config.py`, `source/<assignment>/`,
`release/<assignment>/` and a gradebook with that assignment alone (no student, no submission,
no other assignment: nothing of the class leaves the coordinator but the one submission a
task carries). A worker unpacks the kit into a private, temporary course directory, writes the
submission's files into its `submitted/` folder and grades there as `cnn-course grade` does on
one machine.
"""

import io
import os
import sqlite3
import tarfile
import tempfile
import warnings
from pathlib import Path

from .config import COURSE_ID
from .course_dir import CourseDir
from .errors import CourseError
from .intake import Submission, write
from .names import is_safe_id

GRADEBOOK = "gradebook.db"


def one_assignment_gradebook(course: CourseDir, assignment: str, target: Path) -> None:
    """Write to `target` a copy of the course's gradebook that holds `assignment` only.

    The copy is made with SQLite's backup (consistent while other processes write), emptied
    of every student (with their submissions) and every other assignment through nbgrader's
    own API, and vacuumed, so that the deleted rows are gone from the file too.
    """
    from nbgrader.api import Gradebook

    with sqlite3.connect(course.gradebook_path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    with Gradebook(f"sqlite:///{target}", COURSE_ID) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's warnings about nbgrader's own cascades
        for other in [a.name for a in gb.assignments if a.name != assignment]:
            gb.remove_assignment(other)
        for student in [s.id for s in gb.students]:
            gb.remove_student(student)
    db = sqlite3.connect(target)
    try:
        db.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        db.execute("VACUUM")
    finally:
        db.close()


def make_kit(course: CourseDir, assignment: str) -> bytes:
    """The kit of `assignment` (see the module docstring), as the bytes of a .tar.gz."""
    course.require_assignment(assignment)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="cnn-course-kit-") as tmp:
        gradebook = Path(tmp) / GRADEBOOK
        one_assignment_gradebook(course, assignment, gradebook)
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(course.config_path, course.config_path.name)
            tar.add(gradebook, GRADEBOOK)
            for part in (course.source, course.release):
                folder = part / assignment
                if not folder.is_dir():
                    raise CourseError(
                        f"{folder} is missing; run `cnn-course release --dir {course.root}` again"
                    )
                tar.add(folder, f"{part.name}/{assignment}")
    return buffer.getvalue()


def unpack_kit(kit: bytes, root: Path) -> CourseDir:
    """Unpack a kit into `root` (a new folder); return it as a course directory.

    The "data" filter of tarfile refuses members with absolute paths, `..`, links out of
    `root` and device files, whoever made the kit.
    """
    root = Path(root)
    root.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(kit), mode="r:gz") as tar:
        tar.extractall(root, filter="data")
    course = CourseDir(root)
    course.require_built()
    return course


def place_submission(course: CourseDir, assignment: str, student: str, files) -> Path:
    """Write a submission's files ({relative path: bytes}, as intake took them) where nbgrader
    finds it, `submitted/<student>/<assignment>/`, with intake's checks of every name."""
    if not (is_safe_id(student) and is_safe_id(assignment)):
        raise ValueError(f"refusing a submission of {student!r} for {assignment!r}: not safe ids")
    folder = course.submitted_dir(student, assignment)
    os.makedirs(folder.parent, exist_ok=True)
    write(Submission(student, assignment, folder, dict(files)), folder)
    return folder

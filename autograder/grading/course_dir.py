"""The layout of an nbgrader course directory, and access to its gradebook."""

import os
import sqlite3
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .config import CONFIG_NAME, COURSE_ID, load_config
from .errors import CourseError


@contextmanager
def scripts_on_path():
    """Put this interpreter's scripts folder on PATH for the block.

    nbgrader runs the `alembic` command when it creates a gradebook, which fails when the
    environment's scripts are not on PATH (a virtualenv used without activating it).
    """
    before = os.environ.get("PATH", "")
    scripts = os.path.dirname(sys.executable)
    os.environ["PATH"] = os.pathsep.join([scripts, before]) if before else scripts
    try:
        yield
    finally:
        os.environ["PATH"] = before


@dataclass(frozen=True)
class CourseDir:
    """An nbgrader course directory: `source/`, `release/`, `submitted/`, `autograded/`,
    `feedback/` and `gradebook.db` as nbgrader lays them out, plus `grades/` (CSV files of
    `cnn-course grade`), `logs/` (nbgrader's log of each run) and `backups/` (what a run
    replaced, by time stamp).
    """

    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root).resolve())

    config_path = property(lambda self: self.root / CONFIG_NAME)
    source = property(lambda self: self.root / "source")
    release = property(lambda self: self.root / "release")
    submitted = property(lambda self: self.root / "submitted")
    autograded = property(lambda self: self.root / "autograded")
    feedback = property(lambda self: self.root / "feedback")
    grades = property(lambda self: self.root / "grades")
    backups = property(lambda self: self.root / "backups")
    logs = property(lambda self: self.root / "logs")
    gradebook_path = property(lambda self: self.root / "gradebook.db")

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.gradebook_path}"

    def submitted_dir(self, student: str, assignment: str) -> Path:
        return self.submitted / student / assignment

    def autograded_dir(self, student: str, assignment: str) -> Path:
        return self.autograded / student / assignment

    def feedback_dir(self, student: str, assignment: str) -> Path:
        return self.feedback / student / assignment

    def require_built(self) -> None:
        """Raise CourseError unless `cnn-course release` has built this directory."""
        if not self.root.is_dir():
            raise CourseError(
                f"course directory {self.root} does not exist; "
                f"run `cnn-course release --dir {self.root}` first"
            )
        if not self.config_path.is_file() or not self.gradebook_path.is_file():
            raise CourseError(
                f"{self.root} is not a built course directory (no {CONFIG_NAME} or gradebook.db); "
                f"run `cnn-course release --dir {self.root}` first"
            )

    def coursedirectory(self, **attrs):
        """nbgrader's CourseDirectory for this folder, configured like nbgrader run in it."""
        from nbgrader.coursedir import CourseDirectory

        config = load_config(self.root)
        coursedir = CourseDirectory(config=config)
        coursedir.root = os.fspath(self.root)
        for name, value in attrs.items():
            setattr(coursedir, name, value)
        return coursedir

    @contextmanager
    def gradebook(self):
        """nbgrader's Gradebook of this course, closed on exit."""
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url, COURSE_ID) as gb:
            yield gb

    def released_assignments(self) -> list[str]:
        """Ids of the assignments in the gradebook, sorted."""
        with self.gradebook() as gb:
            return sorted(a.name for a in gb.assignments)

    def notebook_names(self, assignment: str) -> list[str]:
        """Names (without .ipynb) of the notebooks of one released assignment, sorted."""
        from nbgrader.api import MissingEntry

        with self.gradebook() as gb:
            try:
                return sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)
            except MissingEntry:
                return []

    def require_assignment(self, assignment: str) -> list[str]:
        """The notebook names of `assignment`; CourseError when it was never released."""
        names = self.notebook_names(assignment)
        if not names:
            known = ", ".join(self.released_assignments()) or "none"
            raise CourseError(
                f"unknown assignment {assignment!r} in {self.root} (released: {known}); "
                "check the name or run `cnn-course release` after adding it to notebooks/"
            )
        return names

    def enable_wal(self) -> None:
        """Put the gradebook in SQLite's write-ahead-log mode (readers never wait on a writer).

        The mode is stored in the file, so nbgrader's own commands use it too.
        """
        with sqlite3.connect(self.gradebook_path) as db:
            db.execute("PRAGMA journal_mode=WAL")
        db.close()

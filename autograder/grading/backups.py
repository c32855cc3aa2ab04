"""Timestamped copies of what a grading run replaces, under `<course>/backups/<time>/`."""

import shutil
import sqlite3
from datetime import datetime
from pathlib import Path


class Backup:
    """One run's backup folder, created on first use.

    Files keep their path relative to the course directory, so a backup can be copied back
    over the course directory as is.
    """

    def __init__(self, course_root: Path, backups: Path):
        self.course_root = Path(course_root)
        self.backups = Path(backups)
        self._folder: Path | None = None

    @property
    def folder(self) -> Path:
        if self._folder is None:
            stamp = datetime.now().strftime("%Y-%m-%dT%H%M%S")
            folder, n = self.backups / stamp, 1
            while folder.exists():
                n += 1
                folder = self.backups / f"{stamp}-{n}"
            folder.mkdir(parents=True)
            self._folder = folder
        return self._folder

    @property
    def used(self) -> bool:
        return self._folder is not None

    def move(self, path: Path) -> Path:
        """Move `path` (inside the course directory) into the backup; return its new place."""
        target = self.folder / Path(path).resolve().relative_to(self.course_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        return target

    def copy_gradebook(self, gradebook: Path) -> Path:
        """A consistent copy of the SQLite gradebook (SQLite's backup API, WAL included)."""
        target = self.folder / Path(gradebook).name
        with sqlite3.connect(gradebook) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        source.close()
        copy.close()
        return target

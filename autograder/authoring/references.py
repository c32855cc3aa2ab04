"""Produce the stored reference outputs of each lesson from the `solutions` package.

By convention, lesson `NN_topic` has its checks in `autograder/lessons/NN_topic/checks.py` and
its reference code in `solutions.topic`; a lesson that needs stored outputs defines
`reference_outputs(solution_module) -> dict[str, np.ndarray]` in its `cases.py` (or its
`checks.py`).
"""

import importlib
import io
import zipfile
from pathlib import Path

import numpy as np

from .. import lessons, references
from .sync import lesson_notebooks, topic


def generators(notebooks_dir: Path) -> dict[str, str]:
    """{assignment: topic} for every lesson that stores reference outputs."""
    found = {}
    for notebook in lesson_notebooks(notebooks_dir):
        assignment = notebook.parent.name
        if assignment in lessons.names() and outputs_of(assignment) is not None:
            found[assignment] = topic(assignment)
    return found


def outputs_of(assignment: str):
    """The lesson's `reference_outputs`, from its cases.py or its checks.py; None if neither
    defines one (the lesson stores no outputs)."""
    for part in ("cases", "checks"):
        module = lessons.optional(assignment, part)
        if hasattr(module, "reference_outputs"):
            return module.reference_outputs
    return None


def reference_arrays(assignment: str) -> dict[str, np.ndarray]:
    """The reference arrays of one lesson, computed from its solutions module."""
    solution = importlib.import_module(f"solutions.{topic(assignment)}")
    return outputs_of(assignment)(solution)


def serialize(arrays: dict[str, np.ndarray]) -> bytes:
    """A byte-for-byte reproducible .npz (sorted keys, fixed zip timestamps)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def write_references(assignments, folder: Path | None = None) -> list[Path]:
    """Regenerate the .npz files of `assignments`; return the paths written."""
    written = []
    for assignment in assignments:
        target = (Path(folder) / f"{assignment}.npz") if folder else references.path(assignment)
        target.write_bytes(serialize(reference_arrays(assignment)))
        written.append(target)
    return written

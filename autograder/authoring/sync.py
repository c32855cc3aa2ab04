"""Write the code cells of lesson notebooks from the `solutions` package, or report drift.

A code cell whose metadata holds `{"cnn_course": {"objects": ["solutions.m:name", ...]}}` is
generated: its source is the listed objects' source, in order, separated by two blank lines.
In nbgrader solution cells the `### BEGIN/END SOLUTION` markers are kept, so that the release
step hides the reference code; in other cells they are dropped (given code).
"""

from dataclasses import dataclass
from pathlib import Path

import nbformat

from .sources import object_source, strip_solution_markers

METADATA_KEY = "cnn_course"


@dataclass(frozen=True)
class Drift:
    """A generated cell whose stored source differs from what `solutions/` gives."""

    notebook: Path
    cell_index: int
    objects: tuple[str, ...]

    def __str__(self) -> str:
        names = ", ".join(self.objects)
        return f"{self.notebook}: cell {self.cell_index} ({names}) differs from solutions/"


def generated_source(cell) -> str | None:
    """The source `solutions/` gives for `cell`, or None when the cell is not generated."""
    objects = cell.get("metadata", {}).get(METADATA_KEY, {}).get("objects")
    if not objects:
        return None
    source = "\n\n\n".join(object_source(ref) for ref in objects)
    if not cell["metadata"].get("nbgrader", {}).get("solution", False):
        source = strip_solution_markers(source)
    return source


def sync_notebook(path: Path, write: bool = True) -> list[Drift]:
    """Regenerate the generated cells of one notebook; return the cells that differed."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    drifts = []
    for index, cell in enumerate(nb.cells):
        wanted = generated_source(cell)
        if wanted is not None and cell.source != wanted:
            objects = tuple(cell.metadata[METADATA_KEY]["objects"])
            drifts.append(Drift(path, index, objects))
            cell.source = wanted
    if drifts and write:
        nbformat.write(nb, path)
    return drifts


def topic(assignment: str) -> str:
    """The module name of a lesson: "02_convolution" -> "convolution"."""
    number, _, name = assignment.partition("_")
    if not (number.isdigit() and name.isidentifier()):
        raise ValueError(f"lesson folders are named NN_topic. Received: {assignment!r}")
    return name


def lesson_notebooks(notebooks_dir: Path) -> list[Path]:
    """Every source notebook under `notebooks_dir`, in lesson order."""
    return sorted(
        p for p in Path(notebooks_dir).glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )

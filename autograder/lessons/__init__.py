"""The course's lessons, one folder each, found by convention rather than listed anywhere.

A lesson's folder is named like its nbgrader assignment and its notebook folder
(`02_convolution`). It holds what is that lesson's alone:

- `cases.py`: its case tables, worked examples and tolerances, and how fresh cases are drawn;
- `checks.py`: the `check_*` functions its test cells call, declared on the shared harness
  (`judge`, `twin`, `contract`, `diagnosis`, `training`);
- `mistakes.py`: its catalogue of known mistakes and the probes that reveal them;
- `ops.py` (optional): operations on student code that only this lesson needs, listed in
  its `OPERATIONS`;
- `samples.py`, `attacks.py` (optional): its broken and hostile demo submissions;
- `mutants.py` (optional): mutants of its reference code recorded as equivalent.

Folder names start with digits, so a lesson's modules are imported by name
(`lessons.module("02_convolution", "checks")`), never with an `import` statement.
"""

import importlib
import re
from functools import cache
from pathlib import Path
from types import ModuleType

FOLDER = Path(__file__).parent
NAME = re.compile(r"\d\d_[a-z][a-z0-9_]*")


@cache
def names() -> tuple[str, ...]:
    """Every lesson of this installation ("01_mlp_limits", ...), in order."""
    found = (p for p in FOLDER.iterdir() if NAME.fullmatch(p.name) and (p / "checks.py").is_file())
    return tuple(sorted(p.name for p in found))


def topic(assignment: str) -> str:
    """ "convolution" for "02_convolution"."""
    return assignment.partition("_")[2]


def by_topic(name: str) -> str | None:
    """The lesson whose topic is `name` ("convolution" -> "02_convolution"), if any."""
    return next((lesson for lesson in names() if topic(lesson) == name), None)


def not_found(assignment: str) -> str:
    """Why `assignment` is not a lesson here, for an error message: a folder that lacks its
    checks module or is misnamed is named, else the lessons there are."""
    folder = FOLDER / assignment
    if not assignment or not folder.is_dir():
        return f"no lesson named {assignment!r}; lessons: {', '.join(names())}"
    if not NAME.fullmatch(assignment):
        return (
            f"{folder} is not named like a lesson (NN_topic: two digits, '_', a lowercase "
            "topic), so it is not found"
        )
    return (
        f"{folder} has no checks.py, so it is not found as a lesson (a lesson is a folder "
        "with a checks.py, see docs/authoring.md)"
    )


def module(assignment: str, part: str = "checks") -> ModuleType:
    """A part of a lesson (`checks`, `mistakes`, ...); ModuleNotFoundError if it has none."""
    if assignment not in names():
        raise ModuleNotFoundError(not_found(assignment), name=assignment)
    return importlib.import_module(f"{__name__}.{assignment}.{part}")


def optional(assignment: str, part: str) -> ModuleType | None:
    """A part a lesson may lack (`ops`, `samples`), or None."""
    if not (FOLDER / assignment / f"{part}.py").is_file():
        return None
    return module(assignment, part)

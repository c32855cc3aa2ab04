"""Reference outputs stored as package data, one .npz file per lesson.

They are produced from the `solutions` package by `cnn-course references` and read by the
checks, so grading needs neither the solutions nor any randomness at run time.
"""

from functools import cache
from pathlib import Path

import numpy as np

FOLDER = Path(__file__).parent / "stored"  # hidden from the grading sandbox


def path(assignment: str) -> Path:
    """Where the reference arrays of `assignment` (e.g. "02_convolution") are stored."""
    return FOLDER / f"{assignment}.npz"


@cache
def load(assignment: str) -> dict[str, np.ndarray]:
    """All reference arrays of `assignment`, by key."""
    file = path(assignment)
    if not file.exists():
        raise FileNotFoundError(
            f"reference outputs for {assignment} are not here ({file}). While a notebook is "
            "graded, checks run only in its test cells: a check called from any other cell "
            "cannot read them. Elsewhere, an instructor regenerates them with "
            "`cnn-course references`."
        )
    with np.load(file) as data:
        return {key: data[key] for key in data.files}

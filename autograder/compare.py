"""Tolerance-aware comparison of a student's array with the expected one."""

from dataclasses import dataclass, field

import numpy as np

from .mismatch_figure import MapMismatch, map_axes
from .shape_figure import ShapeMismatch, shape_mismatch


@dataclass(frozen=True)
class Tolerance:
    """Elementwise bound |actual - expected| <= atol + rtol * |expected|, and why it holds.

    `reason` is for authors (why every correct implementation stays within the bound); a
    student's feedback shows the bound only, `str(tolerance)`: "atol 1e-05, rtol 1e-05".
    """

    atol: float
    rtol: float
    reason: str = ""

    def __str__(self) -> str:
        if self.atol == 0 and self.rtol == 0:
            return "exact"
        return f"atol {self.atol:g}, rtol {self.rtol:g}"


EXACT = Tolerance(0.0, 0.0, "exact integer arithmetic")


def to_numpy(value) -> np.ndarray:
    """Convert a NumPy array, a tensor, or nested lists to a NumPy array."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    elif type(value).__module__.startswith(("tensorflow", "keras")):
        import keras

        value = keras.ops.convert_to_numpy(value)
    return np.asarray(value)


@dataclass(frozen=True)
class Mismatch:
    """Why an array differs from the expected one, as lines of feedback; for maps whose values
    are off or whose shapes differ, also the arrays a picture of the mismatch is drawn from
    (`picture`)."""

    kind: str  # "shape", "nonfinite" or "values"
    lines: tuple[str, ...]
    picture: MapMismatch | ShapeMismatch | None = field(default=None, compare=False, repr=False)


def compare(
    actual, expected, tol: Tolerance, name: str = "output", axes: str | None = None
) -> Mismatch | None:
    """None when `actual` matches `expected` within `tol`, else what is wrong.

    `axes` names the axes of a map ("hw", "hwc", "hwio"; rank-4 arrays are "nhwc" unless
    named otherwise): a mismatch of a map's values, or of the shapes of two maps of one rank,
    keeps the arrays for a picture of it.
    """
    actual = to_numpy(actual)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        line = f"{name} has shape {actual.shape}; expected {expected.shape}"
        return Mismatch("shape", (line,), _shape_picture(actual, expected, tol, axes, name))
    if not np.issubdtype(actual.dtype, np.number) and actual.dtype != bool:
        return Mismatch("values", (f"{name} holds {actual.dtype} values; expected numbers",))
    actual = actual.astype(np.float64)
    bad = ~np.isfinite(actual) & np.isfinite(expected)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        count = int(bad.sum())
        return Mismatch(
            "nonfinite",
            (f"{name} contains {count} NaN/inf value(s), first at {name}{list(where)}",),
        )
    error = np.abs(actual - expected)
    allowed = tol.atol + tol.rtol * np.abs(expected)
    if (error <= allowed).all():
        return None
    flat = int(np.argmax(error - allowed))
    where = tuple(int(i) for i in np.unravel_index(flat, error.shape)) if error.ndim else ()
    wrong = int((error > allowed).sum())
    spatial = map_axes(error.shape, axes)
    picture = MapMismatch(actual, expected, allowed, where, spatial, name) if spatial else None
    return Mismatch(
        "values",
        (
            f"{wrong} of {error.size} values are off; largest error {error[where]:.4g} "
            f"at {name}{list(where)} (yours {actual[where]:.6g}, expected {expected[where]:.6g})",
            f"tolerance: {tol}",
        ),
        picture,
    )


def _shape_picture(actual, expected, tol: Tolerance, axes, name) -> ShapeMismatch | None:
    """The picture of two maps of different shapes, when both are numeric maps."""
    if not all(np.issubdtype(a.dtype, np.number) or a.dtype == bool for a in (actual, expected)):
        return None
    actual, expected = actual.astype(np.float64), expected.astype(np.float64)
    allowed = tol.atol + tol.rtol * np.abs(expected)
    return shape_mismatch(actual, expected, allowed, axes, name)

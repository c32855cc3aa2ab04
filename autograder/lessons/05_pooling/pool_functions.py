"""Checks of lesson 05's two functions, re-exported by `checks.py`: pool_output_size (how many
windows fit along an axis, equal to Keras's) and pool_windows (the windows themselves, in any
order within a window)."""

from dataclasses import replace

import numpy as np

from ...compare import compare, to_numpy
from ...diagnosis import Diagnosis
from ...feedback import fail, passed
from ...judge import Compare
from ...student import run
from . import cases
from . import mistakes as catalogue
from .forbidden import POOLING


def _as_int(value):
    """The student's answer as an int, or None when it is not a single whole number."""
    try:
        number = to_numpy(value)
    except Exception:
        return None
    if number.shape != () or not np.issubdtype(number.dtype, np.number):
        return None
    number = float(number)
    return int(number) if number.is_integer() else None


def _sizes_on_probe(fn, probe):
    try:
        sizes = [
            _as_int(run("pool_output_size", fn, *c, forbidden=POOLING)) for c in probe["cases"]
        ]
    except TypeError:
        return None
    return None if None in sizes else np.array(sizes)


def _windows_on_probe(fn, p):
    args = (p["pool_size"], p["strides"], p["padding"], p["pad_value"])
    return run("pool_windows", fn, p["x"].copy(), *args, forbidden=POOLING)


OUTPUT_SIZE_DIAGNOSIS = Diagnosis(
    catalogue.output_size_probes, catalogue.OUTPUT_SIZE_VARIANTS, _sizes_on_probe
)
WINDOWS_DIAGNOSIS = Diagnosis(
    catalogue.windows_probes, catalogue.WINDOWS_VARIANTS, _windows_on_probe
)


def check_pool_output_size(pool_output_size, hidden=False):
    """The number of windows along an axis equals Keras's, for 'valid' and 'same'."""
    table = cases.output_sizes(hidden)
    wrong = []
    for n, k, s, padding in table:
        call = f"pool_output_size({n}, {k}, {s}, {padding!r})"
        got = run(
            "pool_output_size", pool_output_size, n, k, s, padding, forbidden=POOLING, case=call
        )
        expected = cases.keras_output_size(n, k, s, padding)
        if _as_int(got) != expected:
            wrong.append((call, got, expected, cases.output_size_formula(n, k, s, padding)))
    if wrong:
        call, got, expected, formula = wrong[0]
        lines = [
            f"{len(wrong)} of {len(table)} cases are wrong; first: {call} returned {got!r}, "
            f"expected {expected}",
            f"formula {formula} = {expected}",
        ]
        mistake = OUTPUT_SIZE_DIAGNOSIS(pool_output_size)
        fail("pool_output_size counts the windows wrongly.", lines, mistake=mistake)
    passed(f"pool_output_size matches Keras on {len(table)} cases")


class _AnyOrderWithinWindow(Compare):
    """Windows compared as they are, or, if the values differ, with each window sorted."""

    def judge(self, student, case, output) -> None:
        mismatch = compare(output, case.expected, self.tolerance)
        if mismatch and mismatch.kind != "shape":
            output = catalogue.sorted_windows(output)
            case = replace(case, expected=catalogue.sorted_windows(case.expected))
        super().judge(student, case, output)


check_pool_windows = _AnyOrderWithinWindow(
    "pool_windows",
    cases.windows,
    cases.WINDOWS_TOL,
    POOLING,
    headline="pool_windows gives the wrong windows.",
    passed="pool_windows matches the reference on {count} cases",
    diagnosis=WINDOWS_DIAGNOSIS,
)

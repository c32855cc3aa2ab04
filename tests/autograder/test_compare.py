import numpy as np

from autograder.compare import Tolerance, compare

TOL = Tolerance(1e-6, 1e-6, "test")


def test_equal_arrays_match():
    assert compare(np.ones((2, 3)), np.ones((2, 3)), TOL) is None


def test_shape_mismatch_names_both_shapes():
    mismatch = compare(np.ones((2, 2)), np.ones((3, 3)), TOL)
    assert mismatch.kind == "shape"
    assert "(2, 2)" in mismatch.lines[0] and "(3, 3)" in mismatch.lines[0]


def test_nan_is_reported_with_its_position():
    actual = np.zeros((2, 3))
    actual[1, 2] = np.nan
    mismatch = compare(actual, np.zeros((2, 3)), TOL)
    assert mismatch.kind == "nonfinite"
    assert "[1, 2]" in mismatch.lines[0]


def test_largest_error_and_its_position_are_reported():
    expected = np.arange(12.0).reshape(3, 4)
    actual = expected.copy()
    actual[2, 1] += 5
    actual[0, 0] += 0.5
    mismatch = compare(actual, expected, TOL)
    assert mismatch.kind == "values"
    assert "2 of 12 values are off" in mismatch.lines[0]
    assert "largest error 5 at output[2, 1]" in mismatch.lines[0]
    assert "tolerance" in mismatch.lines[1]


def test_tolerance_is_relative_and_absolute():
    tol = Tolerance(1e-3, 1e-2)
    assert compare([100.5], [100.0], tol) is None
    assert compare([0.002], [0.0], tol) is not None


def test_non_numeric_output_is_refused():
    assert compare(np.array(["a"]), np.array([1.0]), TOL).kind == "values"

"""Lesson 01's surviving mutants that are equivalent to the reference, or differ from it only
outside the lesson's contract (`cnn-course mutants 01_mlp_limits` reads them).

The contract is the notebook and the docstrings in solutions/mlp_limits.py: Dense takes
Keras's constructor arguments (its `activation` becomes a callable through
keras.activations.get, never None); mlp_params takes an input shape and a tuple of units;
conv1d_matrix takes a 1-D NumPy array `kernel`.
"""

_STRICT = "sizes[:-1] and sizes[1:] of one list have the same length: `strict` never acts"

EQUIVALENT_MUTANTS = {
    "Dense.call: `return outputs` -> `pass`": (
        "outside the contract: the branch runs only if `layer.activation` is set to None after "
        "construction; the constructor turns activation=None into keras.activations.linear "
        "(exercised by the activation=None cases), and neither the notebook nor the docstring "
        "promise a layer whose activation attribute is later set to None (a check cannot set "
        "an attribute of a layer in the grading sandbox either)"
    ),
    "mlp_params: drop `strict=` from `zip(...)`": _STRICT,
    "mlp_params: in `zip(sizes[:-1], sizes[1:], strict=True)`: `True` -> `False`": _STRICT,
    "conv1d_matrix: drop `dtype=` from `np.asarray(...)`": (
        "an integer kernel stays integer, but np.where(inside, kernel[...], 0.0) promotes it to "
        "float64: the same values, exactly"
    ),
    "conv1d_matrix: swap `index` and `0` in `np.clip(...)`": (
        "np.clip(0, index, k - 1) = min(max(0, index), k - 1) = np.clip(index, 0, k - 1), "
        "element by element (0 broadcasts to index's shape)"
    ),
    "conv1d_matrix: in `np.clip(index, 0, k - 1)`: `0` -> `-1`": (
        "the clip only keeps the index in range: an index clipped to -1 instead of 0 is one "
        "below 0, where `inside` is False and np.where writes 0.0 whatever the kernel value"
    ),
}

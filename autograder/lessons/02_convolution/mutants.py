"""Lesson 02's surviving mutants that are equivalent to the reference, or differ from it only
outside the lesson's contract (`cnn-course mutants 02_convolution` reads them).

The contract is the notebook and the docstrings in solutions/convolution.py: cross_correlate2d
takes NumPy arrays (H, W) and (kh, kw); im2col takes a tensor (batch, H, W, C); Conv2D's build
creates `kernel` and, when `use_bias`, `bias` (the notebook asks nothing of `bias` otherwise).
"""

EQUIVALENT_MUTANTS = {
    "cross_correlate2d: `x = np.asarray(x, dtype=float)` -> `pass`": (
        "x is a NumPy array (the docstring's contract): sliding_window_view takes it as it is, "
        "and einsum with the float kernel gives the same float64 values, integer x included"
    ),
    "cross_correlate2d: drop `dtype=` from `np.asarray(...)`": (
        "an integer x stays integer, but einsum with the float64 kernel promotes the sums to "
        "float64: the same values, exactly"
    ),
    "cross_correlate2d: `kernel = np.asarray(kernel, dtype=float)` -> `pass`": (
        "kernel is a NumPy array (the docstring's contract), so kernel.shape exists; einsum "
        "with the float64 x gives the same float64 values, integer kernel included"
    ),
    "cross_correlate2d: drop `dtype=` from `np.asarray(...)` #2": (
        "an integer kernel stays integer, but einsum with the float64 x promotes the sums to "
        "float64: the same values, exactly"
    ),
    "im2col: `x = ops.convert_to_tensor(x)` -> `pass`": (
        "x is a tensor or NumPy array: both have .shape, and ops.slice and ops.concatenate "
        "convert a NumPy array themselves, giving the same tensor"
    ),
    "Conv2D.build: `self.bias = None` -> `pass`": (
        "outside the contract: call reads self.bias only when use_bias, and neither the "
        "notebook nor the docstring promise a `bias` attribute without a bias (lesson 01's "
        "Dense, whose notebook does, checks it)"
    ),
}

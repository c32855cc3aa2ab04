"""Lesson 04's surviving mutants that are equivalent to the reference, or differ from it only
outside the lesson's contract (`cnn-course mutants 04_stride` reads them).

The contract is the notebook and the docstrings in solutions/stride.py: im2col takes a tensor
(batch, H, W, C) and pairs of positive ints; Conv2D takes rank-4 inputs (InputSpec(ndim=4))
and turns kernel_size, strides and dilation_rate into pairs of positive ints in its
constructor.
"""

_STRICT = (
    "the sizes (height, width) and the constructor's kernel_size, strides and dilation_rate "
    "are all pairs, so zip never meets lengths that differ and `strict` never acts"
)
_NO_STRIDE = (
    "strides are positive ints, so (sh, sw) never equals a pair holding {value}: every "
    "stride, (1, 1) included, takes the [::sh, ::sw] branch, and block[:, ::1, ::1, :] is "
    "the block itself"
)

EQUIVALENT_MUTANTS = {
    "padding_amounts: swap `(outputs - 1) * strides + span - n` and `0` in `max(...)`": (
        "max of two ints does not depend on their order (when they are equal both are 0)"
    ),
    "im2col: `x = ops.convert_to_tensor(x)` -> `pass`": (
        "x is a tensor or NumPy array: both have .shape, and ops.slice and ops.concatenate "
        "convert a NumPy array themselves, giving the same tensor"
    ),
    "im2col: in `(1, 1)`: `1` -> `0`": _NO_STRIDE.format(value=0),
    "im2col: in `(1, 1)`: `1` -> `-1`": _NO_STRIDE.format(value=-1),
    "im2col: in `(1, 1)`: `1` -> `0` #2": _NO_STRIDE.format(value=0),
    "im2col: in `(1, 1)`: `1` -> `-1` #2": _NO_STRIDE.format(value=-1),
    "Conv2D.call: drop `strict=` from `zip(...)`": _STRICT,
    "Conv2D.call: in `zip(sizes, self.kernel_size, self.strides, self.dilation_...`: "
    "`True` -> `False`": _STRICT,
    "Conv2D.compute_output_shape: drop `strict=` from `zip(...)`": _STRICT,
    "Conv2D.compute_output_shape: in `zip((height, width), self.kernel_size, self.strides, "
    "self...`: `True` -> `False`": _STRICT,
    "Conv2D.call: drop `dtype=` from `ZeroPadding2D(...)`": (
        "outside the contract's precision: the inner ZeroPadding2D then computes in the global "
        "policy's dtype, so a Conv2D built with another dtype (float64, say) rounds its padded "
        "inputs to float32, and keras.ops.matmul promotes back: the output differs by float32 "
        "rounding only, below every tolerance of this float32 lesson (a float64 Conv2D case "
        "was tried and did not tell them apart); no check builds a layer under a mixed policy"
    ),
}

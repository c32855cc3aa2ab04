"""Lesson 03's surviving mutants that are equivalent to the reference, or differ from it only
outside the lesson's contract (`cnn-course mutants 03_padding` reads them).

The contract is the notebook and the docstrings in solutions/padding.py: ZeroPadding2D and
Conv2D take rank-4 inputs (their InputSpec(ndim=4) refuses others before `call`), Conv2D's
`kernel_size` is always a pair (the constructor makes it one), and its `padding` is one of
"valid", "same", "full" (the constructor refuses others).
"""

_AXIS = (
    "inputs have rank 4 (InputSpec(ndim=4)), so axis -2 is axis 2, the width: the same "
    "columns of zeros"
)
_STRICT = (
    "(height, width) and self.kernel_size are both pairs (the constructor makes kernel_size "
    "one), so zip never meets lengths that differ and `strict` never acts"
)

_RAISE = (
    "padding_amounts: `raise ValueError(f\"`padding` must be 'valid', 'same' or '...` -> `pass`"
)

EQUIVALENT_MUTANTS = {
    "ZeroPadding2D.call: in `ops.repeat(column, left, axis=2)`: `2` -> `-2`": _AXIS,
    "ZeroPadding2D.call: in `ops.repeat(column, right, axis=2)`: `2` -> `-2`": _AXIS,
    "ZeroPadding2D.call: in `ops.concatenate([ops.repeat(column, left, axis=2), tall, "
    "...`: `2` -> `-2`": _AXIS,
    _RAISE: (
        "outside the contract: the docstring allows only 'valid', 'same' and 'full' and "
        "promises no error for other values (Conv2D's constructor refuses them, so Conv2D "
        "never passes one); the mutant returns None for them instead of raising"
    ),
    "Conv2D.compute_output_shape: drop `strict=` from `zip(...)`": _STRICT,
    "Conv2D.compute_output_shape: in `zip((height, width), self.kernel_size, strict=True)`: "
    "`True` -> `False`": _STRICT,
    "Conv2D.call: drop `dtype=` from `ZeroPadding2D(...)`": (
        "outside the contract's precision: the inner ZeroPadding2D then computes in the global "
        "policy's dtype, so a Conv2D built with another dtype (float64, say) rounds its padded "
        "inputs to float32, and keras.ops.matmul promotes back: the output differs by float32 "
        "rounding only, below every tolerance of this float32 lesson (a float64 Conv2D case "
        "was tried and did not tell them apart); no check builds a layer under a mixed policy"
    ),
}

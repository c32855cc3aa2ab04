"""What lesson 10 forbids in graded code: a built-in convolution of any kind, or patch
extraction. Padding is allowed (lesson 04's `im2col` and the given `spread` build on it).

Also forbidden: NumPy's window views (patch extraction, missing from the shared list), and the
grader's own answers. The notebook's `checks` reaches this lesson's NumPy oracles and formulas
(`checks.catalogue.depthwise`) in the student's kernel, sandbox or not, and a call to one
answers any fresh case."""

from ...builtin_ops import CONVOLUTION_OPS
from ...guard import ForbiddenOps

_LESSON = "autograder.lessons.10_conv_variants"
ORACLES = (
    *(
        f"{_LESSON}.mistakes.{name}"
        for name in ("windows", "depthwise", "separable", "transpose", "forward", "transpose_size")
    ),
    *(
        f"{_LESSON}.cost_cases.{name}_formula"
        for name in (
            "conv_parameters",
            "separable_parameters",
            "conv_multiplications",
            "separable_multiplications",
            "cost_ratio",
            "spatial",
        )
    ),
)

FORBIDDEN = ForbiddenOps(
    "a built-in convolution (standard, depthwise, separable or transposed), patch extraction "
    "or the grader's own answers",
    (*CONVOLUTION_OPS, "numpy.lib.stride_tricks.sliding_window_view", *ORACLES),
    "build the windows with the given im2col and combine them with ops.einsum or ops.matmul",
)

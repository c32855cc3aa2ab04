"""What lesson 10 forbids in graded code: a built-in convolution of any kind, or patch
extraction. Padding is allowed (lesson 04's `im2col` and the given `spread` build on it).

Also forbidden: NumPy's window views (patch extraction, missing from the shared list). The
grader's own answers (`checks.catalogue.depthwise`) are refused in every lesson
(`grader_modules`)."""

from ...builtin_ops import CONVOLUTION_OPS
from ...guard import ForbiddenOps

FORBIDDEN = ForbiddenOps(
    "a built-in convolution (standard, depthwise, separable or transposed) or patch extraction",
    (*CONVOLUTION_OPS, "numpy.lib.stride_tricks.sliding_window_view"),
    "build the windows with the given im2col and combine them with ops.einsum or ops.matmul",
)

"""What lesson 10 forbids in graded code: a built-in convolution of any kind, or patch
extraction. Padding is allowed (lesson 04's `im2col` and the given `spread` build on it)."""

from ...builtin_ops import CONVOLUTION_OPS
from ...guard import ForbiddenOps

FORBIDDEN = ForbiddenOps(
    "a built-in convolution (standard, depthwise, separable or transposed) or patch extraction",
    CONVOLUTION_OPS,
    "build the windows with the given im2col and combine them with ops.einsum or ops.matmul",
)

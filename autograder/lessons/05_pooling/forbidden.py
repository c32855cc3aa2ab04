"""What lesson 05 forbids in graded code: a built-in pooling op (every check passes it)."""

from ...builtin_ops import POOLING_OPS
from ...guard import ForbiddenOps

POOLING = ForbiddenOps(
    "a built-in pooling op",
    POOLING_OPS,
    "this lesson asks you to compute it yourself from slices, ops.pad, ops.stack and "
    "reductions such as ops.max, ops.sum and ops.mean",
)

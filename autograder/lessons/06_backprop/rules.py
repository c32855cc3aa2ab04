"""What lesson 06 forbids in a student's code (no built-in convolution, pooling or
differentiation; model.fit may differentiate through the custom gradient), and the rule each
gradient follows, as the feedback states it.
"""

from ...builtin_ops import CONVOLUTION_OPS, DIFFERENTIATION_OPS, GRADIENT_OPS, POOLING_OPS
from ...guard import (
    CONVOLUTION_OP_TYPES,
    PATCH_OP_TYPES,
    POOLING_GRADIENT_OP_TYPES,
    POOLING_OP_TYPES,
    ForbiddenOps,
)

BUILTIN_OP_TYPES = (
    CONVOLUTION_OP_TYPES + POOLING_OP_TYPES + PATCH_OP_TYPES + POOLING_GRADIENT_OP_TYPES
)
BACKPROP = ForbiddenOps(
    "a built-in convolution, pooling or differentiation",
    (*CONVOLUTION_OPS, *POOLING_OPS, *GRADIENT_OPS, *DIFFERENTIATION_OPS),
    "this lesson asks you to compute every gradient yourself, from slices, ops.pad, ops.flip, "
    "sums and matrix products (or NumPy): no tf.GradientTape, no built-in convolution, "
    "pooling or gradient op",
    BUILTIN_OP_TYPES,
)
# Keras's training step differentiates with tf.GradientTape, which calls the custom gradient.
TRAINING = ForbiddenOps(
    "a built-in convolution or pooling",
    (*CONVOLUTION_OPS, *POOLING_OPS, *GRADIENT_OPS),
    BACKPROP.hint,
    BUILTIN_OP_TYPES,
)

PARTS = ("grad_x", "grad_kernel", "grad_bias")
RULES = {
    "grad_x": "grad_x = G padded by (kh - 1, kw - 1) on every side, cross-correlated with the "
    "kernel flipped in both spatial axes, its channel axes swapped: shape (B, H, W, C)",
    "grad_kernel": "grad_kernel[m, n, c, f] = sum over b, i, j of x[b, i + m, j + n, c] * "
    "G[b, i, j, f]: shape (kh, kw, C, F)",
    "grad_bias": "grad_bias[f] = sum over b, i, j of G[b, i, j, f]: shape (F,)",
}
ROUTING_RULE = (
    "each window's upstream gradient goes to its maximum only (the first one, row by row, "
    "when several cells tie); all other cells get 0"
)

"""What lesson 07 forbids: a built-in batch normalization (or another per-channel
standardization) everywhere, and automatic differentiation in the hand-written backward pass."""

from ...guard import ForbiddenOps

BATCHNORM_OPS = (
    "keras.ops.batch_normalization",
    "keras.src.ops.nn.batch_normalization",
    "keras.src.backend.tensorflow.nn.batch_normalization",
    "keras.src.layers.normalization.batch_normalization.BatchNormalization.call",
    "tensorflow.nn.batch_normalization",
    "tensorflow.python.ops.nn_impl.batch_normalization",
    "tensorflow.python.ops.nn_impl.fused_batch_norm",
    "tensorflow.compat.v1.nn.fused_batch_norm",
    "tensorflow.python.ops.gen_nn_ops.fused_batch_norm",
    "tensorflow.python.ops.gen_nn_ops.fused_batch_norm_v2",
    "tensorflow.python.ops.gen_nn_ops.fused_batch_norm_v3",
    # other normalizations that standardize per channel
    "keras.src.layers.preprocessing.normalization.Normalization.call",
    "keras.src.layers.normalization.layer_normalization.LayerNormalization.call",
    "keras.src.layers.normalization.group_normalization.GroupNormalization.call",
    "keras.ops.layer_normalization",
    "scipy.stats.zscore",
    "sklearn.preprocessing.scale",
    "sklearn.preprocessing.StandardScaler.transform",
    "sklearn.preprocessing.StandardScaler.fit_transform",
)
# TensorFlow op types that only a built-in (fused) batch normalization creates.
FUSED_OP_TYPES = (
    "FusedBatchNorm",
    "FusedBatchNormV2",
    "FusedBatchNormV3",
    "FusedBatchNormGrad",
    "FusedBatchNormGradV2",
    "FusedBatchNormGradV3",
    "BatchNormWithGlobalNormalization",
    "BatchNormWithGlobalNormalizationGrad",
    "_FusedBatchNormEx",
)
AUTODIFF_OPS = (
    "tensorflow.GradientTape.gradient",
    "tensorflow.GradientTape.jacobian",
    "tensorflow.GradientTape.batch_jacobian",
    "tensorflow.gradients",
    "tensorflow.python.ops.gradients_impl.gradients",
)

BATCHNORM = ForbiddenOps(
    "a built-in batch normalization",
    BATCHNORM_OPS,
    "this lesson asks you to normalize yourself with keras.ops: ops.mean, ops.square, "
    "ops.sqrt, arithmetic, and variable.assign for the moving statistics",
    op_types=FUSED_OP_TYPES,
)
BACKWARD = ForbiddenOps(
    "a built-in batch normalization or automatic differentiation",
    BATCHNORM_OPS + AUTODIFF_OPS,
    "derive the gradient and compute it from x, gamma and grad_output with NumPy or "
    "keras.ops; tf.GradientTape is what the check compares you with",
    op_types=FUSED_OP_TYPES,
)

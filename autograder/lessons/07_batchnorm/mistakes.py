"""Known mistakes of lesson 07, simulated in float64 NumPy (`simulate`, `backward`), and the
probes that tell them apart: channels of very different scales (so the axes and epsilon show),
small batches (so n - 1 against n shows), a momentum far from 0.5 (so the two momentum
conventions differ) and moving statistics unlike every batch's (so the mode shows).
"""

import numpy as np

from ...compare import compare
from ...diagnosis import DIAGNOSIS_TOLERANCE, Mistake, Variant

UNBIASED_VARIANCE = Mistake(
    "unbiased_variance",
    "unbiased (n - 1) variance",
    "Keras normalizes with the biased variance, the plain mean of the squared deviations: "
    "divide by the number of values n, not by n - 1 (np.var's default ddof=0, ops.var, "
    "ops.moments), and it feeds that same variance to moving_variance. Dividing by n - 1 "
    "(torch.var's default; PyTorch's running_var) is a different convention.",
)
PER_SAMPLE = Mistake(
    "per_sample",
    "statistics of each sample on its own",
    "Batch normalization takes the statistics of each channel over the whole batch: over "
    "axis 0 and, for images, the height and width axes too, every axis but the last. "
    "Averaging each sample on its own (over axes 1 and 2, or 1 to 3) is instance or layer "
    "normalization, another method.",
)
ACROSS_CHANNELS = Mistake(
    "across_channels",
    "statistics pooled over the channels too",
    "Each channel gets its own mean and variance, of shape (C,): reduce over every axis "
    "except the last one. Reducing over all axes gives one mean for all channels, so a "
    "channel of large values and a channel of small ones are not normalized at all.",
)
PYTORCH_MOMENTUM = Mistake(
    "pytorch_momentum",
    "momentum the PyTorch way round",
    "In Keras, momentum is the weight of the OLD value: moving = moving * momentum + "
    "batch * (1 - momentum), so with momentum=0.99 the moving statistics take 1% steps. "
    "PyTorch's momentum=0.1 means the opposite (moving = (1 - m) * moving + m * batch).",
)
EPSILON_OUTSIDE = Mistake(
    "epsilon_outside",
    "epsilon outside the square root",
    "Keras divides by sqrt(variance + epsilon), not by sqrt(variance) + epsilon. The two "
    "differ most for channels whose variance is small next to epsilon.",
)
BATCH_AT_INFERENCE = Mistake(
    "batch_at_inference",
    "batch statistics at inference",
    "With training=False (or no training argument: predict, evaluate, a plain call) the "
    "layer must use moving_mean and moving_variance. Batch statistics at inference make a "
    "prediction depend on the other images of the batch, and fail for a batch of one.",
)
NEVER_UPDATED = Mistake(
    "never_updated",
    "moving statistics never updated",
    "Each training-mode call must assign new values to the moving statistics: "
    "self.moving_mean.assign(self.moving_mean * momentum + mean * (1 - momentum)), and the "
    "same for moving_variance. Without it they keep their initial values (0 and 1), and "
    "inference normalizes with those.",
)
VARIABLE_REPLACED = Mistake(
    "variable_replaced",
    "a weight replaced by a tensor instead of assigned",
    "`self.moving_mean = new_value` does not change the weight: it makes the attribute a "
    "tensor, while the layer's variable (what Keras saves, what layer.weights and the next "
    "model.fit step hold) keeps its old value, and inside model.fit the tensor belongs to a "
    "traced graph that is gone after the step. Write into the variable: "
    "self.moving_mean.assign(new_value), and the same for moving_variance.",
)
TRAINABLE_IGNORED = Mistake(
    "trainable_ignored",
    "trainable=False ignored",
    "A BatchNormalization layer with trainable=False is frozen: Keras then runs it in "
    "inference mode even when training=True (moving statistics, no updates). Test "
    "`if training and self.trainable:`, not `if training:`. Fine-tuning a pretrained "
    "network (lesson 09) depends on it.",
)
CONSTANT_STATISTICS = Mistake(
    "constant_statistics",
    "mean and variance treated as constants in the backward pass",
    "In training mode the mean and the variance are computed from the same batch, so every "
    "input moves them too: dL/dx = gamma / sqrt(var + eps) * (g - mean(g) - x_hat * "
    "mean(g * x_hat)), means over the channel's values. Dropping the two mean terms treats "
    "them as constants (and ops.stop_gradient on them in call() does the same).",
)
CONSTANT_VARIANCE = Mistake(
    "constant_variance",
    "variance treated as a constant in the backward pass",
    "The path through the mean is there (the - mean(g) term) but not the one through the "
    "variance: add - x_hat * mean(g * x_hat), means over the values of each channel.",
)
GAMMA_GRADIENT_RAW = Mistake(
    "gamma_gradient_raw",
    "gamma's gradient taken with x instead of x_hat",
    "gamma multiplies the normalized x_hat, so dL/dgamma = sum of g * x_hat over every "
    "axis but the last, not the sum of g * x.",
)

CATALOGUE = tuple(m for m in tuple(globals().values()) if isinstance(m, Mistake))


def statistics(x, axes="batch", unbiased=False):
    """(mean, variance) of `x` in float64: "batch" over every axis but the last (shape (C,)),
    "per_sample" over the axes between the first and the last, "sample" over every axis but
    the first, "all" over every axis (those three keep their axes, to broadcast)."""
    x = np.asarray(x, np.float64)
    ranges = {"batch": (0, -1), "per_sample": (1, -1), "sample": (1, 0), "all": (0, 0)}
    first, last = ranges[axes]
    over, keep = tuple(range(first, x.ndim + last)), axes != "batch"
    count = int(np.prod([x.shape[a] for a in over])) if over else 1
    mean = x.mean(axis=over, keepdims=keep) if over else x
    squares = ((x - mean) ** 2).sum(axis=over, keepdims=keep) if over else np.zeros_like(x)
    return mean, squares / max(count - 1 if unbiased else count, 1)


def simulate(
    steps,
    weights,
    momentum=0.99,
    epsilon=1e-3,
    trainable=True,
    *,
    axes="batch",
    unbiased=False,
    unbiased_moving=False,
    pytorch_momentum=False,
    epsilon_outside=False,
    batch_at_inference=False,
    never_updated=False,
    trainable_ignored=False,
):
    """Per step of `steps` [(x, training), ...], (output, moving_mean, moving_variance) after
    it, of a layer holding `weights` (gamma or beta may be missing); the flags are mistakes."""
    gamma = np.asarray(weights.get("gamma", 1.0), np.float64)
    beta = np.asarray(weights.get("beta", 0.0), np.float64)
    moving_mean = np.asarray(weights["moving_mean"], np.float64)
    moving_variance = np.asarray(weights["moving_variance"], np.float64)
    keep = 1.0 - momentum if pytorch_momentum else momentum
    results = []
    for x, training in steps:
        x = np.asarray(x, np.float64)
        learning = bool(training) and (trainable or trainable_ignored)
        if learning or batch_at_inference:
            mean, variance = statistics(x, axes, unbiased)
            if learning and not never_updated:
                moved = variance
                if unbiased_moving:
                    moved = statistics(x, axes, True)[1]
                # one number for all channels (no keepdims) broadcasts over the channels
                mean_all, moved = (np.ravel(a) if np.size(a) == 1 else a for a in (mean, moved))
                moving_mean = moving_mean * keep + mean_all * (1.0 - keep)
                moving_variance = moving_variance * keep + moved * (1.0 - keep)
        else:
            mean, variance = moving_mean, moving_variance
        spread = np.sqrt(variance) + epsilon if epsilon_outside else np.sqrt(variance + epsilon)
        results.append(((x - mean) / spread * gamma + beta, moving_mean, moving_variance))
    return results


def pack(results) -> np.ndarray:
    """The results of `simulate` (or the same from a student's layer) as one flat vector; a
    result whose moving statistics are not of shape (C,) packs to an empty vector."""
    parts = []
    for output, moving_mean, moving_variance in results:
        channels = np.shape(output)[-1]
        if np.shape(moving_mean) != (channels,) or np.shape(moving_variance) != (channels,):
            return np.zeros(0)
        parts += [np.ravel(output), np.ravel(moving_mean), np.ravel(moving_variance)]
    return np.concatenate(parts)


def statistics_probes():
    """A 4-D batch whose channels differ in mean and scale, and a small 2-D one."""
    rng = np.random.default_rng(71)
    scales = np.array([0.2, 1.0, 3.0])
    images = rng.normal(size=(3, 4, 5, 3)) * scales + np.array([2.0, -1.0, 0.5])
    table = rng.normal(size=(5, 4)) * np.array([0.5, 1.0, 2.0, 4.0]) + 1.0
    return [{"x": images.astype("float32")}, {"x": table.astype("float32")}]


def packed_statistics(mean, variance) -> np.ndarray:
    """(mean, variance) as one vector, size-1 axes dropped (any keepdims will do)."""
    return np.concatenate([np.ravel(np.squeeze(mean)), np.ravel(np.squeeze(variance))])


def _statistics(axes="batch", unbiased=False):
    def matches(output, probe):
        wanted = packed_statistics(*statistics(probe["x"], axes, unbiased))
        return compare(output, wanted, DIAGNOSIS_TOLERANCE) is None

    return matches


STATISTICS_VARIANTS = (
    Variant(UNBIASED_VARIANCE, _statistics(unbiased=True)),
    Variant(PER_SAMPLE, _statistics("per_sample")),
    Variant(PER_SAMPLE, _statistics("per_sample", unbiased=True)),
    Variant(PER_SAMPLE, _statistics("sample")),
    Variant(PER_SAMPLE, _statistics("sample", unbiased=True)),
    Variant(ACROSS_CHANNELS, _statistics("all")),
    Variant(ACROSS_CHANNELS, _statistics("all", unbiased=True)),
)


def layer_probes():
    """Two scenarios on 4-D batches of 3 channels (scales 0.05, 1 and 3): a trainable layer
    (two training steps, then inference with and without `training=False`) and a frozen one
    (a training-mode step, then an inference step)."""
    rng = np.random.default_rng(72)
    scales, offsets = np.array([0.05, 1.0, 3.0]), np.array([0.1, -1.0, 2.0])

    def batch(shift):
        return (rng.normal(size=(2, 3, 2, 3)) * scales * shift + offsets * shift).astype("float32")

    weights = {
        "gamma": np.array([1.5, -0.5, 2.0], "float32"),
        "beta": np.array([0.3, 1.0, -2.0], "float32"),
        "moving_mean": np.array([0.5, 0.2, -1.0], "float32"),
        "moving_variance": np.array([0.5, 2.0, 1.5], "float32"),
    }
    first, second, third = batch(1.0), batch(1.5), batch(0.7)
    common = {"weights": weights, "momentum": 0.8, "epsilon": 0.01}
    return [
        {
            **common,
            "trainable": True,
            "steps": [(first, True), (second, True), (third, False), (third, None)],
        },
        {**common, "trainable": False, "steps": [(first, True), (third, False)]},
    ]


def _layer(**flags):
    def matches(output, probe):
        kwargs = {k: probe[k] for k in ("momentum", "epsilon", "trainable")}
        wanted = pack(simulate(probe["steps"], probe["weights"], **kwargs, **flags))
        return wanted.size > 0 and compare(output, wanted, DIAGNOSIS_TOLERANCE) is None

    return matches


LAYER_VARIANTS = (
    Variant(UNBIASED_VARIANCE, _layer(unbiased=True)),
    Variant(UNBIASED_VARIANCE, _layer(unbiased=True, unbiased_moving=True)),
    Variant(UNBIASED_VARIANCE, _layer(unbiased_moving=True)),
    Variant(ACROSS_CHANNELS, _layer(axes="all")),
    Variant(ACROSS_CHANNELS, _layer(axes="all", unbiased=True)),
    Variant(PYTORCH_MOMENTUM, _layer(pytorch_momentum=True)),
    Variant(EPSILON_OUTSIDE, _layer(epsilon_outside=True)),
    Variant(BATCH_AT_INFERENCE, _layer(batch_at_inference=True)),
    Variant(NEVER_UPDATED, _layer(never_updated=True)),
    Variant(TRAINABLE_IGNORED, _layer(trainable_ignored=True)),
)


def backward(
    x,
    gamma,
    grad_output,
    epsilon,
    constant_statistics=False,
    constant_variance=False,
    raw_gamma=False,
    unbiased=False,
    epsilon_outside=False,
    exact=False,
):
    """(grad_x, grad_gamma, grad_beta) in float64, right unless a flag says otherwise.

    `unbiased` and `epsilon_outside` normalize with the layer's mistakes and keep the right
    formula's shape for grad_x; with `exact` too, grad_x is the exact derivative of that wrong
    normalization (what a staged derivation through dvar and dmean gives)."""
    x, g = np.asarray(x, np.float64), np.asarray(grad_output, np.float64)
    axes = tuple(range(x.ndim - 1))
    mean, variance = statistics(x, unbiased=unbiased)
    spread = np.sqrt(variance) + epsilon if epsilon_outside else np.sqrt(variance + epsilon)
    x_hat = (x - mean) / spread
    grad_beta = g.sum(axis=axes)
    grad_gamma = (g * (x if raw_gamma else x_hat)).sum(axis=axes)
    upstream = g * np.asarray(gamma, np.float64)
    if constant_statistics:
        grad_x = upstream / spread
    elif constant_variance:
        grad_x = (upstream - upstream.mean(axis=axes)) / spread
    else:
        term = (upstream * x_hat).mean(axis=axes)
        if exact and unbiased:
            count = x.size // x.shape[-1]
            term = term * count / (count - 1)
        if exact and epsilon_outside:
            term = term * spread / np.sqrt(variance)
        grad_x = (upstream - upstream.mean(axis=axes) - x_hat * term) / spread
    return grad_x, grad_gamma, grad_beta


def backward_probes():
    """A 4-D batch and a 2-D one with a non-constant upstream gradient."""
    rng = np.random.default_rng(73)
    return [
        {
            "x": rng.normal(size=shape) * rng.uniform(0.5, 2.0, shape[-1]) + 1.0,
            "gamma": rng.uniform(0.5, 2.0, shape[-1]),
            "grad_output": rng.normal(size=shape),
            "epsilon": 0.01,
        }
        for shape in ((2, 3, 3, 2), (6, 3))
    ]


def packed_gradients(grads) -> np.ndarray:
    """(grad_x, grad_gamma, grad_beta) as one vector."""
    return np.concatenate([np.ravel(np.asarray(g, np.float64)) for g in grads])


def _backward(**flags):
    def matches(output, probe):
        args = (probe["x"], probe["gamma"], probe["grad_output"], probe["epsilon"])
        wanted = packed_gradients(backward(*args, **flags))
        return compare(output, wanted, DIAGNOSIS_TOLERANCE) is None

    return matches


BACKWARD_VARIANTS = (
    Variant(CONSTANT_STATISTICS, _backward(constant_statistics=True)),
    Variant(CONSTANT_STATISTICS, _backward(constant_statistics=True, raw_gamma=True)),
    Variant(CONSTANT_VARIANCE, _backward(constant_variance=True)),
    Variant(CONSTANT_VARIANCE, _backward(constant_variance=True, raw_gamma=True)),
    Variant(GAMMA_GRADIENT_RAW, _backward(raw_gamma=True)),
    Variant(UNBIASED_VARIANCE, _backward(unbiased=True)),
    Variant(UNBIASED_VARIANCE, _backward(unbiased=True, exact=True)),
    Variant(EPSILON_OUTSIDE, _backward(epsilon_outside=True)),
    Variant(EPSILON_OUTSIDE, _backward(epsilon_outside=True, exact=True)),
)


def input_gradient_variants(x, gamma, upstream, epsilon):
    """The input gradients of the catalogued backward mistakes, for a layer's gradient check:
    [(mistake, grad_x)]."""
    return [
        (mistake, backward(x, gamma, upstream, epsilon, **{mistake.id: True})[0])
        for mistake in (CONSTANT_STATISTICS, CONSTANT_VARIANCE)
    ]

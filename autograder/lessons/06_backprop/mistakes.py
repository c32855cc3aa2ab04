"""Known mistakes of lesson 06 (backpropagation) and the probes that tell them apart; every
wrong answer is recomputed here in float64 NumPy, independently of the solutions.
"""

from itertools import permutations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...compare import compare
from ...diagnosis import DIAGNOSIS_TOLERANCE, Mistake, Variant, same_as
from ...oracles import correlate
from .cases import cubic_gradient, cubic_spec, finite_differences, pair
from .ops import cubic_terms

ONE_SIDED = Mistake(
    "one_sided",
    "one-sided difference",
    "(f(x + eps) - f(x)) / eps is off by about eps/2 times the second derivative; the central "
    "difference (f(x + eps) - f(x - eps)) / (2 eps) cancels that term and is off by about "
    "eps^2 only. Evaluate f on both sides of every entry.",
)
NOT_HALVED = Mistake(
    "not_halved",
    "difference divided by eps instead of 2 * eps",
    "x + eps and x - eps are 2 * eps apart, so the central difference divides by 2 * eps; "
    "dividing by eps doubles every entry of the gradient.",
)
EPS_IGNORED = Mistake(
    "eps_ignored",
    "the eps argument ignored",
    "numerical_gradient(f, x, eps=0.1) must step by 0.1: use the argument, not a number of "
    "your own.",
)
X_NOT_RESTORED = Mistake(
    "x_not_restored",
    "x not restored",
    "After moving x[i] to x[i] + eps and x[i] - eps, put the saved value back "
    "(x[i] = saved): the caller's array must hold its original values when the function "
    "returns, and every later entry must be differentiated at the original point.",
)

UNFLIPPED_KERNEL = Mistake(
    "unflipped_kernel",
    "input gradient with the unflipped kernel",
    "Input x[i + m, j + n] meets kernel[m, n] in output (i, j), so grad_x[p, q] collects "
    "G[p - m, q - n] * kernel[m, n]: a cross-correlation of the padded G with the kernel "
    "flipped in both spatial axes (kernel[::-1, ::-1]), that is a true convolution.",
)
VALID_NOT_FULL = Mistake(
    "valid_not_full",
    "input gradient with 'valid' instead of 'full' padding",
    "Every input cell receives gradient, even the corners that meet a single output: pad G "
    "with kh - 1 rows and kw - 1 columns of zeros on every side before cross-correlating "
    "(a 'full' convolution), so that grad_x has the input's shape (B, H, W, C).",
)
KERNEL_NOT_SUMMED = Mistake(
    "kernel_not_summed",
    "kernel gradient not summed over the batch",
    "The same kernel is used for every image of the batch, so its gradient is the sum of the "
    "gradients of all images: grad_kernel[m, n, c, f] = sum over b, i, j of "
    "x[b, i + m, j + n, c] * G[b, i, j, f]. Keeping one image, or one gradient per image, "
    "is wrong.",
)
KERNEL_AVERAGED = Mistake(
    "kernel_averaged",
    "kernel gradient averaged over the batch",
    "The loss is whatever the upstream gradient says: if it is a mean over the batch, G "
    "already holds the 1 / B. Sum the contributions of the images; do not divide again.",
)
BIAS_NOT_SUMMED = Mistake(
    "bias_not_summed",
    "bias gradient not summed over the batch and all positions",
    "bias[f] is added at every position of every image of output channel f, so "
    "grad_bias[f] = sum of G[b, i, j, f] over the batch and all positions (i, j): "
    "ops.sum(G, axis=(0, 1, 2)), shape (F,).",
)
RESHAPED_NOT_TRANSPOSED = Mistake(
    "reshaped_not_transposed",
    "channel axes reshaped instead of transposed",
    "ops.reshape keeps the order of the numbers and only regroups them: an array laid out as "
    "(C, kh, kw, F) or (kh, kw, F, C), reshaped to (kh, kw, C, F), has the right shape and "
    "scrambled values. Move axes with ops.transpose (the kernel's channel axes for the input "
    "gradient, the kernel gradient's axes into (kh, kw, C, F)).",
)

EVERY_CELL = Mistake(
    "every_cell",
    "gradient sent to every cell of the window",
    "Only the maximum of a window reaches the output; the other cells do not change it "
    "when they move a little, so their gradient is 0. Send each window's upstream gradient "
    "to the cell of its maximum only.",
)
AVERAGED = Mistake(
    "averaged",
    "gradient averaged over the window",
    "That is the gradient of average pooling. Max pooling copies one cell, so that cell "
    "receives the whole upstream gradient and the others 0.",
)
TIES_SHARED = Mistake(
    "ties_shared",
    "gradient given to every tied maximum",
    "When several cells of a window hold the maximum (all zeros after a ReLU, say), "
    "TensorFlow gives the whole gradient to the first of them, reading the window row by "
    "row; np.argmax picks that one. A mask x == max selects all of them.",
)
TIES_LAST = Mistake(
    "ties_last",
    "gradient given to the last tied maximum",
    "With ties TensorFlow keeps the first maximum, reading the window row by row: a loop "
    "must replace its best cell only on a strictly larger value (>, not >=).",
)

AUTODIFF = Mistake(
    "autodiff",
    "gradient left to automatic differentiation",
    "Without ops.custom_gradient, TensorFlow differentiates the forward pass itself and "
    "conv2d_backward never runs. Compute the output of x, kernel and bias inside a function "
    "decorated with @ops.custom_gradient that returns (output, backward), where backward "
    "returns all three gradients of conv2d_backward.",
)

BIAS_OUTSIDE = Mistake(
    "bias_outside",
    "bias added outside the custom gradient",
    "When the bias is added after the function decorated with @ops.custom_gradient, "
    "TensorFlow differentiates that addition itself and the grad_bias of conv2d_backward is "
    "thrown away. Pass the bias to the decorated function, add it there, and return all three "
    "gradients of conv2d_backward.",
)
ACTIVATION_INSIDE = Mistake(
    "activation_inside",
    "activation inside the custom gradient",
    "conv2d_backward is the backward pass of the convolution and the bias only. Apply "
    "self.activation outside the function decorated with @ops.custom_gradient, so that "
    "TensorFlow multiplies the upstream gradient by the activation's derivative before it "
    "reaches your backward pass.",
)

# Every mistake above, in order.
CATALOGUE = tuple(value for value in dict(globals()).values() if isinstance(value, Mistake))


def differences(spec, x, eps, kind) -> np.ndarray:
    """Finite differences ("forward", "backward" or "central") of the cubic test function."""
    return finite_differences(lambda v: cubic_terms(spec, v), [x], 0, eps, kind)


def numerical_gradient_probes():
    """A 3-D input and a large step, so that eps-sized errors show."""
    rng = np.random.default_rng(61)
    shape = (3, 2, 4)
    return [{"spec": cubic_spec(shape, rng), "x": rng.normal(size=shape), "eps": 0.1}]


def _difference(kind, scale=1.0):
    return same_as(lambda p: scale * differences(p["spec"], p["x"], p["eps"], kind))


NUMERICAL_GRADIENT_VARIANTS = (
    Variant(ONE_SIDED, _difference("forward")),
    Variant(ONE_SIDED, _difference("backward")),
    Variant(NOT_HALVED, _difference("central", 2.0)),
    Variant(ONE_SIDED, _difference("forward", 0.5)),  # one-sided and divided by 2 * eps
    Variant(EPS_IGNORED, same_as(lambda p: cubic_gradient(p["spec"], p["x"]))),
)


def input_gradient(kernel, g, flip=True, full=True, reshaped=False) -> np.ndarray:
    """grad_x: G ('full': padded by k - 1 on every side) cross-correlated with the kernel
    (flipped, its channel axes swapped by a transpose, or by a reshape when `reshaped`)."""
    kernel, g = np.asarray(kernel, np.float64), np.asarray(g, np.float64)
    kh, kw, c, f = kernel.shape
    if flip:
        kernel = kernel[::-1, ::-1]
    swapped = kernel.reshape(kh, kw, f, c) if reshaped else kernel.transpose(0, 1, 3, 2)
    if full:
        g = np.pad(g, [(0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)])
    return correlate(g, swapped)


def kernel_gradients(x, g) -> np.ndarray:
    """One kernel gradient per image of the batch, (B, kh, kw, C, F)."""
    x, g = np.asarray(x, np.float64), np.asarray(g, np.float64)
    windows = sliding_window_view(x, g.shape[1:3], axis=(1, 2))  # b m n c i j
    return np.einsum("bmncij,bijf->bmncf", windows, g)


def conv_probes():
    """Batch of 2, 3 channels in, 4 out, a 3x2 kernel on 6x5 images, so that every axis mix-up
    changes the numbers; a random upstream (with all ones, an unflipped kernel can still give
    the right input gradient)."""
    rng = np.random.default_rng(62)
    x = rng.normal(size=(2, 6, 5, 3))
    kernel = rng.normal(size=(3, 2, 3, 4))
    g = rng.normal(size=(2, 4, 4, 4))
    return [{"x": x, "kernel": kernel, "g": g, "bias": rng.normal(size=(4,))}]


def _permuted_kernel_gradient(output, probe):
    """The right kernel gradient laid out in another order of its axes, then reshaped."""
    right = kernel_gradients(probe["x"], probe["g"]).sum(axis=0)
    wrong_orders = list(permutations(range(4)))[1:]  # the first is (0, 1, 2, 3)
    return any(
        compare(output, right.transpose(order).reshape(right.shape), DIAGNOSIS_TOLERANCE) is None
        for order in wrong_orders
    )


def _input(g="g", **flags):
    return same_as(lambda p: input_gradient(p["kernel"], p[g], **flags))


def _per_image(reduce, g="g"):
    return same_as(lambda p: reduce(kernel_gradients(p["x"], p[g])))


def _bias(reduce, g="g"):
    return same_as(lambda p: reduce(np.asarray(p[g], np.float64)))


GRAD_X_VARIANTS = (
    Variant(UNFLIPPED_KERNEL, _input(flip=False)),
    Variant(VALID_NOT_FULL, _input(full=False)),
    Variant(VALID_NOT_FULL, _input(full=False, flip=False)),
    Variant(RESHAPED_NOT_TRANSPOSED, _input(reshaped=True)),
    Variant(RESHAPED_NOT_TRANSPOSED, _input(reshaped=True, flip=False)),
)
GRAD_KERNEL_VARIANTS = (
    Variant(KERNEL_NOT_SUMMED, _per_image(lambda k: k[0])),
    Variant(KERNEL_NOT_SUMMED, _per_image(lambda k: k[-1])),
    Variant(KERNEL_NOT_SUMMED, _per_image(lambda k: k)),
    Variant(KERNEL_AVERAGED, _per_image(lambda k: k.mean(axis=0))),
    Variant(RESHAPED_NOT_TRANSPOSED, _permuted_kernel_gradient),
)
GRAD_BIAS_VARIANTS = (
    Variant(BIAS_NOT_SUMMED, _bias(lambda g: g.sum(axis=0))),
    Variant(BIAS_NOT_SUMMED, _bias(lambda g: g.sum(axis=0).mean(axis=(0, 1)))),
    Variant(BIAS_NOT_SUMMED, _bias(lambda g: g.mean(axis=(0, 1, 2)))),
    Variant(BIAS_NOT_SUMMED, _bias(lambda g: g.sum(axis=(1, 2)))),
    Variant(BIAS_NOT_SUMMED, _bias(lambda g: g[0].sum(axis=(0, 1)))),
)


def route(x, g, pool_size, rule="first") -> np.ndarray:
    """The gradient of valid max pooling with strides = pool_size, in float64.

    rule: "first" (TensorFlow: the first maximum, row by row), "last", "all" (every tied
    maximum gets the whole gradient), "split" (the tied maxima share it), "every" (every
    cell of the window gets it), "average" (every cell gets 1 / (kh kw) of it)."""
    kh, kw = pair(pool_size)
    x, g = np.asarray(x, np.float64), np.asarray(g, np.float64)
    batch, height, width, channels = x.shape
    out_h, out_w = height // kh, width // kw
    cells = x[:, : out_h * kh, : out_w * kw].reshape(batch, out_h, kh, out_w, kw, channels)
    cells = cells.transpose(0, 1, 3, 2, 4, 5).reshape(batch, out_h, out_w, kh * kw, channels)
    top = cells.max(axis=3, keepdims=True)
    index = np.arange(kh * kw)[:, None]
    if rule == "first":
        share = (index == cells.argmax(axis=3)[:, :, :, None, :]).astype(float)
    elif rule == "last":
        last = kh * kw - 1 - cells[:, :, :, ::-1].argmax(axis=3)
        share = (index == last[:, :, :, None, :]).astype(float)
    elif rule == "all":
        share = (cells == top).astype(float)
    elif rule == "split":
        share = (cells == top) / (cells == top).sum(axis=3, keepdims=True)
    elif rule == "every":
        share = np.ones_like(cells)
    else:
        share = np.full_like(cells, 1.0 / (kh * kw))
    routed = share * g[:, :, :, None, :]
    routed = routed.reshape(batch, out_h, out_w, kh, kw, channels).transpose(0, 1, 3, 2, 4, 5)
    out = np.zeros(x.shape)
    out[:, : out_h * kh, : out_w * kw] = routed.reshape(batch, out_h * kh, out_w * kw, channels)
    return out


def max_pool_probes():
    """Whole numbers 0..3 (many ties) with zero blocks, a 2x3 pool that leaves a row and
    two columns uncovered; and a square pool on distinct values."""
    rng = np.random.default_rng(63)
    tied = rng.integers(0, 4, size=(2, 7, 11, 3)).astype("float32")
    tied[:, :2, :3] = 0.0
    distinct = rng.normal(size=(2, 6, 6, 2)).astype("float32")
    return [
        {"x": tied, "pool_size": (2, 3), "g": rng.normal(size=(2, 3, 3, 3))},
        {"x": distinct, "pool_size": 2, "g": rng.normal(size=(2, 3, 3, 2))},
    ]


def _routed(rule):
    return same_as(lambda p: route(p["x"], p["g"], p["pool_size"], rule))


MAX_POOL_VARIANTS = (
    Variant(EVERY_CELL, _routed("every")),
    Variant(AVERAGED, _routed("average")),
    Variant(TIES_SHARED, _routed("all")),
    Variant(TIES_SHARED, _routed("split")),
    Variant(TIES_LAST, _routed("last")),
)


def layer_probes():
    """A tanh Conv2D(4, (3, 2)) on the convolution probe. "upstream" is the gradient of the
    layer's output; "g" the gradient of its pre-activation output, upstream * tanh'(z), which
    is what the backward pass of the convolution receives."""
    probes = []
    for probe in conv_probes():
        z = correlate(probe["x"], probe["kernel"]) + probe["bias"]
        upstream = np.random.default_rng(64).normal(size=z.shape)
        g = upstream * (1.0 - np.tanh(z) ** 2)
        probes.append({**probe, "activation": "tanh", "upstream": upstream, "g": g})
    return probes


LAYER_VARIANTS = {
    "inputs": (Variant(ACTIVATION_INSIDE, _input("upstream")), *GRAD_X_VARIANTS),
    "kernel": (
        Variant(ACTIVATION_INSIDE, _per_image(lambda k: k.sum(axis=0), "upstream")),
        *GRAD_KERNEL_VARIANTS,
    ),
    "bias": (
        Variant(ACTIVATION_INSIDE, _bias(lambda g: g.sum(axis=(0, 1, 2)), "upstream")),
        *GRAD_BIAS_VARIANTS,
    ),
}

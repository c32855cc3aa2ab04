"""Wrong versions of lesson 06's code, each making one catalogued mistake.

Written the way students write them (loops, einsum, slices, the batch-as-channels trick),
not as edits of the reference.
"""

import numpy as np
from keras import ops

from solutions.backprop import conv2d_backward, conv2d_forward
from solutions.mistakes import WrongVersion

# --- numerical_gradient ------------------------------------------------------------------------


def numerical_gradient_forward(f, x, eps=1e-5):
    """The forward difference (f(x + eps) - f(x)) / eps."""
    base = f(x)
    gradient = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        gradient[i] = (f(x) - base) / eps
        x[i] = old
        it.iternext()
    return gradient


def numerical_gradient_not_halved(f, x, eps=1e-5):
    """Central difference divided by eps."""
    gradient = np.zeros(x.shape)
    flat, out = x.reshape(-1), gradient.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f(x)
        flat[i] = old - eps
        minus = f(x)
        flat[i] = old
        out[i] = (plus - minus) / eps
    return gradient


def numerical_gradient_fixed_step(f, x, eps=1e-5):
    """A step of its own, whatever eps says."""
    h = 1e-5
    gradient = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[index] = h
        gradient[index] = (f(x + step) - f(x - step)) / (2 * h)
    return gradient


def numerical_gradient_not_restored(f, x, eps=1e-5):
    """Moves x[i] up, then down by 2 eps, and leaves it there."""
    gradient = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        x[index] += eps
        plus = f(x)
        x[index] -= 2 * eps
        minus = f(x)
        gradient[index] = (plus - minus) / (2 * eps)
    return gradient


def numerical_gradient_restored_by_arithmetic(f, x, eps=1e-5):
    """Moves x[i] up, down by 2 eps and up by eps again: x[i] + eps - 2 eps + eps is not
    always x[i] in floating point."""
    gradient = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        x[index] += eps
        plus = f(x)
        x[index] -= 2 * eps
        minus = f(x)
        x[index] += eps
        gradient[index] = (plus - minus) / (2 * eps)
    return gradient


# --- conv2d_backward ---------------------------------------------------------------------------
# Each is self-contained: a wrong version replaces one definition in the notebook, where only
# the notebook's own names (np, ops, conv2d_forward, ...) exist.


def conv2d_backward_unflipped(x, kernel, grad_output):
    """Pads G fully but slides the kernel over it as it is, without flipping it."""
    x, kernel, g = (ops.convert_to_tensor(a) for a in (x, kernel, grad_output))
    kh, kw = kernel.shape[0], kernel.shape[1]
    out_h, out_w = g.shape[1], g.shape[2]
    padded = ops.pad(g, [(0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)])
    grad_x = conv2d_forward(padded, ops.transpose(kernel, (0, 1, 3, 2)))
    grad_kernel = ops.stack(
        [
            ops.stack(
                [
                    ops.einsum("bijc,bijf->cf", x[:, m : m + out_h, n : n + out_w], g)
                    for n in range(kw)
                ]
            )
            for m in range(kh)
        ]
    )
    return grad_x, grad_kernel, ops.sum(g, axis=(0, 1, 2))


def conv2d_backward_valid(x, kernel, grad_output):
    """Cross-correlates G with the flipped kernel without padding it."""
    x, kernel, g = (ops.convert_to_tensor(a) for a in (x, kernel, grad_output))
    kh, kw = kernel.shape[0], kernel.shape[1]
    out_h, out_w = g.shape[1], g.shape[2]
    grad_x = conv2d_forward(g, ops.transpose(ops.flip(kernel, axis=(0, 1)), (0, 1, 3, 2)))
    parts = []
    for m in range(kh):
        for n in range(kw):
            parts.append(ops.einsum("bijc,bijf->cf", x[:, m : m + out_h, n : n + out_w], g))
    grad_kernel = ops.reshape(ops.stack(parts), kernel.shape)
    return grad_x, grad_kernel, ops.sum(g, axis=(0, 1, 2))


def conv2d_backward_channels_reshaped(x, kernel, grad_output):
    """Turns the flipped kernel from (kh, kw, C, F) into (kh, kw, F, C) with a reshape."""
    x, kernel, g = (ops.convert_to_tensor(a) for a in (x, kernel, grad_output))
    kh, kw, c, f = kernel.shape
    padded = ops.pad(g, [(0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)])
    flipped = ops.reshape(ops.flip(kernel, axis=(0, 1)), (kh, kw, f, c))
    grad_x = conv2d_forward(padded, flipped)
    swapped = conv2d_forward(ops.transpose(x, (3, 1, 2, 0)), ops.transpose(g, (1, 2, 0, 3)))
    grad_kernel = ops.transpose(swapped, (1, 2, 0, 3))
    return grad_x, grad_kernel, ops.sum(g, axis=(0, 1, 2))


def conv2d_backward_kernel_last_image(x, kernel, grad_output):
    """A loop over the batch that assigns the kernel gradient instead of adding to it."""
    x, kernel, g = (ops.convert_to_tensor(a) for a in (x, kernel, grad_output))
    kh, kw = kernel.shape[0], kernel.shape[1]
    out_h, out_w = g.shape[1], g.shape[2]
    for b in range(x.shape[0]):
        upstream = ops.reshape(g[b], (out_h * out_w, -1))
        grad_kernel = ops.stack(
            [
                ops.matmul(
                    ops.transpose(
                        ops.reshape(x[b, m : m + out_h, n : n + out_w, :], (out_h * out_w, -1))
                    ),
                    upstream,
                )
                for m in range(kh)
                for n in range(kw)
            ]
        )
        grad_kernel = ops.reshape(grad_kernel, kernel.shape)
    padded = ops.pad(g, [(0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)])
    grad_x = conv2d_forward(padded, ops.transpose(ops.flip(kernel, axis=(0, 1)), (0, 1, 3, 2)))
    return grad_x, grad_kernel, ops.sum(g, axis=(0, 1, 2))


def conv2d_backward_kernel_averaged(x, kernel, grad_output):
    """Averages the kernel gradient over the batch, like a mean loss."""
    x, kernel, g = (ops.convert_to_tensor(a) for a in (x, kernel, grad_output))
    kh, kw = kernel.shape[0], kernel.shape[1]
    swapped = conv2d_forward(ops.transpose(x, (3, 1, 2, 0)), ops.transpose(g, (1, 2, 0, 3)))
    grad_kernel = ops.transpose(swapped, (1, 2, 0, 3)) / x.shape[0]
    padded = ops.pad(g, [(0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)])
    grad_x = conv2d_forward(padded, ops.transpose(ops.flip(kernel, axis=(0, 1)), (0, 1, 3, 2)))
    return grad_x, grad_kernel, ops.sum(g, axis=(0, 1, 2))


def conv2d_backward_bias_per_position(x, kernel, grad_output):
    """Sums the bias gradient over the batch only: one value per position and filter."""
    x, kernel, g = (ops.convert_to_tensor(a) for a in (x, kernel, grad_output))
    kh, kw = kernel.shape[0], kernel.shape[1]
    swapped = conv2d_forward(ops.transpose(x, (3, 1, 2, 0)), ops.transpose(g, (1, 2, 0, 3)))
    padded = ops.pad(g, [(0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)])
    grad_x = conv2d_forward(padded, ops.transpose(ops.flip(kernel, axis=(0, 1)), (0, 1, 3, 2)))
    return grad_x, ops.transpose(swapped, (1, 2, 0, 3)), ops.sum(g, axis=0)


# --- max_pool_backward -------------------------------------------------------------------------


def max_pool_backward_every_cell(x, grad_output, pool_size):
    """Copies each window's gradient to all its cells (np.repeat)."""
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    g = np.asarray(grad_output)
    grad_x = np.zeros(np.shape(x), dtype=g.dtype)
    spread = np.repeat(np.repeat(g, kh, axis=1), kw, axis=2)
    grad_x[:, : spread.shape[1], : spread.shape[2]] = spread
    return grad_x


def max_pool_backward_averaged(x, grad_output, pool_size):
    """Shares each window's gradient equally among its cells, as average pooling would."""
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    g = np.asarray(grad_output) / (kh * kw)
    grad_x = np.zeros(np.shape(x), dtype=g.dtype)
    for i in range(g.shape[1]):
        for j in range(g.shape[2]):
            grad_x[:, i * kh : (i + 1) * kh, j * kw : (j + 1) * kw] = g[:, i : i + 1, j : j + 1]
    return grad_x


def max_pool_backward_ties_shared(x, grad_output, pool_size):
    """A mask x == max per window: every tied maximum receives the whole gradient."""
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    x, g = np.asarray(x), np.asarray(grad_output)
    grad_x = np.zeros(x.shape, dtype=g.dtype)
    for i in range(g.shape[1]):
        for j in range(g.shape[2]):
            window = x[:, i * kh : (i + 1) * kh, j * kw : (j + 1) * kw, :]
            mask = window == window.max(axis=(1, 2), keepdims=True)
            rows, cols = slice(i * kh, (i + 1) * kh), slice(j * kw, (j + 1) * kw)
            grad_x[:, rows, cols, :] = mask * g[:, i : i + 1, j : j + 1]
    return grad_x


def max_pool_backward_ties_last(x, grad_output, pool_size):
    """Loops over each window keeping the best cell with >=, so the last tie wins."""
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    x, g = np.asarray(x), np.asarray(grad_output)
    grad_x = np.zeros(x.shape, dtype=g.dtype)
    batch, out_h, out_w, channels = g.shape
    for b in range(batch):
        for c in range(channels):
            for i in range(out_h):
                for j in range(out_w):
                    best, where = -np.inf, None
                    for m in range(kh):
                        for n in range(kw):
                            value = x[b, i * kh + m, j * kw + n, c]
                            if value >= best:
                                best, where = value, (i * kh + m, j * kw + n)
                    grad_x[b, where[0], where[1], c] = g[b, i, j, c]
    return grad_x


# --- Conv2D.call -------------------------------------------------------------------------------


def call_autodiff(self, inputs):
    """No custom gradient: TensorFlow differentiates conv2d_forward itself."""
    outputs = conv2d_forward(inputs, self.kernel)
    if self.use_bias:
        outputs = outputs + self.bias
    return self.activation(outputs)


def call_bias_outside(self, inputs):
    """The custom gradient covers the convolution; the bias is added after it, by autodiff."""

    @ops.custom_gradient
    def convolve(x, kernel):
        def backward(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            grad_x, grad_kernel, _ = conv2d_backward(x, kernel, upstream)
            return grad_x, grad_kernel

        return conv2d_forward(x, kernel), backward

    outputs = convolve(inputs, ops.copy(self.kernel))
    if self.use_bias:
        outputs = outputs + self.bias
    return self.activation(outputs)


def call_activation_inside(self, inputs):
    """Applies the activation inside the custom gradient and passes the upstream gradient of
    the activation's output straight to conv2d_backward."""

    @ops.custom_gradient
    def layer(x, kernel, bias):
        def backward(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return conv2d_backward(x, kernel, upstream)

        return self.activation(conv2d_forward(x, kernel) + bias), backward

    bias = ops.copy(self.bias) if self.use_bias else ops.zeros((self.filters,))
    return layer(inputs, ops.copy(self.kernel), bias)


def call_kernel_reshaped(self, inputs):
    """Computes the kernel gradient with conv2d_forward, the batch playing the channels'
    part, and reshapes the (C, kh, kw, F) result into (kh, kw, C, F)."""

    @ops.custom_gradient
    def convolve(x, kernel, bias):
        def backward(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            grad_x, _, grad_bias = conv2d_backward(x, kernel, upstream)
            swapped = conv2d_forward(
                ops.transpose(x, (3, 1, 2, 0)), ops.transpose(upstream, (1, 2, 0, 3))
            )
            return grad_x, ops.reshape(swapped, kernel.shape), grad_bias

        return conv2d_forward(x, kernel) + bias, backward

    bias = ops.copy(self.bias) if self.use_bias else ops.zeros((self.filters,))
    return self.activation(convolve(inputs, ops.copy(self.kernel), bias))


M = "solutions.mistakes.backprop"
NUMERICAL = ("test_numerical_gradient",)
CONV_FUNCTION = (
    "test_conv2d_backward_matches_tensorflow",
    "test_conv2d_backward_gradient_check",
)
LAYER = ("test_conv2d_custom_gradient", "test_conv2d_trains")
POOL = ("test_max_pool_backward_hand_example", "test_max_pool_backward_matches_tensorflow")

WRONG_VERSIONS = (
    WrongVersion("one_sided", {"numerical_gradient": f"{M}:numerical_gradient_forward"}, NUMERICAL),
    WrongVersion(
        "not_halved", {"numerical_gradient": f"{M}:numerical_gradient_not_halved"}, NUMERICAL
    ),
    WrongVersion(
        "eps_ignored", {"numerical_gradient": f"{M}:numerical_gradient_fixed_step"}, NUMERICAL
    ),
    WrongVersion(
        "x_not_restored", {"numerical_gradient": f"{M}:numerical_gradient_not_restored"}, NUMERICAL
    ),
    WrongVersion(
        "x_not_restored",
        {"numerical_gradient": f"{M}:numerical_gradient_restored_by_arithmetic"},
        NUMERICAL,
        variant="arithmetic",
    ),
    WrongVersion(
        "unflipped_kernel",
        {"conv2d_backward": f"{M}:conv2d_backward_unflipped"},
        ("test_conv2d_backward_hand_example", *CONV_FUNCTION, *LAYER),
    ),
    WrongVersion(
        "valid_not_full",
        {"conv2d_backward": f"{M}:conv2d_backward_valid"},
        ("test_conv2d_backward_hand_example", *CONV_FUNCTION, *LAYER),
    ),
    WrongVersion(
        "reshaped_not_transposed",
        {"conv2d_backward": f"{M}:conv2d_backward_channels_reshaped"},
        (*CONV_FUNCTION, *LAYER),
    ),
    WrongVersion(
        "kernel_not_summed",
        {"conv2d_backward": f"{M}:conv2d_backward_kernel_last_image"},
        (*CONV_FUNCTION, *LAYER),
    ),
    WrongVersion(
        "kernel_averaged",
        {"conv2d_backward": f"{M}:conv2d_backward_kernel_averaged"},
        (*CONV_FUNCTION, *LAYER),
    ),
    WrongVersion(
        "bias_not_summed",
        {"conv2d_backward": f"{M}:conv2d_backward_bias_per_position"},
        ("test_conv2d_backward_hand_example", *CONV_FUNCTION, *LAYER),
    ),
    WrongVersion("every_cell", {"max_pool_backward": f"{M}:max_pool_backward_every_cell"}, POOL),
    WrongVersion("averaged", {"max_pool_backward": f"{M}:max_pool_backward_averaged"}, POOL),
    WrongVersion("ties_shared", {"max_pool_backward": f"{M}:max_pool_backward_ties_shared"}, POOL),
    WrongVersion("ties_last", {"max_pool_backward": f"{M}:max_pool_backward_ties_last"}, POOL),
    WrongVersion("autodiff", {"Conv2D.call": f"{M}:call_autodiff"}, LAYER[:1]),
    WrongVersion("bias_outside", {"Conv2D.call": f"{M}:call_bias_outside"}, LAYER[:1]),
    WrongVersion("activation_inside", {"Conv2D.call": f"{M}:call_activation_inside"}, LAYER),
    WrongVersion("reshaped_not_transposed", {"Conv2D.call": f"{M}:call_kernel_reshaped"}, LAYER),
)

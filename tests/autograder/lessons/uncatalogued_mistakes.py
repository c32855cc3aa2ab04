"""Subtly wrong code for lessons 02-07, written unlike the reference and unlike the wrong
versions of solutions/mistakes/: loops where the reference slices, NumPy where it uses
keras.ops, other off-by-ones. Each is source run in the lesson's reference namespace, replacing
one function or subclassing one layer, keyed by (lesson, name): the kinds issue 19 is judged on
(a flipped kernel, a padding mistake, a stride mistake, a wrong gradient, batch statistics used
at inference)."""

WRONG = {
    # --- flipped kernel -------------------------------------------------------------------
    ("02_convolution", "flip_loops"): """
def cross_correlate2d(x, kernel):
    x = np.asarray(x, dtype=float); k = np.asarray(kernel, dtype=float)
    kh, kw = k.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            total = 0.0
            for m in range(kh):
                for n in range(kw):
                    total += x[i + m, j + n] * k[kh - 1 - m, kw - 1 - n]
            out[i, j] = total
    return out
""",
    ("02_convolution", "flip_patch_order"): """
def im2col(x, kernel_size):
    kh, kw = kernel_size
    x = ops.convert_to_tensor(x)
    _, height, width, channels = x.shape
    oh, ow = height - kh + 1, width - kw + 1
    pieces = []
    for m in reversed(range(kh)):
        for n in reversed(range(kw)):
            pieces.append(x[:, m:m + oh, n:n + ow, :])
    return ops.concatenate(pieces, axis=-1)
""",
    # --- padding --------------------------------------------------------------------------
    ("03_padding", "pad_bottom_right_only"): """
class ZeroPadding2D(ZeroPadding2D):
    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        n, h, w, c = inputs.shape
        below = ops.zeros((n, top + bottom, w, c), dtype=inputs.dtype)
        tall = ops.concatenate([inputs, below], axis=1)
        beside = ops.zeros((n, h + top + bottom, left + right, c), dtype=inputs.dtype)
        return ops.concatenate([tall, beside], axis=2)
""",
    ("03_padding", "same_pads_k"): """
_right_amounts = padding_amounts
def padding_amounts(kernel_size, padding="valid"):
    if padding == "same":
        return (kernel_size // 2 + 1, kernel_size // 2 + 1) if kernel_size % 2 else (
            kernel_size // 2, kernel_size // 2)
    return _right_amounts(kernel_size, padding)
""",
    ("03_padding", "axes_swapped"): """
class ZeroPadding2D(ZeroPadding2D):
    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        n, h, w, c = inputs.shape
        z = lambda *shape: ops.zeros(shape, dtype=inputs.dtype)
        tall = ops.concatenate([z(n, left, w, c), inputs, z(n, right, w, c)], axis=1)
        rows = h + left + right
        return ops.concatenate([z(n, rows, top, c), tall, z(n, rows, bottom, c)], axis=2)
""",
    # --- stride ---------------------------------------------------------------------------
    ("04_stride", "forgot_to_stride"): """
def im2col(x, kernel_size, strides=(1, 1), dilation_rate=(1, 1)):
    (kh, kw), (dh, dw) = kernel_size, dilation_rate
    x = ops.convert_to_tensor(x)
    _, height, width, _ = x.shape
    oh, ow = height - dh * (kh - 1), width - dw * (kw - 1)
    taps = [x[:, m * dh:m * dh + oh, n * dw:n * dw + ow, :] for m in range(kh) for n in range(kw)]
    return ops.concatenate(taps, axis=-1)
""",
    ("04_stride", "window_start_off_by_one"): """
def im2col(x, kernel_size, strides=(1, 1), dilation_rate=(1, 1)):
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    x = ops.convert_to_tensor(x)
    _, height, width, _ = x.shape
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    # the first window starts one step in when strided
    start_h, start_w = sh - 1, sw - 1
    rows = range(start_h, height - span_h + 1, sh)
    cols = range(start_w, width - span_w + 1, sw)
    out = []
    for i in rows:
        line = []
        for j in cols:
            line.append(ops.concatenate(
                [x[:, i + m * dh, j + n * dw, :] for m in range(kh) for n in range(kw)], axis=-1))
        out.append(ops.stack(line, axis=1))
    return ops.stack(out, axis=1)
""",
    ("04_stride", "one_short"): """
def im2col(x, kernel_size, strides=(1, 1), dilation_rate=(1, 1)):
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    x = ops.convert_to_tensor(x)
    _, height, width, _ = x.shape
    oh = max((height - dh * (kh - 1) - 1) // sh, 1)
    ow = max((width - dw * (kw - 1) - 1) // sw, 1)
    taps = [x[:, m * dh:m * dh + (oh - 1) * sh + 1:sh, n * dw:n * dw + (ow - 1) * sw + 1:sw, :]
            for m in range(kh) for n in range(kw)]
    return ops.concatenate(taps, axis=-1)
""",
    # --- pooling: padding and stride --------------------------------------------------------
    ("05_pooling", "same_pads_after_only"): """
def pool_windows(x, pool_size, strides, padding="valid", pad_value=0.0):
    (kh, kw), (sh, sw) = pool_size, strides
    x = ops.convert_to_tensor(x)
    _, height, width, _ = x.shape
    oh, ow = pool_output_size(height, kh, sh, padding), pool_output_size(width, kw, sw, padding)
    if padding == "same":
        extra_h = max((oh - 1) * sh + kh - height, 0)
        extra_w = max((ow - 1) * sw + kw - width, 0)
        x = ops.pad(x, [(0, 0), (0, extra_h), (0, extra_w), (0, 0)], constant_values=pad_value)
    return ops.stack([x[:, m:m + (oh - 1) * sh + 1:sh, n:n + (ow - 1) * sw + 1:sw, :]
                      for m in range(kh) for n in range(kw)], axis=3)
""",
    ("05_pooling", "windows_not_strided"): """
def pool_windows(x, pool_size, strides, padding="valid", pad_value=0.0):
    (kh, kw) = pool_size
    x = ops.convert_to_tensor(x)
    _, height, width, _ = x.shape
    if padding == "same":
        x = ops.pad(x, [(0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)],
                    constant_values=pad_value)
    _, height, width, _ = x.shape
    oh, ow = height - kh + 1, width - kw + 1
    return ops.stack([x[:, m:m + oh, n:n + ow, :] for m in range(kh) for n in range(kw)], axis=3)
""",
    # --- wrong gradients --------------------------------------------------------------------
    ("06_backprop", "grad_x_scatter_flipped"): """
def conv2d_backward(x, kernel, grad_output):
    x = np.asarray(x, dtype=float); k = np.asarray(kernel, dtype=float)
    g = np.asarray(grad_output, dtype=float)
    kh, kw = k.shape[:2]
    oh, ow = g.shape[1:3]
    grad_x = np.zeros_like(x)
    grad_k = np.zeros_like(k)
    for m in range(kh):
        for n in range(kw):
            grad_k[m, n] = np.einsum("bijc,bijf->cf", x[:, m:m + oh, n:n + ow], g)
            # the tap that met x[i + m, j + n]... taken from the other end of the kernel
            grad_x[:, m:m + oh, n:n + ow] += g @ k[kh - 1 - m, kw - 1 - n].T
    return grad_x, grad_k, g.sum(axis=(0, 1, 2))
""",
    ("06_backprop", "grad_kernel_axes_swapped"): """
def conv2d_backward(x, kernel, grad_output):
    x = np.asarray(x, dtype=float); k = np.asarray(kernel, dtype=float)
    g = np.asarray(grad_output, dtype=float)
    kh, kw = k.shape[:2]
    oh, ow = g.shape[1:3]
    grad_x = np.zeros_like(x)
    grad_k = np.zeros_like(k)
    for m in range(kh):
        for n in range(kw):
            grad_x[:, m:m + oh, n:n + ow] += g @ k[m, n].T
            a, b = (n, m) if n < kh and m < kw else (m, n)
            grad_k[m, n] = np.einsum("bijc,bijf->cf", x[:, a:a + oh, b:b + ow], g)
    return grad_x, grad_k, g.sum(axis=(0, 1, 2))
""",
    ("06_backprop", "grad_x_half_padded"): """
def conv2d_backward(x, kernel, grad_output):
    x = ops.convert_to_tensor(x); kernel = ops.convert_to_tensor(kernel)
    g = ops.convert_to_tensor(grad_output)
    kh, kw = kernel.shape[0], kernel.shape[1]
    oh, ow = g.shape[1], g.shape[2]
    grad_kernel = ops.stack([ops.stack([
        ops.einsum("bijc,bijf->cf", x[:, m:m + oh, n:n + ow, :], g) for n in range(kw)])
        for m in range(kh)])
    padded = ops.pad(g, [(0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)])
    flipped = ops.transpose(ops.flip(kernel, axis=(0, 1)), (0, 1, 3, 2))
    return conv2d_forward(padded, flipped), grad_kernel, ops.sum(g, axis=(0, 1, 2))
""",
    ("06_backprop", "pool_gradient_to_largest_magnitude"): """
def max_pool_backward(x, grad_output, pool_size):
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else tuple(pool_size)
    x = np.asarray(x); g = np.asarray(grad_output)
    grad = np.zeros(x.shape)
    for b in range(g.shape[0]):
        for i in range(g.shape[1]):
            for j in range(g.shape[2]):
                for c in range(g.shape[3]):
                    window = np.abs(x[b, i * kh:(i + 1) * kh, j * kw:(j + 1) * kw, c])
                    m, n = np.unravel_index(np.argmax(window), window.shape)
                    grad[b, i * kh + m, j * kw + n, c] += g[b, i, j, c]
    return grad
""",
    ("07_batchnorm", "backward_over_batch_axis_only"): """
def batchnorm_backward(x, gamma, grad_output, epsilon=1e-3):
    # statistics over the batch axis alone: right for (N, C), wrong for (N, H, W, C)
    x = np.asarray(x, dtype=float); g = np.asarray(grad_output, dtype=float) * np.asarray(gamma)
    n = x.shape[0]
    mu = x.sum(axis=0) / n
    inv = 1.0 / np.sqrt(((x - mu) ** 2).sum(axis=0) / n + epsilon)
    xh = (x - mu) * inv
    dx = inv / n * (n * g - g.sum(axis=0) - xh * (g * xh).sum(axis=0))
    raw = np.asarray(grad_output, dtype=float)
    axes = tuple(range(x.ndim - 1))
    return dx, (raw * xh).sum(axis=axes), raw.sum(axis=axes)
""",
    # --- batch statistics at inference --------------------------------------------------------
    ("07_batchnorm", "batch_stats_unless_false"): """
class BatchNormalization(BatchNormalization):
    def call(self, inputs, training=None, mask=None):
        inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        if training is not False and self.trainable:
            mean, variance = batch_statistics(inputs) if mask is None else masked_statistics(
                inputs, mask)
            if training:
                m = self.momentum
                self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
                self.moving_variance.assign(self.moving_variance * m + variance * (1.0 - m))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        out = (inputs - mean) * ops.rsqrt(variance + self.epsilon)
        if self.scale:
            out = out * self.gamma
        if self.center:
            out = out + self.beta
        return ops.cast(out, self.compute_dtype)
""",
    ("07_batchnorm", "always_batch_moments"): """
class BatchNormalization(BatchNormalization):
    def call(self, inputs, training=None, mask=None):
        inputs = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        reduce = tuple(range(len(inputs.shape) - 1))
        mean, variance = ops.moments(inputs, axes=reduce)
        if training and self.trainable:
            if mask is not None:
                mean, variance = masked_statistics(inputs, mask)
            self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
            self.moving_variance.assign(
                self.momentum * self.moving_variance + (1 - self.momentum) * variance)
        out = self.gamma * (inputs - mean) / ops.sqrt(variance + self.epsilon) if self.scale else (
            (inputs - mean) / ops.sqrt(variance + self.epsilon))
        if self.center:
            out = out + self.beta
        return ops.cast(out, self.compute_dtype)
""",
}

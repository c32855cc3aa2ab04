"""Valid cross-correlations written independently of solutions/, in two styles students use,
for the tests of the lessons that ask for a Conv2D (each pads its inputs its own way first)."""

from keras import ops


def einsum_offsets(layer, x):
    """`layer`'s output on `x` (already padded): one einsum per kernel offset on a shifted
    slice, summed; then the bias and the activation."""
    kh, kw = layer.kernel_size
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = 0
    for m in range(kh):
        for n in range(kw):
            window = x[:, m : m + oh, n : n + ow, :]
            out = out + ops.einsum("bhwc,cf->bhwf", window, layer.kernel[m, n])
    return layer.activation(out + layer.bias if layer.use_bias else out)


def tensordot_positions(layer, x):
    """`layer`'s output on `x` (already padded): one tensordot per output position, stacked
    back into a grid; then the bias and the activation."""
    kh, kw = layer.kernel_size
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    rows = []
    for i in range(oh):
        row = [
            ops.tensordot(x[:, i : i + kh, j : j + kw, :], layer.kernel, axes=3) for j in range(ow)
        ]
        rows.append(ops.stack(row, axis=1))
    out = ops.stack(rows, axis=1)
    return layer.activation(out + layer.bias if layer.use_bias else out)

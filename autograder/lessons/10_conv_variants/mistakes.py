"""Known mistakes of lesson 10 (convolution variants), the NumPy oracles the checks trust and
the probes that tell the mistakes apart.

The oracles compute in float64 by other means than the reference: windows from NumPy's
sliding views for the depthwise convolution, a scatter (each input pixel adding its value
times the kernel into the output) for the transposed one. The probes use 3 input channels
and a depth multiplier of 2 (so that mixed channels and a wrong channel order show), and
strides of 2 with kernels of 3 (so that a flipped kernel and the sizes show).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...diagnosis import Mistake, Variant, same_as

MIXES_CHANNELS = Mistake(
    "depthwise_mixes_channels",
    "a depthwise kernel that mixes channels",
    "A depthwise convolution filters each input channel on its own: output channel "
    "c * depth_multiplier + j is input channel c alone, cross-correlated with "
    "kernel[:, :, c, j]. Yours sums over the input channels, as a standard convolution "
    "does; mixing the channels is the pointwise step's job.",
)
CHANNEL_ORDER = Mistake(
    "channel_order",
    "output channels not in Keras's depth_multiplier order",
    "Keras puts the depth_multiplier outputs of one input channel next to each other: "
    "output channel c * depth_multiplier + j comes from input channel c and kernel[:, :, c, j]. "
    "Yours orders them multiplier first (j * C + c); stack the results with the channel "
    "axis before the multiplier axis, then reshape.",
)
POINTWISE_MISSING = Mistake(
    "pointwise_missing",
    "the pointwise step missing",
    "A separable convolution is a depthwise convolution followed by a 1x1 (pointwise) "
    "convolution that mixes its C * depth_multiplier channels into `filters` outputs: "
    "multiply the depthwise output by pointwise_kernel reshaped to (C * depth_multiplier, "
    "filters), then add the bias. Yours adds the bias to the depthwise output directly.",
)
WRONG_SAME_SIZE = Mistake(
    "wrong_same_size",
    "a wrong 'same' output size for the transposed convolution",
    "Without output_padding, Keras's 'same' transposed convolution makes each size exactly "
    "s times larger: n * s, the size whose 'same' convolution with stride s gives n back. "
    "(n - 1) s + k - 2 (k // 2) is the rule WITH output_padding (plus it), not without.",
)
OUTPUT_PADDING_IGNORED = Mistake(
    "output_padding_ignored",
    "output_padding ignored",
    "With output_padding p the size is (n - 1) s + k - 2 pad + p, where pad is 0 for "
    "'valid' and k // 2 for 'same': several output sizes convolve back to n, and p picks "
    "one. Yours gives the size without output_padding whatever p is.",
)
SAME_PADDING_BEFORE = Mistake(
    "same_padding_before",
    "'same' padding with its odd zero before the input",
    "When 'same' padding needs an odd number of zeros, TensorFlow (hence Keras) puts the extra "
    "one after the input, at the bottom and right: padding_amounts(n, k, s, padding, d) gives "
    "(total // 2, total - total // 2), in that order. Yours pads as if it went before, which "
    "is also what padding for stride 1 and keeping every s-th output gives: pad for the "
    "stride at hand, with padding_amounts's pair as it is.",
)
UNFLIPPED_KERNEL = Mistake(
    "unflipped_kernel",
    "the transposed convolution computed with the unflipped kernel",
    "Input pixel i adds x[i] * kernel[m] to output i * s + m - pad. Written as a "
    "cross-correlation over the spread, padded input, that needs the kernel turned by 180 "
    "degrees (kernel[::-1, ::-1]); yours slides the kernel as it is, which is a convolution, "
    "not its transpose.",
)

CATALOGUE = (
    MIXES_CHANNELS,
    CHANNEL_ORDER,
    SAME_PADDING_BEFORE,
    POINTWISE_MISSING,
    WRONG_SAME_SIZE,
    OUTPUT_PADDING_IGNORED,
    UNFLIPPED_KERNEL,
)


# --- the forward geometry --------------------------------------------------------------------


def amounts(n, k, s=1, mode="valid", d=1):
    """TensorFlow's (before, after) padding of a convolution along one axis."""
    if mode == "valid":
        return (0, 0)
    span = d * (k - 1) + 1
    total = max((-(-n // s) - 1) * s + span - n, 0)
    return (total // 2, total - total // 2)


def windows(x, kernel_size, strides=(1, 1), padding="valid", dilation_rate=(1, 1), before=False):
    """(b, oh, ow, C, kh, kw) float64 windows of a padded, strided, dilated convolution;
    `before` swaps each axis's (before, after) padding, its odd zero first."""
    x = np.asarray(x, float)
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    pads = [
        amounts(n, k, s, padding, d)[:: -1 if before else 1]
        for n, k, s, d in zip(x.shape[1:3], (kh, kw), strides, dilation_rate, strict=True)
    ]
    x = np.pad(x, ((0, 0), *pads, (0, 0)))
    spans = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    views = sliding_window_view(x, spans, axis=(1, 2))  # b, i, j, c, span_h, span_w
    return views[:, ::sh, ::sw, :, ::dh, ::dw]


# --- depthwise and separable, right and wrong ------------------------------------------------


def depthwise(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1), mistake=None):
    """The depthwise convolution in float64, Keras's channel order; `mistake` "mixes" sums over
    the input channels, "order" puts the multiplier first, "before" pads 'same' with its odd
    zero before."""
    kernel = np.asarray(kernel, float)
    kh, kw, channels, multiplier = kernel.shape
    w = windows(x, (kh, kw), strides, padding, dilation_rate, mistake == "before")
    if mistake == "mixes":
        out = np.einsum("bhwcmn,mnkj->bhwkj", w, kernel)
    else:
        out = np.einsum("bhwcmn,mncj->bhwcj", w, kernel)
    if mistake == "order":
        out = np.swapaxes(out, 3, 4)
    return out.reshape(*out.shape[:3], -1)


def separable(
    x,
    depthwise_kernel,
    pointwise_kernel,
    bias,
    strides=(1, 1),
    padding="valid",
    dilation_rate=(1, 1),
    mistake=None,
):
    """The separable convolution in float64 (no activation); `mistake` as for `depthwise`,
    or "pointwise" (the pointwise step left out)."""
    middle = depthwise(
        x,
        depthwise_kernel,
        strides,
        padding,
        dilation_rate,
        None if mistake == "pointwise" else mistake,
    )
    if mistake != "pointwise":
        pointwise = np.asarray(pointwise_kernel, float)
        middle = middle @ pointwise.reshape(-1, pointwise.shape[-1])
    return middle + np.asarray(bias, float)


# --- the transposed convolution, right and wrong ---------------------------------------------


def transpose_size(n, k, s=1, padding="valid", output_padding=None):
    """Keras's output size of a transposed convolution along one axis (None stays None)."""
    if n is None:
        return None
    if output_padding is None:
        return n * s if padding == "same" else n * s + max(k - s, 0)
    return (n - 1) * s + k - 2 * (k // 2 if padding == "same" else 0) + output_padding


def transpose_size_padded(n, k, s=1, padding="valid", output_padding=None):
    """'same' as (n - 1) s + k - 2 (k // 2), output_padding None taken as 0."""
    if n is None or padding != "same":
        return transpose_size(n, k, s, padding, output_padding)
    return (n - 1) * s + k - 2 * (k // 2) + (output_padding or 0)


def transpose_size_no_output_padding(n, k, s=1, padding="valid", output_padding=None):
    return transpose_size(n, k, s, padding, None)


def start(n_in, n_out, k, s, padding):
    """Where output 0 sits in the full transposed output: the forward convolution's padding
    before, for the sizes at hand (0 for 'valid')."""
    return max((n_in - 1) * s + k - n_out, 0) // 2 if padding == "same" else 0


def transpose(x, kernel, output_size, strides=(1, 1), padding="valid", flip=True):
    """The transposed convolution in float64, by scatter: input pixel (i, j) adds
    x[i, j] @ kernel[m, n].T to output (i sh + m - top, j sw + n - left), kernel (kh, kw,
    filters, C). `flip=False` scatters the kernel turned by 180 degrees: what correlating the
    spread input with the unflipped kernel gives."""
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    if not flip:
        kernel = kernel[::-1, ::-1]
    b, h, w, _ = x.shape
    kh, kw, filters, _ = kernel.shape
    (sh, sw), (oh, ow) = strides, output_size
    top, left = start(h, oh, kh, sh, padding), start(w, ow, kw, sw, padding)
    full = np.zeros((b, (h - 1) * sh + kh + oh, (w - 1) * sw + kw + ow, filters))
    for m in range(kh):
        for n in range(kw):
            full[:, m : m + (h - 1) * sh + 1 : sh, n : n + (w - 1) * sw + 1 : sw] += (
                x @ kernel[m, n].T
            )
    return full[:, top : top + oh, left : left + ow]


def forward(z, kernel, input_size, strides=(1, 1), padding="valid"):
    """The convolution whose adjoint `transpose` is: z (b, out_h, out_w, filters) ->
    (b, H, W, C) with H, W = `input_size`, output (i, j) = sum over (m, n) of
    z[i sh + m - top, j sw + n - left] @ kernel[m, n] (zero outside z)."""
    z, kernel = np.asarray(z, float), np.asarray(kernel, float)
    b, oh, ow, _ = z.shape
    kh, kw, _, channels = kernel.shape
    (sh, sw), (h, w) = strides, input_size
    top, left = start(h, oh, kh, sh, padding), start(w, ow, kw, sw, padding)
    rows, cols = (h - 1) * sh + kh, (w - 1) * sw + kw
    padded = np.zeros((b, rows, cols, z.shape[-1]))
    inner = z[:, : max(rows - top, 0), : max(cols - left, 0)]
    padded[:, top : top + inner.shape[1], left : left + inner.shape[2]] = inner
    out = np.zeros((b, h, w, channels))
    for m in range(kh):
        for n in range(kw):
            out += (
                padded[:, m : m + (h - 1) * sh + 1 : sh, n : n + (w - 1) * sw + 1 : sw]
                @ kernel[m, n]
            )
    return out


# --- probes and variants ---------------------------------------------------------------------


def _normal(rng, shape):
    return rng.normal(size=shape).astype("float32")


def depthwise_probes():
    """Three probes with 3 channels and depth_multiplier 2: one 'valid', two strided 'same',
    the odd zero of 'same' along the width in one and along the height in the other (so that
    padding with its odd zero before, which the two show, is not confused with padding the
    width as the height)."""
    rng = np.random.default_rng(101)
    return [
        {
            "x": _normal(rng, (2, 6, 5, 3)),
            "kernel": _normal(rng, (3, 2, 3, 2)),
            "strides": (1, 1),
            "padding": "valid",
            "dilation_rate": (1, 1),
        },
        {
            "x": _normal(rng, (1, 7, 6, 3)),
            "kernel": _normal(rng, (3, 3, 3, 2)),
            "strides": (2, 2),
            "padding": "same",
            "dilation_rate": (1, 1),
        },
        {
            "x": _normal(rng, (1, 6, 7, 3)),
            "kernel": _normal(rng, (3, 3, 3, 2)),
            "strides": (2, 2),
            "padding": "same",
            "dilation_rate": (1, 1),
        },
    ]


def _depthwise(mistake):
    return same_as(
        lambda p: depthwise(
            p["x"], p["kernel"], p["strides"], p["padding"], p["dilation_rate"], mistake
        )
    )


DEPTHWISE_VARIANTS = (
    Variant(MIXES_CHANNELS, _depthwise("mixes")),
    Variant(CHANNEL_ORDER, _depthwise("order")),
    Variant(SAME_PADDING_BEFORE, _depthwise("before")),
)


def depthwise_layer_probes():
    """The depthwise probes with a bias of C * depth_multiplier values."""
    rng = np.random.default_rng(102)
    return [{**p, "bias": _normal(rng, (6,))} for p in depthwise_probes()]


def _depthwise_layer(mistake):
    return same_as(
        lambda p: (
            depthwise(p["x"], p["kernel"], p["strides"], p["padding"], p["dilation_rate"], mistake)
            + p["bias"]
        )
    )


DEPTHWISE_LAYER_VARIANTS = (
    Variant(MIXES_CHANNELS, _depthwise_layer("mixes")),
    Variant(CHANNEL_ORDER, _depthwise_layer("order")),
    Variant(SAME_PADDING_BEFORE, _depthwise_layer("before")),
)


def separable_probes():
    """SeparableConv2D(6, ..., depth_multiplier=2) on 3 channels: 6 filters, so that an output
    without the pointwise step still has the right shape."""
    rng = np.random.default_rng(103)
    return [
        {
            **p,
            "pointwise_kernel": _normal(rng, (1, 1, 6, 6)),
            "bias": _normal(rng, (6,)),
            "filters": 6,
        }
        for p in depthwise_probes()
    ]


def _separable(mistake):
    return same_as(
        lambda p: separable(
            p["x"],
            p["kernel"],
            p["pointwise_kernel"],
            p["bias"],
            p["strides"],
            p["padding"],
            p["dilation_rate"],
            mistake,
        )
    )


SEPARABLE_VARIANTS = (
    Variant(POINTWISE_MISSING, _separable("pointwise")),
    Variant(MIXES_CHANNELS, _separable("mixes")),
    Variant(CHANNEL_ORDER, _separable("order")),
    Variant(SAME_PADDING_BEFORE, _separable("before")),
)

SIZE_CALLS = [
    (n, k, s, padding, p)
    for n in (4, 5)
    for k, s in ((3, 2), (2, 2), (4, 3), (3, 1), (1, 3))
    for padding in ("valid", "same")
    for p in (None, *range(s))
]


def transpose_size_probes():
    """One probe: 124 (n, k, s, padding, output_padding) calls, as a vector."""
    return [{"calls": SIZE_CALLS}]


def _sizes(rule):
    return same_as(lambda p: np.array([rule(*call) for call in p["calls"]], float))


TRANSPOSE_SIZE_VARIANTS = (
    Variant(WRONG_SAME_SIZE, _sizes(transpose_size_padded)),
    Variant(OUTPUT_PADDING_IGNORED, _sizes(transpose_size_no_output_padding)),
)


def transpose_probes():
    """A strided 'valid' and a strided 'same' probe, 3 input channels, 2 filters."""
    rng = np.random.default_rng(104)
    probes = []
    for shape, size, strides, padding in (
        ((2, 3, 4, 3), (3, 2), (2, 2), "valid"),
        ((1, 4, 3, 3), (3, 3), (2, 1), "same"),
    ):
        sizes = [
            transpose_size(n, k, s, padding)
            for n, k, s in zip(shape[1:3], size, strides, strict=True)
        ]
        probes.append(
            {
                "x": _normal(rng, shape),
                "kernel": _normal(rng, (*size, 2, shape[-1])),
                "output_size": tuple(sizes),
                "strides": strides,
                "padding": padding,
                "bias": _normal(rng, (2,)),
            }
        )
    return probes


def _transpose(flip, bias=False):
    return same_as(
        lambda p: (
            transpose(p["x"], p["kernel"], p["output_size"], p["strides"], p["padding"], flip)
            + (p["bias"] if bias else 0)
        )
    )


TRANSPOSE_VARIANTS = (Variant(UNFLIPPED_KERNEL, _transpose(False)),)
TRANSPOSE_LAYER_VARIANTS = (Variant(UNFLIPPED_KERNEL, _transpose(False, bias=True)),)

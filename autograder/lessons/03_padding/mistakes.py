"""Known mistakes of lesson 03 (padding) and the probes that tell them apart.

Most padding mistakes only show with even kernels: k - 1 zeros split over two sides are
symmetric when k is odd, whichever rule is used. So the probes use a kernel even in one
axis and odd in the other, padding given in every accepted form, and inputs without zeros
near the border (so that ones or repeated edges differ from zeros).
"""

import numpy as np

from ...diagnosis import Mistake, Variant, same_as
from ...keras_layers import pair
from ...oracles import correlate

SYMMETRIC_SAME = Mistake(
    "symmetric_same",
    "symmetric 'same' padding",
    "With an even kernel, k - 1 zeros cannot be split evenly. TensorFlow and Keras put "
    "(k - 1) // 2 before (top, left) and the remaining k - 1 - (k - 1) // 2 after (bottom, "
    "right); yours adds the same number on both sides, so the output is one row or column "
    "too large or too small, or shifted.",
)
TOP_LEFT_HEAVY = Mistake(
    "top_left_heavy",
    "extra 'same' padding at the top/left",
    "With an even kernel, the odd zero of 'same' padding goes after the image, as in "
    "TensorFlow: pad_top = (k - 1) // 2 and pad_bottom = k - 1 - pad_top (the same for "
    "left and right). Yours puts it before (top, left), which shifts the output by one pixel.",
)
FULL_SAME_CONFUSED = Mistake(
    "full_same_confused",
    "'full' confused with 'same'",
    "'same' adds k - 1 zeros in all, split over the two sides, so the output keeps the "
    "input's size; 'full' adds k - 1 zeros on each side, so the output grows by k - 1 and "
    "every window that touches the image is computed.",
)
PADDING_IGNORED = Mistake(
    "padding_ignored",
    "padding not applied",
    "call() computes a valid convolution whatever self.padding says. Pad the inputs with "
    "your ZeroPadding2D first, by the amounts padding_amounts gives for each axis.",
)
PAD_NOT_ZERO = Mistake(
    "pad_not_zero",
    "padding with values other than zero",
    "Zero padding adds zeros: the input must appear unchanged in the middle and every added "
    "row and column must be 0. Yours fills the border with something else (ones, or copies "
    "of the edge pixels).",
)
BATCH_OR_CHANNELS_PADDED = Mistake(
    "batch_or_channels_padded",
    "batch or channel axis padded",
    "Images are (batch, height, width, channels): add zeros along axes 1 and 2 only. The "
    "number of images and the number of channels must not change.",
)
PADDING_ARGUMENT_MISREAD = Mistake(
    "padding_argument_misread",
    "padding argument misread",
    "An int p adds p zeros on every side; a pair (ph, pw) adds ph rows above AND below and "
    "pw columns left AND right; a pair of pairs means ((top, bottom), (left, right)). Store "
    "it as ((top, bottom), (left, right)), as Keras does.",
)

CATALOGUE = tuple(m for m in tuple(globals().values()) if isinstance(m, Mistake))

MODES = ("valid", "same", "full")


# --- padding amounts: the right rule and the wrong ones ------------------------------------------


def amounts(k, mode):
    """(before, after) zeros of a stride-1 convolution with a kernel of size k, as TensorFlow."""
    total = {"valid": 0, "same": k - 1, "full": 2 * (k - 1)}[mode]
    return (total // 2, total - total // 2)


def _rule(same=None, full=None):
    """`amounts` with the rule for 'same' and/or 'full' replaced."""
    replaced = {"same": same, "full": full}

    def rule(k, mode):
        return replaced[mode](k) if replaced.get(mode) else amounts(k, mode)

    return rule


RULES = {
    "symmetric_large": (SYMMETRIC_SAME, _rule(same=lambda k: (k // 2, k // 2))),
    "symmetric_small": (SYMMETRIC_SAME, _rule(same=lambda k: ((k - 1) // 2, (k - 1) // 2))),
    "top_left_heavy": (TOP_LEFT_HEAVY, _rule(same=lambda k: (k // 2, k - 1 - k // 2))),
    "full_as_same": (FULL_SAME_CONFUSED, _rule(full=lambda k: amounts(k, "same"))),
    "same_as_full": (FULL_SAME_CONFUSED, _rule(same=lambda k: amounts(k, "full"))),
    "both_swapped": (
        FULL_SAME_CONFUSED,
        _rule(same=lambda k: amounts(k, "full"), full=lambda k: amounts(k, "same")),
    ),
    "ignored": (PADDING_IGNORED, lambda k, mode: (0, 0)),
}


# --- padding_amounts ---------------------------------------------------------------------------


def padding_amounts_probes():
    """One probe: every mode with kernel sizes 1 to 6, answered as a (18, 2) table."""
    return [{"calls": [(k, mode) for mode in MODES for k in range(1, 7)]}]


PADDING_AMOUNTS_VARIANTS = tuple(
    Variant(mistake, same_as(lambda p, rule=rule: np.array([rule(*c) for c in p["calls"]], float)))
    for key, (mistake, rule) in RULES.items()
    if key != "ignored"
)


# --- ZeroPadding2D -----------------------------------------------------------------------------


def keras_pairs(padding):
    """Keras's reading of `padding`: ((top, bottom), (left, right))."""
    return tuple(pair(side) for side in pair(padding))


def misreadings(padding):
    """Wrong readings of `padding` as ((top, bottom), (left, right)): a pair (a, b) read as
    (before, after) for both axes; ((top, bottom), (left, right)) read as ((top, left),
    (bottom, right)); the first pair used for the width; each pair read as (after, before)."""
    pairs = keras_pairs(padding)
    as_sides = isinstance(padding, tuple) and all(isinstance(p, int) for p in padding)
    return (
        (tuple(padding), tuple(padding)) if as_sides else pairs,
        tuple(zip(*pairs, strict=True)),
        pairs[::-1],
        tuple(pair[::-1] for pair in pairs),
    )


def zero_padding2d_probes():
    """Inputs (2, 3, 4, 2) with values 2 to 9, padded by an int, a pair and a pair of pairs."""
    x = np.random.default_rng(3).integers(2, 10, size=(2, 3, 4, 2)).astype("float32")
    return [{"x": x, "padding": padding} for padding in (2, (1, 3), ((1, 2), (3, 0)))]


def _padded(reading):
    return same_as(lambda p: np.pad(p["x"], ((0, 0), *misreadings(p["padding"])[reading], (0, 0))))


def _border_not_zero(output, probe):
    """Right shape and the input in the middle, but a border that is not all zeros."""
    (top, bottom), (left, right) = keras_pairs(probe["padding"])
    x = probe["x"]
    b, h, w, c = x.shape
    if output.shape != (b, top + h + bottom, left + w + right, c):
        return False
    border = output.copy()
    border[:, top : top + h, left : left + w, :] = 0
    return bool(
        np.allclose(output[:, top : top + h, left : left + w, :], x) and np.abs(border).max() > 0
    )


def _batch_or_channels_changed(output, probe):
    x = probe["x"]
    return output.ndim == 4 and (output.shape[0] != x.shape[0] or output.shape[3] != x.shape[3])


ZERO_PADDING2D_VARIANTS = (
    *(Variant(PADDING_ARGUMENT_MISREAD, _padded(reading)) for reading in range(4)),
    Variant(PAD_NOT_ZERO, _border_not_zero),
    Variant(BATCH_OR_CHANNELS_PADDED, _batch_or_channels_changed),
)


# --- Conv2D ------------------------------------------------------------------------------------


def conv2d_probes():
    """A 'same' probe with a (4, 2) kernel and a 'full' probe with a (3, 2) kernel: both even
    along the width, the first along the height too, so each placing of the extra zero shows."""
    rng = np.random.default_rng(12)
    return [
        {
            "padding": mode,
            "kernel_size": size,
            "x": rng.normal(size=input_shape).astype("float32"),
            "kernel": rng.normal(size=(*size, input_shape[-1], 2)).astype("float32"),
            "bias": np.array([0.75, -0.5], dtype="float32"),
        }
        for mode, size, input_shape in (
            ("same", (4, 2), (2, 5, 6, 3)),
            ("full", (3, 2), (1, 4, 5, 2)),
        )
    ]


def padded_conv(p, rule=amounts, mode="constant", **options):
    """The probe's convolution in float64, padded as `rule(k, padding)` says, by np.pad `mode`."""
    (kh, kw), padding = p["kernel_size"], p["padding"]
    pads = ((0, 0), rule(kh, padding), rule(kw, padding), (0, 0))
    x = np.pad(np.asarray(p["x"], float), pads, mode=mode, **options)
    return correlate(x, p["kernel"]) + p["bias"]


CONV2D_VARIANTS = (
    *(
        Variant(mistake, same_as(lambda p, rule=rule: padded_conv(p, rule)))
        for mistake, rule in RULES.values()
    ),
    Variant(PAD_NOT_ZERO, same_as(lambda p: padded_conv(p, constant_values=1.0))),
    *(
        Variant(PAD_NOT_ZERO, same_as(lambda p, mode=mode: padded_conv(p, mode=mode)))
        for mode in ("edge", "reflect", "symmetric")
    ),
    Variant(
        BATCH_OR_CHANNELS_PADDED, lambda out, p: out.ndim == 4 and out.shape[0] != p["x"].shape[0]
    ),
)

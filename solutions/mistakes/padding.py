"""Wrong versions of lesson 03's code, each making one catalogued mistake.

Written the way students write them (branches, loops, concatenations), not as edits of the
reference.
"""

from keras import ops

from solutions.mistakes import WrongVersion
from solutions.padding import im2col


def init_pair_as_sides(self, padding=(1, 1), data_format=None, **kwargs):
    """A pair (a, b) is read as (before, after) for both axes instead of (rows, columns)."""
    super().__init__(**kwargs)
    self.data_format = data_format or "channels_last"
    if isinstance(padding, int):
        self.padding = ((padding, padding), (padding, padding))
    elif isinstance(padding[0], int) and isinstance(padding[1], int):
        self.padding = (tuple(padding), tuple(padding))
    else:
        self.padding = (tuple(padding[0]), tuple(padding[1]))


def call_pad_with_ones(self, inputs):
    """Pads with ones (ops.ones_like) instead of zeros (tested apart: same cells as edges)."""
    (top, bottom), (left, right) = self.padding
    row = ops.ones_like(inputs[:, :1, :, :])
    tall = ops.concatenate([row] * top + [inputs] + [row] * bottom, axis=1)
    column = ops.ones_like(tall[:, :, :1, :])
    return ops.concatenate([column] * left + [tall] + [column] * right, axis=2)


def call_repeat_edges(self, inputs):
    """Repeats the edge rows and columns outward (edge replication) instead of adding zeros."""
    (top, bottom), (left, right) = self.padding
    first_row, last_row = inputs[:, :1, :, :], inputs[:, -1:, :, :]
    tall = ops.concatenate([first_row] * top + [inputs] + [last_row] * bottom, axis=1)
    first_column, last_column = tall[:, :, :1, :], tall[:, :, -1:, :]
    return ops.concatenate([first_column] * left + [tall] + [last_column] * right, axis=2)


def call_pads_batch_axis(self, inputs):
    """Treats the inputs as (H, W, C): pads axes 0 and 1 instead of 1 and 2."""
    (top, bottom), (left, right) = self.padding
    image = ops.zeros_like(inputs[:1])
    tall = ops.concatenate([image] * top + [inputs] + [image] * bottom, axis=0)
    row = ops.zeros_like(tall[:, :1])
    return ops.concatenate([row] * left + [tall] + [row] * right, axis=1)


def padding_amounts_symmetric(kernel_size, padding="valid"):
    """'same' pads k // 2 on both sides, which is one zero too many for even kernels."""
    if padding == "same":
        return (kernel_size // 2, kernel_size // 2)
    if padding == "full":
        return (kernel_size - 1, kernel_size - 1)
    return (0, 0)


def padding_amounts_top_left_heavy(kernel_size, padding="valid"):
    """'same' puts the odd zero before the image (top/left) instead of after."""
    total = {"valid": 0, "same": kernel_size - 1, "full": 2 * (kernel_size - 1)}[padding]
    after = total // 2
    return (total - after, after)


def padding_amounts_full_as_same(kernel_size, padding="valid"):
    """'full' is padded like 'same': k - 1 zeros in all instead of k - 1 on each side."""
    if padding == "valid":
        return (0, 0)
    before = (kernel_size - 1) // 2
    return (before, kernel_size - 1 - before)


def call_padding_ignored(self, inputs):
    """Never pads: every padding mode gives the valid convolution."""
    patches = im2col(inputs, self.kernel_size)
    outputs = ops.matmul(patches, ops.reshape(self.kernel, (-1, self.filters)))
    if self.use_bias:
        outputs = outputs + self.bias
    return self.activation(outputs)


M = "solutions.mistakes.padding"
CONV_VALUES = ("test_conv2d_matches_keras", "test_conv2d_full", "test_conv2d_trains")

WRONG_VERSIONS = (
    WrongVersion(
        "padding_argument_misread",
        {"ZeroPadding2D.__init__": f"{M}:init_pair_as_sides"},
        ("test_zero_padding_contract", "test_zero_padding"),
    ),
    WrongVersion(
        "pad_not_zero",
        {"ZeroPadding2D.call": f"{M}:call_repeat_edges"},
        ("test_zero_padding", *CONV_VALUES),
    ),
    WrongVersion(
        "batch_or_channels_padded",
        {"ZeroPadding2D.call": f"{M}:call_pads_batch_axis"},
        ("test_zero_padding", *CONV_VALUES),
    ),
    WrongVersion(
        "symmetric_same",
        {"padding_amounts": f"{M}:padding_amounts_symmetric"},
        (
            "test_padding_amounts",
            "test_conv2d_contract",
            "test_conv2d_matches_keras",
            "test_conv2d_trains",
        ),
    ),
    WrongVersion(
        "top_left_heavy",
        {"padding_amounts": f"{M}:padding_amounts_top_left_heavy"},
        ("test_padding_amounts", "test_conv2d_matches_keras", "test_conv2d_trains"),
    ),
    WrongVersion(
        "full_same_confused",
        {"padding_amounts": f"{M}:padding_amounts_full_as_same"},
        ("test_padding_amounts", "test_conv2d_contract", "test_conv2d_full"),
    ),
    WrongVersion("padding_ignored", {"Conv2D.call": f"{M}:call_padding_ignored"}, CONV_VALUES),
)

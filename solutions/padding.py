"""Lesson 03, padding: ZeroPadding2D, how much padding each mode needs, a Conv2D with padding.

The `### BEGIN SOLUTION` / `### END SOLUTION` comments mark what the released notebook
hides from students; `cnn-course sync` copies these objects into the lesson notebook.
Lesson 02's `im2col`, `as_pair` and `require` are given code in this lesson.
"""

import keras
from keras import ops

from solutions.convolution import as_pair, im2col, require


class ZeroPadding2D(keras.layers.Layer):
    """Adds rows and columns of zeros around images, a drop-in for `keras.layers.ZeroPadding2D`.

    Args:
        padding: how many zeros to add, in one of three forms:
            - an int `p`: `p` rows above and below, `p` columns left and right;
            - a pair `(ph, pw)`: `ph` rows above and below, `pw` columns left and right;
            - a pair of pairs `((top, bottom), (left, right))`: each side on its own;
            and, as in Keras, a pair that mixes them: `(1, (0, 2))` is `((1, 1), (0, 2))`.
            Default `(1, 1)`.
        data_format: `"channels_last"`, or `None` for Keras's default (channels last
            unless `keras.config.image_data_format()` says otherwise).

    Call arguments:
        inputs: tensor of shape (batch, H, W, C).

    Output: tensor of shape (batch, top + H + bottom, left + W + right, C), with the
    input in the middle and zeros around it.

    Not supported (refused with a ValueError): `data_format="channels_first"`.
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        data_format = data_format or keras.config.image_data_format()
        self.data_format = require("data_format", data_format, "channels_last", "ZeroPadding2D")
        # Store the padding as ((top, bottom), (left, right)), whatever form it was given in.
        ### BEGIN SOLUTION
        pairs = (padding, padding) if isinstance(padding, int) else padding
        self.padding = tuple((p, p) if isinstance(p, int) else tuple(p) for p in pairs)
        ### END SOLUTION
        sides = [side for pair in self.padding for side in pair]
        # NumPy's integers count as ints, as in Keras (they have __index__; floats do not)
        valid = all(hasattr(side, "__index__") and side >= 0 for side in sides)
        if len(self.padding) != 2 or len(sides) != 4 or not valid:
            raise ValueError(
                "`padding` must be an int, or a pair whose entries are each an int or a pair "
                "(p, (ph, pw), ((top, bottom), (left, right)) or a mix like (ph, (left, right))) "
                "of non-negative ints, stored as ((top, bottom), (left, right)); self.padding is "
                f"{self.padding!r}. Received: padding={padding}"
            )
        self.padding = tuple(tuple(side.__index__() for side in pair) for pair in self.padding)
        self.input_spec = keras.InputSpec(ndim=4)

    def call(self, inputs):
        """Put `top` rows of zeros above the images, `bottom` below, and so on."""
        ### BEGIN SOLUTION
        (top, bottom), (left, right) = self.padding
        row = ops.zeros_like(inputs[:, :1, :, :])
        tall = ops.concatenate(
            [ops.repeat(row, top, axis=1), inputs, ops.repeat(row, bottom, axis=1)], axis=1
        )
        column = ops.zeros_like(tall[:, :, :1, :])
        return ops.concatenate(
            [ops.repeat(column, left, axis=2), tall, ops.repeat(column, right, axis=2)], axis=2
        )
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        """(batch, H, W, C) -> (batch, top + H + bottom, left + W + right, C); None stays None."""
        ### BEGIN SOLUTION
        batch, height, width, channels = input_shape
        (top, bottom), (left, right) = self.padding
        height = None if height is None else top + height + bottom
        width = None if width is None else left + width + right
        return (batch, height, width, channels)
        ### END SOLUTION

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


def padding_amounts(kernel_size, padding="valid"):
    """Zeros a stride-1 convolution adds before and after the image along one axis.

    Args:
        kernel_size: int, the kernel's size k along this axis.
        padding: `"valid"`, `"same"` or `"full"`.

    Returns:
        Pair of ints (before, after), i.e. (top, bottom) for the height, (left, right) for
        the width:
        - `"valid"`: (0, 0), no padding;
        - `"same"`: k - 1 zeros in all, so that the output is as large as the input; when
          k - 1 is odd the extra zero goes after (bottom, right), as in TensorFlow;
        - `"full"`: (k - 1, k - 1), every window that overlaps the image by one pixel.
    """
    ### BEGIN SOLUTION
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        before = (kernel_size - 1) // 2
        return (before, kernel_size - 1 - before)
    if padding == "full":
        return (kernel_size - 1, kernel_size - 1)
    raise ValueError(f"`padding` must be 'valid', 'same' or 'full'. Received: padding={padding!r}")
    ### END SOLUTION


class BaseConv(keras.layers.Layer):
    """Arguments, weights and config of the course's `Conv2D` (the part lesson 02 built).

    Like Keras's own `BaseConv`, it leaves `call` and `compute_output_shape` to the
    subclass. `fixed` lists the arguments a subclass does not implement yet, each with the
    only value it accepts; any other value raises a `ValueError`.
    """

    fixed = (("strides", (1, 1)), ("dilation_rate", (1, 1)))

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={filters}."
            )
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(
                f"The number of groups must be a positive integer. Received: groups={groups}."
            )
        if filters % groups:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={groups}, filters={filters}."
            )
        self.filters = filters
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = as_pair(strides, "strides")
        self.padding = str(padding).lower()
        if self.padding not in ("valid", "same", "full"):
            raise ValueError(
                f"`padding` must be 'valid', 'same' or 'full'. Received: padding={padding!r}"
            )
        data_format = data_format or keras.config.image_data_format()
        self.data_format = require("data_format", data_format, "channels_last", "Conv2D")
        self.dilation_rate = as_pair(dilation_rate, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        for name, value in self.fixed:
            require(name, getattr(self, name), value)
        self.groups = require("groups", groups, 1, "Conv2D")
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.InputSpec(ndim=4)

    def build(self, input_shape):
        """Create `kernel` (kh, kw, C, filters) and, if `use_bias`, `bias` (filters,); from now
        on inputs must have C channels. Like Keras, refuse a "valid" convolution of an image
        smaller than the kernel's span d(k - 1) + 1."""
        for n, k, d in zip(input_shape[1:3], self.kernel_size, self.dilation_rate, strict=True):
            if self.padding == "valid" and n is not None and n < d * (k - 1) + 1:
                raise ValueError(
                    "Computed output size would be zero or negative. Received "
                    f"`inputs shape={tuple(input_shape)}`, `kernel_size={self.kernel_size}`, "
                    f"`dilation_rate={self.dilation_rate}`, `padding=valid`."
                )
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: input_shape[-1]})
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, input_shape[-1], self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        }


class Conv2D(BaseConv):
    """2D convolution (cross-correlation) layer with padding, a drop-in for `keras.layers.Conv2D`.

    This lesson's version supports `padding` in `"valid"`, `"same"` (placed as TensorFlow
    does) and `"full"` (not a Keras option), with `strides=1`, `dilation_rate=1`, `groups=1`
    and `data_format="channels_last"`; anything else raises a `ValueError`.

    Args:
        filters: number of output channels.
        kernel_size: int or pair (kh, kw).
        strides: must be 1 (or (1, 1)) in this lesson.
        padding: `"valid"` (no padding, the default), `"same"` (the output is as large as
            the input) or `"full"` (k - 1 zeros on every side); case-insensitive.
        data_format: `None` or `"channels_last"`.
        dilation_rate: must be 1 (or (1, 1)) in this lesson.
        groups: must be 1.
        activation: activation applied after the bias (name or callable), default none.
        use_bias: whether to add a learned bias per filter. Default `True`.
        kernel_initializer, bias_initializer: initializers of the two weights.
        kernel_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Call arguments:
        inputs: tensor of shape (batch, H, W, C).

    Output: tensor of shape (batch, H + pad_h - kh + 1, W + pad_w - kw + 1, filters), where
    pad_h and pad_w are the zeros added along each axis in all (0, k - 1 or 2(k - 1)).
    """

    def call(self, inputs):
        """Zero-pad `inputs`, cross-correlate with every filter, add the bias, activate."""
        ### BEGIN SOLUTION
        kh, kw = self.kernel_size
        padding = (padding_amounts(kh, self.padding), padding_amounts(kw, self.padding))
        padded = ZeroPadding2D(padding, dtype=self.dtype_policy)(inputs)
        patches = im2col(padded, self.kernel_size)
        outputs = ops.matmul(patches, ops.reshape(self.kernel, (-1, self.filters)))
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        """(batch, H, W, C) -> (batch, H + pad_h - kh + 1, W + pad_w - kw + 1, filters)."""
        ### BEGIN SOLUTION
        batch, height, width, _ = input_shape
        sizes = []
        for n, k in zip((height, width), self.kernel_size, strict=True):
            before, after = padding_amounts(k, self.padding)
            sizes.append(None if n is None else n + before + after - k + 1)
        return (batch, *sizes, self.filters)
        ### END SOLUTION


# What this lesson gives the library (`solutions.layers`): exported name -> (layer, the
# Keras test module under keras/src/layers that tests its namesake). A later lesson's
# entry of the same name replaces it.
LIBRARY = {"ZeroPadding2D": (ZeroPadding2D, "zero_padding2d_test.py")}

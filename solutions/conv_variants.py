"""Lesson 10, convolution variants: costs, depthwise and separable convolutions, and the
transposed convolution.

The `### BEGIN SOLUTION` / `### END SOLUTION` comments mark what the released notebook
hides from students; `cnn-course sync` copies these objects into the lesson notebook.
Lesson 04's `im2col`, `padding_amounts` and `conv_output_size`, and lesson 02's `as_pair`
and `require`, are given code in this lesson.
"""

import keras
from keras import ops

from solutions.convolution import as_pair, require
from solutions.stride import conv_output_size, im2col, padding_amounts

# --- what a convolution costs ------------------------------------------------------------


def conv_parameters(kernel_size, in_channels, filters, use_bias=True):
    """Weights of a standard convolution: one (kh, kw, in_channels) kernel per filter, plus
    one bias per filter.

    >>> conv_parameters((3, 3), 32, 64)
    18496
    """
    ### BEGIN SOLUTION
    kh, kw = kernel_size
    return kh * kw * in_channels * filters + (filters if use_bias else 0)
    ### END SOLUTION


def separable_parameters(kernel_size, in_channels, filters, depth_multiplier=1, use_bias=True):
    """Weights of a depthwise-separable convolution: the depthwise kernel (kh, kw,
    in_channels, depth_multiplier), the pointwise kernel (1, 1, in_channels *
    depth_multiplier, filters) and one bias per filter."""
    ### BEGIN SOLUTION
    kh, kw = kernel_size
    middle = in_channels * depth_multiplier
    return kh * kw * middle + middle * filters + (filters if use_bias else 0)
    ### END SOLUTION


def conv_multiplications(output_size, kernel_size, in_channels, filters):
    """Multiplications of a standard convolution with `output_size` (oh, ow) positions: each
    output value is a sum of kh * kw * in_channels products."""
    ### BEGIN SOLUTION
    (oh, ow), (kh, kw) = output_size, kernel_size
    return oh * ow * kh * kw * in_channels * filters
    ### END SOLUTION


def separable_multiplications(output_size, kernel_size, in_channels, filters, depth_multiplier=1):
    """Multiplications of a depthwise-separable convolution: the depthwise step filters each
    channel on its own (kh * kw products per output value), the pointwise step mixes the
    in_channels * depth_multiplier channels at every position (one product per pair)."""
    ### BEGIN SOLUTION
    (oh, ow), (kh, kw) = output_size, kernel_size
    middle = in_channels * depth_multiplier
    return oh * ow * kh * kw * middle + oh * ow * middle * filters
    ### END SOLUTION


def cost_ratio(kernel_size, in_channels, filters, depth_multiplier=1):
    """Multiplications of the depthwise-separable convolution over the standard one's, for
    any output size: 1 / filters + 1 / (kh * kw) when depth_multiplier is 1."""
    ### BEGIN SOLUTION
    ones = (1, 1)
    separable = separable_multiplications(ones, kernel_size, in_channels, filters, depth_multiplier)
    return separable / conv_multiplications(ones, kernel_size, in_channels, filters)
    ### END SOLUTION


def spatial_multiplications(output_size, kernel_size, separable=False):
    """Multiplications of one channel filtered by a (k, k) kernel with `output_size` (w, w)
    positions ('same' padding): k * k per output, or, for a kernel that is the outer product
    of a column and a row, k for the column pass plus k for the row pass."""
    ### BEGIN SOLUTION
    (oh, ow), (kh, kw) = output_size, kernel_size
    return oh * ow * (kh + kw) if separable else oh * ow * kh * kw
    ### END SOLUTION


# --- depthwise and separable convolutions ------------------------------------------------


def one_of(name, value, allowed):
    """`value` in lower case if it is one of `allowed`, else Keras's kind of ValueError."""
    value = str(value).lower()
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {allowed}. Received: {name}={value!r}")
    return value


def depthwise_conv(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1)):
    """Filter each input channel with its own kernels.

    Args:
        x: tensor (batch, H, W, C).
        kernel: tensor (kh, kw, C, depth_multiplier).
        strides, padding, dilation_rate: as for lesson 04's Conv2D ("valid" or "same").

    Returns:
        Tensor (batch, out_h, out_w, C * depth_multiplier) whose channel c * depth_multiplier
        + j is channel c of `x` cross-correlated with kernel[:, :, c, j] (Keras's order).
    """
    ### BEGIN SOLUTION
    kh, kw, channels, multiplier = kernel.shape
    geometry = zip(x.shape[1:3], (kh, kw), strides, dilation_rate, strict=True)
    pads = [padding_amounts(n, k, s, padding, d) for n, k, s, d in geometry]
    padded = ops.pad(x, ((0, 0), *pads, (0, 0)))
    patches = im2col(padded, (kh, kw), strides, dilation_rate)  # (b, oh, ow, kh * kw * C)
    batch, oh, ow = ops.shape(patches)[0], patches.shape[1], patches.shape[2]
    patches = ops.reshape(patches, (batch, oh, ow, kh * kw, channels, 1))
    taps = ops.reshape(kernel, (kh * kw, channels, multiplier))
    outputs = ops.sum(patches * taps, axis=3)  # over the taps only: (b, oh, ow, C, M)
    return ops.reshape(outputs, (batch, oh, ow, channels * multiplier))
    ### END SOLUTION


class DepthwiseConv2D(keras.layers.Layer):
    """Depthwise 2D convolution, a drop-in for `keras.layers.DepthwiseConv2D`: each input
    channel is filtered by `depth_multiplier` kernels of its own, no channel is mixed.

    Supported: `kernel_size`, `strides`, `padding` ("valid", "same"), `depth_multiplier`,
    `dilation_rate` (not with strides above 1, as in Keras), `activation`, `use_bias`, the
    initializers, regularizers and constraints. Not supported: channels_first.

    Weights: `kernel` (kh, kw, C, depth_multiplier) and, with `use_bias`, `bias`
    (C * depth_multiplier,). Output channel c * depth_multiplier + j comes from input
    channel c and kernel[..., c, j].
    """

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = as_pair(strides, "strides")
        self.padding = one_of("padding", padding, ("valid", "same"))
        self.depth_multiplier = depth_multiplier
        data_format = data_format or keras.config.image_data_format()
        self.data_format = require("data_format", data_format, "channels_last")
        self.dilation_rate = as_pair(dilation_rate, "dilation_rate")
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = keras.initializers.get(depthwise_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.depthwise_regularizer = keras.regularizers.get(depthwise_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.depthwise_constraint = keras.constraints.get(depthwise_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.InputSpec(ndim=4)

    def refuse_empty_output(self, input_shape):
        """Like Keras, refuse a "valid" convolution of an image smaller than the kernel's span."""
        for n, k, d in zip(input_shape[1:3], self.kernel_size, self.dilation_rate, strict=True):
            if self.padding == "valid" and n is not None and n < d * (k - 1) + 1:
                raise ValueError(
                    "Computed output size would be zero or negative. Received "
                    f"`inputs shape={tuple(input_shape)}`, `kernel_size={self.kernel_size}`, "
                    f"`dilation_rate={self.dilation_rate}`, `padding=valid`."
                )

    def build(self, input_shape):
        """`kernel` (kh, kw, C, depth_multiplier) and `bias` (C * depth_multiplier,)."""
        self.refuse_empty_output(input_shape)
        ### BEGIN SOLUTION
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(channels * self.depth_multiplier,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})
        ### END SOLUTION

    def call(self, inputs):
        """Depthwise cross-correlation, bias, activation."""
        ### BEGIN SOLUTION
        outputs = depthwise_conv(
            inputs, self.kernel, self.strides, self.padding, self.dilation_rate
        )
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        """(batch, H, W, C) -> (batch, out_h, out_w, C * depth_multiplier)."""
        ### BEGIN SOLUTION
        batch, height, width, channels = input_shape
        geometry = zip(
            (height, width), self.kernel_size, self.strides, self.dilation_rate, strict=True
        )
        sizes = [conv_output_size(n, k, s, self.padding, d) for n, k, s, d in geometry]
        return (batch, *sizes, channels * self.depth_multiplier)
        ### END SOLUTION

    def get_config(self):
        ser = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "depth_multiplier": self.depth_multiplier,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": ser(self.depthwise_initializer),
            "bias_initializer": ser(self.bias_initializer),
            "depthwise_regularizer": ser(self.depthwise_regularizer),
            "bias_regularizer": ser(self.bias_regularizer),
            "depthwise_constraint": ser(self.depthwise_constraint),
            "bias_constraint": ser(self.bias_constraint),
        }


class SeparableConv2D(DepthwiseConv2D):
    """Depthwise-separable 2D convolution, a drop-in for `keras.layers.SeparableConv2D`: a
    depthwise convolution (each channel on its own) followed by a pointwise (1x1) one that
    mixes the channels into `filters` outputs; one bias, one activation, at the end.

    Supported as for `DepthwiseConv2D`, plus `filters` and the pointwise initializer,
    regularizer and constraint. Not supported: channels_first.

    Weights: `depthwise_kernel` (kh, kw, C, depth_multiplier), `pointwise_kernel`
    (1, 1, C * depth_multiplier, filters) and `bias` (filters,).
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            kernel_size,
            strides=strides,
            padding=padding,
            depth_multiplier=depth_multiplier,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            depthwise_initializer=depthwise_initializer,
            bias_initializer=bias_initializer,
            depthwise_regularizer=depthwise_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            depthwise_constraint=depthwise_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        self.filters = filters
        self.pointwise_initializer = keras.initializers.get(pointwise_initializer)
        self.pointwise_regularizer = keras.regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = keras.constraints.get(pointwise_constraint)

    def build(self, input_shape):
        """`depthwise_kernel`, `pointwise_kernel` and `bias` (filters,)."""
        self.refuse_empty_output(input_shape)
        ### BEGIN SOLUTION
        channels = input_shape[-1]
        middle = channels * self.depth_multiplier
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel",
            shape=(*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(1, 1, middle, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
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
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})
        ### END SOLUTION

    def call(self, inputs):
        """Depthwise step, pointwise step (a matmul over the channels), bias, activation."""
        ### BEGIN SOLUTION
        middle = depthwise_conv(
            inputs, self.depthwise_kernel, self.strides, self.padding, self.dilation_rate
        )
        mixing = ops.reshape(self.pointwise_kernel, (-1, self.filters))
        outputs = ops.matmul(middle, mixing)
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        """(batch, H, W, C) -> (batch, out_h, out_w, filters)."""
        ### BEGIN SOLUTION
        *spatial, _ = super().compute_output_shape(input_shape)
        return (*spatial, self.filters)
        ### END SOLUTION

    def get_config(self):
        ser = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "filters": self.filters,
            "pointwise_initializer": ser(self.pointwise_initializer),
            "pointwise_regularizer": ser(self.pointwise_regularizer),
            "pointwise_constraint": ser(self.pointwise_constraint),
        }


# --- the transposed convolution ----------------------------------------------------------


def transpose_output_size(n, kernel_size, strides=1, padding="valid", output_padding=None):
    """How many outputs a transposed convolution gives along one axis (Keras's rule).

    Without `output_padding`: n * s + max(k - s, 0) for "valid", n * s for "same". With it,
    (n - 1) * s + k - 2 * pad + output_padding, where pad is 0 for "valid" and k // 2 for
    "same": the forward convolution of an output of that size, with the same stride and
    padding, gives back n values.
    """
    ### BEGIN SOLUTION
    if n is None:
        return None
    if output_padding is None:
        return n * strides + max(kernel_size - strides, 0) if padding == "valid" else n * strides
    pad = kernel_size // 2 if padding == "same" else 0
    return (n - 1) * strides + kernel_size - 2 * pad + output_padding
    ### END SOLUTION


def spread(x, strides):
    """Put strides - 1 zeros between neighbouring pixels: (b, H, W, C) ->
    (b, (H - 1) sh + 1, (W - 1) sw + 1, C), with x[:, i, j] at [:, i * sh, j * sw]."""
    for axis, step in ((1, strides[0]), (2, strides[1])):
        if step == 1:
            continue
        size = x.shape[axis]
        zeros = ops.zeros_like(x)
        x = ops.stack([x] + [zeros] * (step - 1), axis=axis + 1)  # each pixel, then zeros
        shape = list(ops.shape(x))
        merged = shape[:axis] + [size * step] + shape[axis + 2 :]
        x = ops.reshape(x, merged)
        x = x[:, : (size - 1) * step + 1] if axis == 1 else x[:, :, : (size - 1) * step + 1]
    return x


def conv_transpose(x, kernel, output_size, strides=(1, 1), padding="valid"):
    """The transposed convolution: the adjoint of the convolution with the same kernel,
    strides and padding that maps an image of `output_size` to one of x's size.

    Args:
        x: tensor (batch, H, W, C).
        kernel: tensor (kh, kw, filters, C), Keras's layout for Conv2DTranspose.
        output_size: (out_h, out_w).
        strides, padding: of that forward convolution ("valid" or "same").

    Returns:
        Tensor (batch, out_h, out_w, filters): every input pixel adds its value times the
        kernel into the output window it came from.
    """
    ### BEGIN SOLUTION
    kh, kw, filters, _ = kernel.shape
    widths, starts = [], []
    for n_in, n_out, k, s in zip(x.shape[1:3], output_size, (kh, kw), strides, strict=True):
        total = max((n_in - 1) * s + k - n_out, 0) if padding == "same" else 0
        start = total // 2  # where TensorFlow's forward convolution starts: `start` zeros
        # The full correlation of the spread input with the flipped kernel gives output
        # position o at index o + start; pad after it enough for the last of n_out.
        widths.append((k - 1, max(start + n_out - (n_in - 1) * s - 1, 0)))
        starts.append(start)
    padded = ops.pad(spread(x, strides), ((0, 0), *widths, (0, 0)))
    flipped = ops.transpose(kernel[::-1, ::-1], (0, 1, 3, 2))  # (kh, kw, C, filters)
    full = ops.matmul(im2col(padded, (kh, kw)), ops.reshape(flipped, (-1, filters)))
    (top, left), (out_h, out_w) = starts, output_size
    return full[:, top : top + out_h, left : left + out_w, :]
    ### END SOLUTION


class Conv2DTranspose(keras.layers.Layer):
    """Transposed 2D convolution, a drop-in for `keras.layers.Conv2DTranspose`: it makes an
    image larger, each input pixel adding its value times the kernel into an output window.

    Supported: `filters`, `kernel_size`, `strides`, `padding` ("valid", "same"),
    `output_padding`, `activation`, `use_bias`, the initializers, regularizers and
    constraints. Not supported: `dilation_rate` above 1, channels_first.

    Weights: `kernel` (kh, kw, filters, C), Keras's layout (output channels before input
    channels), and `bias` (filters,).
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = filters
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = as_pair(strides, "strides")
        self.padding = one_of("padding", padding, ("valid", "same"))
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = tuple(
                int(p)
                for p in (
                    (output_padding,) * 2 if isinstance(output_padding, int) else output_padding
                )
            )
            for p, s in zip(self.output_padding, self.strides, strict=True):
                if not 0 <= p < s:
                    raise ValueError(
                        "`output_padding` must be strictly less than `strides`. Received: "
                        f"output_padding={output_padding}, strides={strides}"
                    )
        data_format = data_format or keras.config.image_data_format()
        self.data_format = require("data_format", data_format, "channels_last")
        dilation_rate = as_pair(dilation_rate, "dilation_rate")
        if max(self.strides) > 1 and max(dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={dilation_rate}"
            )
        self.dilation_rate = require("dilation_rate", dilation_rate, (1, 1), "Conv2DTranspose")
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
        """`kernel` (kh, kw, filters, C) and `bias` (filters,)."""
        ### BEGIN SOLUTION
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, self.filters, channels),
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
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})
        ### END SOLUTION

    def _output_sizes(self, height, width):
        extra = self.output_padding or (None, None)
        geometry = zip((height, width), self.kernel_size, self.strides, extra, strict=True)
        return [transpose_output_size(n, k, s, self.padding, p) for n, k, s, p in geometry]

    def call(self, inputs):
        """Spread, pad, correlate with the flipped kernel, crop; bias, activation."""
        ### BEGIN SOLUTION
        sizes = self._output_sizes(*inputs.shape[1:3])
        outputs = conv_transpose(inputs, self.kernel, sizes, self.strides, self.padding)
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        """(batch, H, W, C) -> (batch, out_h, out_w, filters), by `transpose_output_size`."""
        ### BEGIN SOLUTION
        batch, height, width, _ = input_shape
        return (batch, *self._output_sizes(height, width), self.filters)
        ### END SOLUTION

    def get_config(self):
        ser = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": ser(self.kernel_initializer),
            "bias_initializer": ser(self.bias_initializer),
            "kernel_regularizer": ser(self.kernel_regularizer),
            "bias_regularizer": ser(self.bias_regularizer),
            "kernel_constraint": ser(self.kernel_constraint),
            "bias_constraint": ser(self.bias_constraint),
        }


# What this lesson gives the library (`solutions.layers`): exported name -> (layer, the
# Keras test module under keras/src/layers that tests its namesake).
LIBRARY = {
    "DepthwiseConv2D": (DepthwiseConv2D, "depthwise_conv_test.py"),
    "SeparableConv2D": (SeparableConv2D, "separable_conv_test.py"),
    "Conv2DTranspose": (Conv2DTranspose, "conv_transpose_test.py"),
}

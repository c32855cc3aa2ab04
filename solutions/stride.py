"""Lesson 04, stride and dilation: output sizes, TensorFlow's padding, im2col and Conv2D.

The `### BEGIN SOLUTION` / `### END SOLUTION` comments mark what the released notebook
hides from students; `cnn-course sync` copies these objects into the lesson notebook.
Lesson 02's `as_pair` and `require` and lesson 03's `ZeroPadding2D` and `BaseConv` are
given code in this lesson.
"""

from keras import ops

from solutions.padding import BaseConv, ZeroPadding2D


def conv_output_size(n, kernel_size, strides=1, padding="valid", dilation_rate=1):
    """How many outputs a convolution gives along one axis.

    Args:
        n: the input's size along the axis (int), or None when unknown.
        kernel_size: the kernel's size k along the axis.
        strides: the step s between two windows.
        padding: `"valid"`, `"same"` or `"full"`.
        dilation_rate: the spacing d between two kernel taps; the kernel spans d(k - 1) + 1
            input pixels.

    Returns:
        None when `n` is None, else the int floor((n + p - d(k - 1) - 1) / s) + 1, where p
        is the number of zeros added in all: 0 for "valid", 2 d(k - 1) for "full"; for
        "same" TensorFlow pads just enough for ceil(n / s) outputs.
    """
    ### BEGIN SOLUTION
    if n is None:
        return None
    span = dilation_rate * (kernel_size - 1) + 1
    if padding == "same":
        return -(-n // strides)
    added = {"valid": 0, "full": 2 * (span - 1)}[padding]
    return (n + added - span) // strides + 1
    ### END SOLUTION


def padding_amounts(n, kernel_size, strides=1, padding="valid", dilation_rate=1):
    """Zeros a convolution adds before and after the input along one axis, as TensorFlow.

    Args:
        n: the input's size along the axis (int).
        kernel_size, strides, padding, dilation_rate: as in `conv_output_size`.

    Returns:
        Pair of ints (before, after):
        - `"valid"`: (0, 0);
        - `"full"`: (d(k - 1), d(k - 1));
        - `"same"`: in all max((ceil(n / s) - 1) s + d(k - 1) + 1 - n, 0) zeros, just
          enough for the last of the ceil(n / s) windows to fit; half of them (rounded
          down) before, the rest after (bottom, right).
    """
    ### BEGIN SOLUTION
    span = dilation_rate * (kernel_size - 1) + 1
    if padding == "valid":
        return (0, 0)
    if padding == "full":
        return (span - 1, span - 1)
    outputs = -(-n // strides)
    total = max((outputs - 1) * strides + span - n, 0)
    return (total // 2, total - total // 2)
    ### END SOLUTION


def im2col(x, kernel_size, strides=(1, 1), dilation_rate=(1, 1)):
    """Gather the windows of a strided, dilated convolution into the rows of a matrix.

    Args:
        x: tensor of shape (batch, H, W, C), already padded.
        kernel_size: pair (kh, kw).
        strides: pair (sh, sw), the step between two windows.
        dilation_rate: pair (dh, dw), the spacing between two kernel taps.

    Returns:
        Tensor of shape (batch, out_h, out_w, kh * kw * C) with
        out_h = floor((H - dh (kh - 1) - 1) / sh) + 1 (and the same for the width), where
        window (i, j) lists x[i * sh + m * dh, j * sw + n * dw, c] in the order (m, n, c).
    """
    ### BEGIN SOLUTION
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    x = ops.convert_to_tensor(x)
    _, height, width, _ = x.shape
    out_h = (height - dh * (kh - 1) - 1) // sh + 1
    out_w = (width - dw * (kw - 1) - 1) // sw + 1
    # For kernel tap (m, n), every window's input pixel: rows m * dh, m * dh + sh, ...
    rows, columns = (out_h - 1) * sh + 1, (out_w - 1) * sw + 1
    shifted = []
    for m in range(kh):
        for n in range(kw):
            # A contiguous block first: the gradient of ops.slice is a cheap pad in TensorFlow.
            block = ops.slice(x, (0, m * dh, n * dw, 0), (-1, rows, columns, -1))
            shifted.append(block[:, ::sh, ::sw, :] if (sh, sw) != (1, 1) else block)
    return ops.concatenate(shifted, axis=-1)
    ### END SOLUTION


class Conv2D(BaseConv):
    """2D convolution with strides, dilation and padding, a drop-in for `keras.layers.Conv2D`.

    It supports every `strides` and `dilation_rate` (not both above 1, as in Keras) and
    `padding` in `"valid"`, `"same"` (placed as TensorFlow does) and `"full"` (not a Keras
    option). Not supported: `groups > 1` and `data_format="channels_first"` (refused with a
    `ValueError`), LoRA (`lora_rank`, `enable_lora`) and quantization (`quantize`).

    Args:
        filters: number of output channels.
        kernel_size: int or pair (kh, kw).
        strides: int or pair (sh, sw), the step between two windows. Default 1.
        padding: `"valid"` (the default), `"same"` (ceil(n / s) outputs per axis) or
            `"full"` (d(k - 1) zeros on every side); case-insensitive.
        data_format: `"channels_last"`, or `None` for Keras's default.
        dilation_rate: int or pair (dh, dw), the spacing between two kernel taps.
            Default 1.
        groups: must be 1.
        activation: activation applied after the bias (name or callable), default none.
        use_bias: whether to add a learned bias per filter. Default `True`.
        kernel_initializer, bias_initializer: initializers of the two weights.
        kernel_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Call arguments:
        inputs: tensor of shape (batch, H, W, C), with H and W known.

    Output: tensor of shape (batch, out_h, out_w, filters), with
    out_h = conv_output_size(H, kh, sh, padding, dh) and the same for the width.
    """

    fixed = ()

    def call(self, inputs):
        """Pad as TensorFlow does, gather the strided, dilated windows, one matmul, bias."""
        ### BEGIN SOLUTION
        sizes = inputs.shape[1:3]
        geometry = zip(sizes, self.kernel_size, self.strides, self.dilation_rate, strict=True)
        padding = tuple(padding_amounts(n, k, s, self.padding, d) for n, k, s, d in geometry)
        padded = ZeroPadding2D(padding, dtype=self.dtype_policy)(inputs)
        patches = im2col(padded, self.kernel_size, self.strides, self.dilation_rate)
        outputs = ops.matmul(patches, ops.reshape(self.kernel, (-1, self.filters)))
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        """(batch, H, W, C) -> (batch, out_h, out_w, filters); None stays None."""
        ### BEGIN SOLUTION
        batch, height, width, _ = input_shape
        geometry = zip(
            (height, width), self.kernel_size, self.strides, self.dilation_rate, strict=True
        )
        sizes = [conv_output_size(n, k, s, self.padding, d) for n, k, s, d in geometry]
        return (batch, *sizes, self.filters)
        ### END SOLUTION


def receptive_field(layers):
    """How many input pixels, along one axis, one output of a stack of layers depends on.

    Args:
        layers: sequence of (kernel_size, stride, dilation) triples of ints, one per layer,
            first layer first (a pooling layer is (pool_size, stride, 1)).

    Returns:
        The receptive field r (int): r = 1 + sum over layers l of d_l (k_l - 1) j_l, where
        j_l, the product of the strides of the layers before l, is the distance in input
        pixels between two neighbouring inputs of layer l.
    """
    ### BEGIN SOLUTION
    field, jump = 1, 1
    for kernel_size, stride, dilation in layers:
        field += dilation * (kernel_size - 1) * jump
        jump *= stride
    return field
    ### END SOLUTION


def layer_geometry(model):
    """(kernel_size, stride, dilation) along the height of each windowed layer of `model`.

    Convolutions give (kernel_size, strides, dilation_rate), pooling layers
    (pool_size, strides, 1); layers without a window (Dense, Flatten, ...) are skipped.
    """
    geometry = []
    for layer in model.layers:
        if hasattr(layer, "kernel_size"):
            geometry.append((layer.kernel_size[0], layer.strides[0], layer.dilation_rate[0]))
        elif hasattr(layer, "pool_size"):
            geometry.append((layer.pool_size[0], layer.strides[0], 1))
    return geometry


# What this lesson gives the library (`solutions.layers`): exported name -> (layer, the
# Keras test module under keras/src/layers that tests its namesake). A later lesson's
# entry of the same name replaces it.
LIBRARY = {"Conv2D": (Conv2D, "conv_test.py")}

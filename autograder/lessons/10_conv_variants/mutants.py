"""Lesson 10's surviving mutants that are equivalent to the reference, or differ from it only
outside the lesson's contract (`cnn-course mutants 10_conv_variants` reads them).

The contract is the notebook and the docstrings in solutions/conv_variants.py: the functions
take tensors (batch, H, W, C), kernels of rank 4 and pairs of positive ints; conv_transpose's
output_size is Keras's size for its arguments (transpose_output_size); the layers take rank-4
inputs with the channels they were built for.
"""

_STRICT = (
    "the sizes (height, width), the kernel's (kh, kw) and the strides, dilations and output "
    "sizes are all pairs, so zip never meets lengths that differ and `strict` never acts"
)
_BIAS_NONE = "call reads self.bias only when use_bias, and then build has created it"
_INPUT_SPEC = (
    "outside the contract: the InputSpec refuses inputs of another rank or another channel "
    "count than the layer was built for; every input the contract allows has both right, "
    "and then the layer computes the same with or without it"
)
_RATIO = (
    "cost_ratio divides two counts that are both proportional to the number of output "
    "positions, which cancels: any output size gives the same ratio"
)
_SYMMETRIC = (
    "conv_multiplications multiplies all its arguments together: swapping two of them "
    "changes nothing"
)
_MAX = "max of two numbers does not depend on their order"
_AXIS = "{what}: on a tensor of rank {rank}, axis {negative} is axis {positive}"
_MORE_ZEROS = (
    "the zeros padded after the spread input only need to reach the last output; this pads "
    "as many or more (a non-integer width is truncated by the padding op and still pads "
    "enough), and the crop to output_size leaves out what is extra"
)

EQUIVALENT_MUTANTS = {
    "cost_ratio: in `(1, 1)`: `1` -> `2`": _RATIO,
    "cost_ratio: in `(1, 1)`: `1` -> `-1`": _RATIO,
    "cost_ratio: in `(1, 1)`: `1` -> `2` #2": _RATIO,
    "cost_ratio: in `(1, 1)`: `1` -> `-1` #2": _RATIO,
    "cost_ratio: swap `ones` and `kernel_size` in `conv_multiplications(...)`": _SYMMETRIC,
    "cost_ratio: swap `in_channels` and `filters` in `conv_multiplications(...)`": _SYMMETRIC,
    "depthwise_conv: drop `strict=` from `zip(...)`": _STRICT,
    "depthwise_conv: in `zip(x.shape[1:3], (kh, kw), strides, dilation_rate, stric...`: "
    "`True` -> `False`": _STRICT,
    "depthwise_conv: in `patches.shape[2]`: `2` -> `-2`": _AXIS.format(
        what="im2col's patches (b, oh, ow, kh kw C)", rank=4, negative=-2, positive=2
    ),
    "depthwise_conv: in `(batch, oh, ow, kh * kw, channels, 1)`: `1` -> `-1`": (
        "a reshape's -1 is the size left over, which is 1 here"
    ),
    "depthwise_conv: in `ops.sum(patches * taps, axis=3)`: `3` -> `-3`": _AXIS.format(
        what="the product (b, oh, ow, kh kw, C, M)", rank=6, negative=-3, positive=3
    ),
    "DepthwiseConv2D.build: `self.bias = None` -> `pass`": _BIAS_NONE,
    "DepthwiseConv2D.build: `self.input_spec = keras.InputSpec(ndim=4, axes={-1: chann...` "
    "-> `pass`": _INPUT_SPEC,
    "DepthwiseConv2D.build: drop `ndim=` from `keras.InputSpec(...)`": _INPUT_SPEC,
    "DepthwiseConv2D.build: drop `axes=` from `keras.InputSpec(...)`": _INPUT_SPEC,
    "DepthwiseConv2D.compute_output_shape: drop `strict=` from `zip(...)`": _STRICT,
    "DepthwiseConv2D.compute_output_shape: in `zip((height, width), self.kernel_size, "
    "self.strides, self...`: `True` -> `False`": _STRICT,
    "SeparableConv2D.build: `self.bias = None` -> `pass`": _BIAS_NONE,
    "SeparableConv2D.build: `self.input_spec = keras.InputSpec(ndim=4, axes={-1: chann...` "
    "-> `pass`": _INPUT_SPEC,
    "SeparableConv2D.build: drop `ndim=` from `keras.InputSpec(...)`": _INPUT_SPEC,
    "SeparableConv2D.build: drop `axes=` from `keras.InputSpec(...)`": _INPUT_SPEC,
    "transpose_output_size: swap `kernel_size - strides` and `0` in `max(...)`": _MAX,
    "conv_transpose: drop `strict=` from `zip(...)`": _STRICT,
    "conv_transpose: in `zip(x.shape[1:3], output_size, (kh, kw), strides, strict=...`: "
    "`True` -> `False`": _STRICT,
    "conv_transpose: swap `(n_in - 1) * s + k - n_out` and `0` in `max(...)`": _MAX,
    "conv_transpose: in `max((n_in - 1) * s + k - n_out, 0)`: `0` -> `1`": (
        "a total padding of 0 or 1 both put output 0 at index 0 (1 // 2 = 0), and the total "
        "is never negative once clamped"
    ),
    "conv_transpose: in `max((n_in - 1) * s + k - n_out, 0) if padding == 'same' e...`: "
    "`0` -> `1`": "for 'valid', a total of 1 starts at 1 // 2 = 0, as a total of 0 does",
    "conv_transpose: swap `start + n_out - (n_in - 1) * s - 1` and `0` in `max(...)`": _MAX,
    "conv_transpose: `start + n_out - (n_in - 1) * s - 1` -> "
    "`start + n_out - (n_in - 1) * s + 1`": _MORE_ZEROS,
    "conv_transpose: `start + n_out - (n_in - 1) * s` -> `start + n_out + (n_in - 1) * s`": (
        _MORE_ZEROS
    ),
    "conv_transpose: `(n_in - 1) * s` -> `(n_in - 1) / s` #2": _MORE_ZEROS,
    "conv_transpose: in `n_in - 1`: `1` -> `2` #2": _MORE_ZEROS,
    "conv_transpose: in `start + n_out - (n_in - 1) * s - 1`: `1` -> `0`": _MORE_ZEROS,
    "conv_transpose: in `start + n_out - (n_in - 1) * s - 1`: `1` -> `-1`": _MORE_ZEROS,
    "conv_transpose: in `max(start + n_out - (n_in - 1) * s - 1, 0)`: `0` -> `1`": _MORE_ZEROS,
    "conv_transpose: in `max(start + n_out - (n_in - 1) * s - 1, 0)`: `0` -> `-1`": (
        "for Keras's output sizes start + n_out - (n_in - 1) s - 1 is never below 0 (an even "
        "kernel with output_padding 0 under 'same' gives n_out = (n_in - 1) s, but then "
        "start = k // 2 >= 1), so the clamp never reaches -1"
    ),
    "conv_transpose: in `(0, 1, 3, 2)`: `2` -> `-2`": _AXIS.format(
        what="the permutation of the kernel", rank=4, negative=-2, positive=2
    ),
    "conv_transpose: in `full[:, top:top + out_h, left:left + out_w, :]`: "
    "`top:top + out_h` -> `top:top + out_h + 1`": (
        "the padding after makes the full output end exactly at top + out_h (the clamp at 0 "
        "never acts for Keras's sizes): a slice one further takes nothing more"
    ),
    "conv_transpose: in `full[:, top:top + out_h, left:left + out_w, :]`: "
    "`left:left + out_w` -> `left:left + out_w + 1`": (
        "the padding after makes the full output end exactly at left + out_w (the clamp at 0 "
        "never acts for Keras's sizes): a slice one further takes nothing more"
    ),
    "Conv2DTranspose.build: `self.bias = None` -> `pass`": _BIAS_NONE,
    "Conv2DTranspose.build: `self.input_spec = keras.InputSpec(ndim=4, axes={-1: chann...` "
    "-> `pass`": _INPUT_SPEC,
    "Conv2DTranspose.build: drop `ndim=` from `keras.InputSpec(...)`": _INPUT_SPEC,
    "Conv2DTranspose.build: drop `axes=` from `keras.InputSpec(...)`": _INPUT_SPEC,
}

"""Keras's layers as several lessons ask for them: Conv2D's constructor arguments and weight
shapes, and a layer case described the one way feedback names it."""

from .contract import describe_call
from .twin import LayerCase, Twin

# Conv2D's constructor arguments a student's Conv2D must accept (`contract.Contract`).
CONV2D_ARGUMENTS = tuple(
    "filters kernel_size strides padding data_format dilation_rate activation use_bias "
    "kernel_initializer bias_initializer".split()
)
CONV2D = Twin("Conv2D", how={"kernel": "(kh, kw, input channels, filters)", "bias": "(filters,)"})


def pair(size) -> tuple:
    """A kernel size (or stride, ...) as Keras reads it: 3 -> (3, 3), [3, 2] -> (3, 2)."""
    return (size, size) if isinstance(size, int) else tuple(size)


def layer_case(keras: str, args, kwargs, inputs, weights, shape_hint="", **fields) -> LayerCase:
    """A `LayerCase` of `keras.layers.<keras>(*args, **kwargs)` on `inputs`, described as
    "Conv2D(4, 3, padding='same') on inputs (2, 7, 7, 1)"; a weight given as None (a bias
    without `use_bias`) is left out. `fields` are the case's other fields (`expected`, and
    `layer_kwargs` when the layer is built with more arguments than its description names)."""
    return LayerCase(
        args=tuple(args),
        expected=fields.pop("expected", None),
        text=f"{describe_call(keras, tuple(args), kwargs)} on inputs {tuple(inputs.shape)}",
        shape_hint=shape_hint,
        layer_kwargs=fields.pop("layer_kwargs", kwargs),
        inputs=inputs,
        weights={name: value for name, value in weights.items() if value is not None},
        **fields,
    )

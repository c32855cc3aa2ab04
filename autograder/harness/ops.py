"""Operations on student code: the only ways a check runs it.

Each operation takes the student's objects (already resolved, in the process where they live)
and plain data, and returns what a check needs to judge: plain data, or a new object that stays
where it was made. They run under the guard, in the student's kernel or, for grading, across
the sandbox; a check never touches a student object any other way.

Operations that build models take a *model spec*: a list of layers, each `("keras", name, args,
kwargs)` for a built-in Keras layer or `(cls, args, kwargs)` for a student class (or layer).
"""

import inspect

import numpy as np


def call(target, *args, **kwargs):
    """`target(*args, **kwargs)`: a student function, class, layer or method."""
    return target(*args, **kwargs)


def value(target):
    """The value of `target` itself (an attribute path of a student object, say)."""
    return target


def short_name(variable) -> str:
    """A weight's name without its path ("kernel" for "conv2d/kernel")."""
    return str(variable.name).split("/")[-1].split(":")[0]


def weights(layer) -> list[dict]:
    """Name, shape, dtype and trainability of every weight of `layer`, in order."""
    return [
        {
            "name": short_name(w),
            "shape": tuple(int(d) for d in w.shape),
            "dtype": str(w.dtype),
            "trainable": bool(w.trainable),
        }
        for w in layer.weights
    ]


def weight_values(layer) -> dict:
    """{short name: value} of the layer's weights."""
    import keras

    return {short_name(w): keras.ops.convert_to_numpy(w) for w in layer.weights}


def assign(layer, values: dict) -> None:
    """Copy `values` ({short name: array}) into the layer's weights of those names."""
    found = {short_name(w): w for w in layer.weights}
    for name, array in values.items():
        found[name].assign(np.asarray(array))


def build_layer(target, args=(), kwargs=None, input_shape=None, values=None):
    """A layer from a class (constructed with args/kwargs) or a layer, built for
    `input_shape` when given, with `values` copied into its weights."""
    layer = target(*args, **(kwargs or {})) if inspect.isclass(target) else target
    if input_shape is not None and not layer.built:
        layer.build(tuple(input_shape))
    if values:
        assign(layer, values)
    return layer


def symbolic_output(target, input_shape, args=(), kwargs=None):
    """The layer (or a new one of the class) called on `keras.Input(input_shape[1:])`."""
    import keras

    layer = build_layer(target, args, kwargs)
    return layer(keras.Input(tuple(input_shape[1:]), batch_size=input_shape[0]))


def signature(target, method: str = "__init__") -> list[tuple]:
    """[(name, kind, default)] of `target.method`; default is `inspect.Parameter.empty`'s
    name when there is none."""
    params = inspect.signature(getattr(target, method)).parameters.values()
    return [
        (p.name, p.kind.name, "<empty>" if p.default is p.empty else p.default) for p in params
    ]


def config_roundtrip(layer) -> dict:
    """`layer.get_config()`, and the config of `type(layer).from_config` of it."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    return {"config": config, "again": clone.get_config()}


def _loss(outputs, upstream, target):
    from keras import ops

    if target is not None:
        return ops.mean(ops.square(outputs - target))
    return ops.sum(outputs * upstream)


def gradients(layer, inputs, upstream=None, target=None, training=None, allow_in_backward=()):
    """Output of the layer and the gradients of a scalar loss with respect to its inputs and
    trainable weights.

    The loss is `sum(output * upstream)` (so the input gradient is the backward pass of the
    upstream gradient), or the mean squared error to `target` when that is given.
    `allow_in_backward` names forbidden functions the backward pass may call (TensorFlow
    differentiates a slice with tf.pad); the forward pass stays fully guarded.
    Returns {"output", "inputs", "weights": {name: gradient or None}}.
    """
    import tensorflow as tf

    from .execution import allowing

    x = tf.convert_to_tensor(inputs)
    with tf.GradientTape() as tape:
        tape.watch(x)
        kwargs = {} if training is None else {"training": training}
        outputs = layer(x, **kwargs)
        loss = _loss(outputs, upstream, target)
    variables = list(layer.trainable_weights)
    with allowing(allow_in_backward):
        grads = tape.gradient(loss, [x, *variables])
    return {
        "output": outputs,
        "inputs": grads[0],
        "weights": {short_name(v): g for v, g in zip(variables, grads[1:], strict=True)},
    }


def build_model(spec, input_shape):
    """A functional Keras model of the layers of `spec` (see the module docstring)."""
    import keras

    inputs = keras.Input(tuple(input_shape[1:]))
    outputs = inputs
    for entry in spec:
        if entry[0] == "keras":
            _, name, args, kwargs = entry
            layer = getattr(keras.layers, name)(*args, **kwargs)
        else:
            target, args, kwargs = entry
            layer = build_layer(target, args, kwargs)
        outputs = layer(outputs)
    return keras.Model(inputs, outputs)


def model_summary(spec, input_shape) -> list[dict]:
    """Per layer of the model of `spec`: class name, output shape, parameter count."""
    model = build_model(spec, input_shape)
    return [
        {
            "layer": type(layer).__name__,
            "output_shape": tuple(layer.output.shape),
            "params": int(sum(np.prod(w.shape) for w in layer.weights)),
        }
        for layer in model.layers[1:]
    ]


def fit(spec, input_shape, x, y, loss, learning_rate=0.02, epochs=15, batch_size=16, seed=0):
    """Train the model of `spec` with Adam; return its loss per epoch and its final weights."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build_model(spec, input_shape)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return {
        "loss": [float(v) for v in history.history["loss"]],
        "weights": [keras.ops.convert_to_numpy(w) for w in model.weights],
    }


OPERATIONS = {
    fn.__name__: fn
    for fn in (
        call,
        value,
        weights,
        weight_values,
        assign,
        build_layer,
        symbolic_output,
        signature,
        config_roundtrip,
        gradients,
        model_summary,
        fit,
    )
}


# --- added with lessons 01 and 05 ----------------------------------------------------------------


def weight_constraints(layer) -> dict:
    """{short name: class name of the weight's constraint, or None} of the layer's weights."""
    found = {}
    for w in layer.weights:
        constraint = getattr(w, "constraint", None)
        found[short_name(w)] = None if constraint is None else type(constraint).__name__
    return found


OPERATIONS[weight_constraints.__name__] = weight_constraints


# --- added with lesson 07 ------------------------------------------------------------------------


def call_steps(layer, batches, training=None):
    """Call `layer` on each array of `batches` in turn, passing `training` when it is not None.

    A layer with state (batch normalization's moving statistics) changes from call to call;
    this records every step. Returns {"outputs": [output of each call], "weights": [{short
    name: value} of the layer's weights after each call]}.
    """
    outputs, states = [], []
    kwargs = {} if training is None else {"training": training}
    for batch in batches:
        outputs.append(layer(batch, **kwargs))
        states.append(weight_values(layer))
    return {"outputs": outputs, "weights": states}


def set_trainable(layer, value: bool) -> None:
    """`layer.trainable = value` (freezing a layer, or unfreezing it)."""
    layer.trainable = bool(value)


def train_model(
    spec,
    input_shape,
    x,
    y,
    loss,
    initial=None,
    optimizer="sgd",
    learning_rate=0.05,
    epochs=2,
    batch_size=16,
    evaluate=None,
    seed=0,
):
    """Train the model of `spec` from known weights, without shuffling, and report every layer.

    `initial` gives, per layer of `spec`, {short name: value} to copy into its weights before
    training (or None to keep that layer's initial weights), so that two models built from
    different classes start from the same point and see the batches in the same order.
    `optimizer` is "sgd" or "adam". Returns {"loss": [loss per epoch], "layers": [{short name:
    value} per layer after training], "trainable": [[names of its trainable weights] per
    layer], "predictions": the model's output on `evaluate` in inference mode (or None)}.
    """
    import keras

    keras.utils.set_random_seed(seed)
    model = build_model(spec, input_shape)
    layers = model.layers[1:] if len(model.layers) > len(spec) else model.layers
    for layer, values in zip(layers, initial or [None] * len(spec), strict=True):
        if values:
            assign(layer, values)
    make = keras.optimizers.SGD if optimizer == "sgd" else keras.optimizers.Adam
    model.compile(optimizer=make(learning_rate), loss=loss)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0)
    predictions = None if evaluate is None else model(evaluate, training=False)
    return {
        "loss": [float(v) for v in history.history["loss"]],
        "layers": [weight_values(layer) for layer in layers],
        "trainable": [[short_name(w) for w in layer.trainable_weights] for layer in layers],
        "predictions": predictions,
    }


for _operation in (call_steps, set_trainable, train_model):
    OPERATIONS[_operation.__name__] = _operation

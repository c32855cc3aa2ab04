"""Operations on layers and small models: calls, weights, configs, gradients, training."""

__all__ = [
    "call",
    "value",
    "short_name",
    "weights",
    "weight_values",
    "assign",
    "symbolic_output",
    "traced_output_shape",
    "signature",
    "config_roundtrip",
    "gradients",
    "spec_layer",
    "build_model",
    "model_summary",
    "fit",
    "repeated_calls",
    "weight_constraints",
    "history_summary",
    "keeps_first_draw",
]

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


def _instance(target, args=(), kwargs=None):
    """`target` itself if it is a layer, else a new one of the class from args/kwargs."""
    return target(*args, **(kwargs or {})) if inspect.isclass(target) else target


def symbolic_output(target, input_shape, args=(), kwargs=None):
    """The layer (or a new one of the class) called on `keras.Input(input_shape[1:])`."""
    import keras

    layer = _instance(target, args, kwargs)
    return layer(keras.Input(tuple(input_shape[1:]), batch_size=input_shape[0]))


def traced_output_shape(target, input_shape, args=(), kwargs=None, training=None) -> tuple:
    """The static output shape of the layer (or a new one of the class) called inside a
    tf.function traced for `input_shape` with the batch size unknown, as model.fit traces it
    (with `training` passed on unless None). A symbolic keras.Input does not do this: Keras
    answers it from compute_output_shape without running call() when the layer defines one."""
    import tensorflow as tf

    layer = _instance(target, args, kwargs)
    found = {}

    def trace(inputs):
        outputs = layer(inputs) if training is None else layer(inputs, training=training)
        found["shape"] = tuple(outputs.shape)
        return outputs

    spec = tf.TensorSpec((None, *input_shape[1:]), "float32")
    tf.function(trace, input_signature=[spec]).get_concrete_function()
    return found["shape"]


def signature(target, method: str = "__init__") -> list[tuple]:
    """[(name, kind, default)] of `target.method`; default is `inspect.Parameter.empty`'s
    name when there is none."""
    params = inspect.signature(getattr(target, method)).parameters.values()
    return [(p.name, p.kind.name, "<empty>" if p.default is p.empty else p.default) for p in params]


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
    differentiates a slice with tf.pad); the forward pass stays guarded, except where
    TensorFlow builds a backward function in it (a tf.function called under the tape).
    Returns {"output", "inputs", "weights": {name: gradient or None}}.
    """
    import tensorflow as tf

    from ..guarding import allowing

    x = tf.convert_to_tensor(inputs)
    with tf.GradientTape() as tape:
        tape.watch(x)
        kwargs = {} if training is None else {"training": training}
        with allowing(allow_in_backward, while_differentiating=True):
            outputs = layer(x, **kwargs)  # a tf.function's backward is built here
        loss = _loss(outputs, upstream, target)
    variables = list(layer.trainable_weights)
    with allowing(allow_in_backward):
        grads = tape.gradient(loss, [x, *variables])
    return {
        "output": outputs,
        "inputs": grads[0],
        "weights": {short_name(v): g for v, g in zip(variables, grads[1:], strict=True)},
    }


def spec_layer(entry):
    """The layer of one entry of a model spec (see the module docstring)."""
    import keras

    if entry[0] == "keras":
        _, name, args, kwargs = entry
        return getattr(keras.layers, name)(*args, **kwargs)
    target, args, kwargs = entry
    return _instance(target, args, kwargs)


def build_model(spec, input_shape):
    """A functional Keras model of the layers of `spec` (see the module docstring)."""
    import keras

    inputs = keras.Input(tuple(input_shape[1:]))
    outputs = inputs
    for entry in spec:
        outputs = spec_layer(entry)(outputs)
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


def fit(
    spec,
    input_shape,
    x,
    y,
    loss,
    learning_rate=0.02,
    epochs=15,
    batch_size=16,
    seed=0,
    weights=None,
    optimizer="adam",
    shuffle=True,
    callbacks=None,
):
    """Train the model of `spec` with Adam; return its loss per epoch and its final weights.

    Optional: `weights` to start from (in the order of `model.weights`), `optimizer="sgd"` for
    plain SGD, `shuffle=False` to take the batches in order (two models given the same weights
    then take the same steps), `callbacks` for model.fit (from another operation)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build_model(spec, input_shape)
    if weights is not None:
        model.set_weights([np.asarray(w) for w in weights])
    optimizers = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}
    model.compile(optimizer=optimizers[optimizer](learning_rate), loss=loss)
    history = model.fit(
        x, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle, verbose=0, callbacks=callbacks
    )
    return {
        "loss": [float(v) for v in history.history["loss"]],
        "weights": [keras.ops.convert_to_numpy(w) for w in model.weights],
    }


def repeated_calls(layer, inputs, times=2, training=None, compiled=False, batch_known=True):
    """The outputs of `times` calls of `layer` on the same inputs (`training` passed unless None).
    With `compiled`, the calls go through one `tf.function` traced as model.fit traces its step,
    for the inputs' shape (or, unless `batch_known`, an unknown batch size): what the layer draws
    with its own Python or NumPy code is then frozen into the graph."""
    import tensorflow as tf

    x = tf.convert_to_tensor(inputs)
    kwargs = {} if training is None else {"training": training}

    def step(t):
        return layer(t, **kwargs)

    if not compiled:
        return [step(x) for _ in range(times)]
    shape = tuple(x.shape) if batch_known else (None, *x.shape[1:])
    step = tf.function(step, input_signature=[tf.TensorSpec(shape, x.dtype)])
    # Every check makes a new tf.function of this one `step`; TensorFlow would log a warning
    # about frequent retracing into the student's notebook.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        return [step(x) for _ in range(times)]
    finally:
        logger.setLevel(level)


def weight_constraints(layer) -> dict:
    """{short name: class name of the weight's constraint, or None} of the layer's weights."""
    found = {}
    for w in layer.weights:
        constraint = getattr(w, "constraint", None)
        found[short_name(w)] = None if constraint is None else type(constraint).__name__
    return found


def history_summary(history) -> dict:
    """What a training function returned: its type's name, and the names its History recorded
    per epoch ("loss", "accuracy", ...), or None when it is no keras.callbacks.History."""
    import keras

    recorded = None
    if isinstance(history, keras.callbacks.History):
        recorded = [str(key) for key in history.history]
    return {"type": type(history).__name__, "recorded": recorded}


def keeps_first_draw(layer, x) -> bool:
    """Whether a random `layer`, called twice on `x` with training=True, keeps what it drew at
    its first call: its seed generators moved on at the first call but not at the second, or
    the calls left on it a tensor it did not hold before."""
    import keras
    import tensorflow as tf

    found = [*getattr(layer, "_seed_generators", ()), *vars(layer).values()]
    kind = keras.random.SeedGenerator
    generators = list({id(g): g for g in found if isinstance(g, kind)}.values())

    def states():
        return [np.array(keras.ops.convert_to_numpy(g.state)) for g in generators]

    def tensors():
        return {id(v) for v in vars(layer).values() if tf.is_tensor(v)}

    drew, held = [], tensors()
    for _ in range(2):
        before = states()
        layer(x, training=True)
        drew.append(any(not np.array_equal(a, b) for a, b in zip(before, states(), strict=True)))
    return (drew[0] and not drew[1]) or bool(tensors() - held)


def keras_settings() -> dict:
    """Keras's global settings where the student's code runs, which a notebook may change."""
    import keras

    return {
        "floatx": keras.config.floatx(),
        "dtype_policy": keras.config.dtype_policy().name,
        "image_data_format": keras.config.image_data_format(),
    }


OPERATIONS = (
    call,
    value,
    weights,
    weight_values,
    assign,
    symbolic_output,
    traced_output_shape,
    signature,
    config_roundtrip,
    gradients,
    model_summary,
    fit,
    repeated_calls,
    weight_constraints,
    history_summary,
    keeps_first_draw,
    keras_settings,
)

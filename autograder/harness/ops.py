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


# --- added with lesson 08 ------------------------------------------------------------------------


def outcome(target, *args, **kwargs) -> dict:
    """How `target(*args, **kwargs)` ends, as data, for checks that expect student code to
    refuse bad arguments: {"raised": None} when it returns, else {"raised": the exception's
    type name, "message": its first line, "stub": whether it is an exercise's
    `raise NotImplementedError()` placeholder}. What it returns is dropped."""
    from .execution import describe

    try:
        target(*args, **kwargs)
    except Exception as exc:
        error = describe(exc)
        return {"raised": error.type, "message": error.message, "stub": error.stub}
    return {"raised": None}


def repeated_calls(layer, inputs, times=2, training=None, compiled=False, batch_known=True):
    """The outputs of `times` calls of `layer` on the same inputs, in order.

    `training` is passed to the layer unless it is None. With `compiled`, every call goes
    through one `tf.function`, traced once as `model.fit` traces its step: for the inputs'
    shape or, when `batch_known` is False, with the batch size unknown while tracing. What
    a layer draws with its own Python or NumPy code is then frozen into the traced graph.
    """
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


def _spec_layer(entry):
    """The layer of one entry of a model spec (see the module docstring)."""
    import keras

    if entry[0] == "keras":
        _, name, args, kwargs = entry
        return getattr(keras.layers, name)(*args, **kwargs)
    target, args, kwargs = entry
    return build_layer(target, args, kwargs)


def _recorder(shape):
    """An identity layer that keeps a copy of its inputs of the last training step."""
    import keras

    class Recorder(keras.layers.Layer):
        def __init__(self):
            super().__init__(trainable=False)
            self.seen = self.add_weight(
                shape=shape, initializer="zeros", trainable=False, name="seen"
            )

        def call(self, inputs, training=None):
            if training:
                self.seen.assign(inputs)
            return inputs

    return Recorder()


def fit_recording(
    spec, input_shape, x, y, loss, watch=0, epochs=3, learning_rate=0.01, seed=0
) -> dict:
    """Train the model of `spec` with Adam on all of `x` at once (one step per epoch), and
    record what layer number `watch` of `spec` outputs inside Keras's compiled training
    step, step by step, then inside `model.predict`.

    Returns {"loss": loss per epoch, "recorded": [that layer's output at each training
    step], "predicted": its output in `predict`}.
    """
    import keras

    keras.utils.set_random_seed(seed)
    x = np.asarray(x)
    inputs = keras.Input(tuple(input_shape[1:]))
    outputs = watched = inputs
    recorder = None
    for index, entry in enumerate(spec):
        outputs = _spec_layer(entry)(outputs)
        if index == watch:
            recorder = _recorder((len(x), *outputs.shape[1:]))
            outputs = watched = recorder(outputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    steps = []

    def keep(batch, logs=None):
        steps.append(keras.ops.convert_to_numpy(recorder.seen))

    history = model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=len(x),
        shuffle=False,
        verbose=0,
        callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=keep)],
    )
    predicted = keras.Model(inputs, watched).predict(x, batch_size=len(x), verbose=0)
    return {
        "loss": [float(v) for v in history.history["loss"]],
        "recorded": steps,
        "predicted": predicted,
    }


OPERATIONS.update({fn.__name__: fn for fn in (outcome, repeated_calls, fit_recording)})


# --- added with lesson 06 ------------------------------------------------------------------------


def cubic_terms(spec, x):
    """The test function of `numerical_gradient_of` at `x` (float64), from its `spec`:
    sum(a * x**3 + b * x**2 + c * x) + sum(w * x) ** 2, with arrays a, b, c, w of x's shape."""
    x = np.asarray(x, dtype=np.float64)
    a, b, c, w = (np.asarray(spec[key], dtype=np.float64) for key in "abcw")
    return float(np.sum(a * x**3 + b * x**2 + c * x)) + float(np.sum(w * x)) ** 2


def numerical_gradient_of(target, spec, x, **kwargs):
    """`target(f, x, **kwargs)`: a student's numerical-gradient function, called on the cubic
    test function f of `spec` (see `cubic_terms`) at a float64 copy of `x`.

    f accepts only arrays of x's shape. Returns {"gradient": what target returned,
    "x_after": the array x as the call left it, "calls": how many times f was evaluated}.
    """
    x = np.array(x, dtype=np.float64)
    shape, calls = x.shape, [0]

    def f(value):
        array = np.asarray(value)
        if array.shape != shape:
            raise ValueError(
                f"f takes an array of the shape of x, {shape}; it was given shape {array.shape}"
            )
        calls[0] += 1
        return cubic_terms(spec, array)

    gradient = target(f, x, **kwargs)
    return {"gradient": gradient, "x_after": x, "calls": calls[0]}


def _call_guarded_again(fn, *args, **kwargs):
    """`fn(*args, **kwargs)` under the whole guard of the running operation (its hits count as
    the operation's), even inside an `allowing` block; outside an operation: a plain call."""
    from ..guard import forbid
    from .execution import _GUARD

    current = _GUARD.get()
    if current is None:
        return fn(*args, **kwargs)
    names, op_types, hits = current
    with forbid(names, op_types) as inner:
        try:
            return fn(*args, **kwargs)
        finally:
            hits.extend([name for name in inner if name not in hits])


def backward_probe(
    layer, inputs, upstream, backward="conv2d_backward", factors=(1.0, 1.0, 1.0), allow=()
):
    """Gradients of sum(layer(inputs) * upstream) with respect to the inputs and the trainable
    weights, while the function named `backward` in the globals of the layer's `call` (the
    notebook's) is replaced by a spy that calls it and multiplies its i-th result by
    `factors[i]`.

    A layer whose gradient comes from that function shows the factors in its gradients; one
    differentiated by TensorFlow does not. The forward pass and the student's function run
    under the full guard; `allow` names forbidden functions (automatic differentiation) that
    only the operation's own `tape.gradient` may call around them.
    Returns {"output", "inputs", "weights": {name: gradient or None}, "calls": how many times
    the spy ran, "found": whether `call` can see a function of that name at all (when it
    cannot, nothing is replaced)}.
    """
    import tensorflow as tf

    from .execution import allowing

    namespace = getattr(getattr(type(layer), "call", None), "__globals__", None)
    found = isinstance(namespace, dict) and callable(namespace.get(backward))
    original = namespace[backward] if found else None
    calls = [0]

    def spy(*args, **kwargs):
        calls[0] += 1
        results = _call_guarded_again(original, *args, **kwargs)
        if not isinstance(results, tuple | list) or len(results) != len(factors):
            raise ValueError(
                f"{backward} returned {type(results).__name__}; expected a tuple of "
                f"{len(factors)} gradients"
            )
        return tuple(
            tf.convert_to_tensor(result) * factor
            for result, factor in zip(results, factors, strict=True)
        )

    if found:
        namespace[backward] = spy
    try:
        x = tf.convert_to_tensor(inputs)
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = layer(x)
            loss = _loss(outputs, upstream, None)
        variables = list(layer.trainable_weights)
        with allowing(allow):
            grads = tape.gradient(loss, [x, *variables])
    finally:
        if found:
            namespace[backward] = original
    return {
        "output": outputs,
        "inputs": grads[0],
        "weights": {short_name(v): g for v, g in zip(variables, grads[1:], strict=True)},
        "calls": calls[0],
        "found": found,
    }


def fit_from(spec, input_shape, x, y, loss, weights, learning_rate=0.05, epochs=2, batch_size=8):
    """Train the model of `spec` from the given `weights` (in the order of `model.weights`)
    with plain SGD, batches in order (no shuffling), through Keras's compiled training step.
    Returns {"loss": per epoch, "weights": the final weights}."""
    import keras

    model = build_model(spec, input_shape)
    model.set_weights([np.asarray(w) for w in weights])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss=loss)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0)
    return {
        "loss": [float(v) for v in history.history["loss"]],
        "weights": [keras.ops.convert_to_numpy(w) for w in model.weights],
    }


for _operation in (numerical_gradient_of, backward_probe, fit_from):
    OPERATIONS[_operation.__name__] = _operation


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

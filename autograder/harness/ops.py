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


# --- added with lesson 09 (transfer learning) ----------------------------------------------------
#
# Lesson 09's checks work on a pretrained base and on models around it. The base and every model
# a check builds around a student's function live where the student's code runs (the sandbox
# when grading): these operations make them there from the course package, change them only as a
# trusted workflow step would, and report their variables, optimizer and outputs as data.


def pretrained_base(near=None):
    """A new copy of the course's pretrained base (`course.pretrained.load_base()`).

    `near` is any student object, unused: it only makes the check's request go where the
    student's objects live (an operation without a student object would run in the grader,
    and a Keras model sent on from there would arrive as its config, without its weights).
    """
    from course import pretrained

    return pretrained.load_base()


def variables(target, values: bool = True) -> list[dict]:
    """Every weight of `target` (a layer or model), in order, with its full path.

    Each entry: {"path", "shape", "trainable", "flag"} and, when `values`, "value" (a NumPy
    copy). "trainable" says whether training `target` would update the weight: it is among
    `target.trainable_weights`, which is empty when `target` or a layer around the weight is
    frozen, whatever the weight's own flag ("flag") says. Unlike `weights`, the path tells
    apart the many "kernel"s of a model.
    """
    import keras

    trainable = {id(w) for w in target.trainable_weights}
    found = []
    for w in target.weights:
        entry = {
            "path": str(getattr(w, "path", w.name)),
            "shape": tuple(int(d) for d in w.shape),
            "trainable": id(w) in trainable,
            "flag": bool(w.trainable),
        }
        if values:
            entry["value"] = np.array(keras.ops.convert_to_numpy(w), copy=True)
        found.append(entry)
    return found


def set_trainable(model, trainable: bool, from_layer: str | None = None) -> None:
    """`model.trainable = trainable`; with `from_layer`, the layers before the layer of that
    name are then frozen again (a trusted `unfreeze_from`)."""
    model.trainable = bool(trainable)
    if from_layer is not None:
        names = [layer.name for layer in model.layers]
        for layer in model.layers[: names.index(from_layer)]:
            layer.trainable = False


def _trusted_layers():
    """The layer classes of this module's trusted models (defined on first use: keras is
    imported lazily here)."""
    global _TRUSTED
    if _TRUSTED is None:
        import keras

        class MirrorInTraining(keras.layers.Layer):
            """Reverses the width axis when training is true or None (the default is True, as
            for Keras's RandomFlip); identity otherwise. A deterministic stand-in for an
            augmentation that remembers, call by call, whether it mirrored (`flips()`)."""

            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.mirrored = []

            def call(self, inputs, training=True):
                mirror = True if training is None else bool(training)
                self.mirrored.append(mirror)
                return keras.ops.flip(inputs, axis=2) if mirror else inputs

            def flips(self):
                return [bool(flag) for flag in self.mirrored]

            def compute_output_shape(self, input_shape):
                return tuple(input_shape)

        class TrustedTransferModel(keras.Model):
            """preprocess_input -> base (inference mode) -> GlobalAveragePooling2D -> Dense."""

            def __init__(self, base, num_classes, **kwargs):
                super().__init__(**kwargs)
                self.base = base
                self.pool = keras.layers.GlobalAveragePooling2D()
                self.classifier = keras.layers.Dense(num_classes, activation="softmax")

            def call(self, images, training=False):
                from course import pretrained

                features = self.base(pretrained.preprocess_input(images), training=False)
                return self.classifier(self.pool(features))

        _TRUSTED = {"mirror": MirrorInTraining, "transfer": TrustedTransferModel}
    return _TRUSTED


_TRUSTED = None


def mirror_layer(near=None):
    """A layer that mirrors images left to right when called with training true (by default)
    and passes them through otherwise, and whose method `flips()` lists, call by call, whether
    it mirrored: a predictable augmentation for checking models. `near`: as for
    `pretrained_base`."""
    return _trusted_layers()["mirror"]()


def transfer_model(base, num_classes: int, seed: int = 0, input_shape=(28, 28, 1)):
    """A correct transfer model on `base` (its head's weights drawn with `seed`), built by a
    call on one blank image of `input_shape`: what a student's training functions get to train."""
    import keras

    keras.utils.set_random_seed(seed)
    model = _trusted_layers()["transfer"](base, int(num_classes))
    model(np.zeros((1, *input_shape), "float32"))
    return model


def compile_fit(model, x, y, learning_rate=1e-2, epochs=5, batch_size=16, seed=0) -> dict:
    """Compile `model` (Adam, sparse categorical cross-entropy, accuracy) and fit it on (x, y),
    as a correct training step would; return its loss per epoch."""
    import keras

    keras.utils.set_random_seed(seed)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return {"loss": [float(v) for v in history.history["loss"]]}


def optimizer_state(model) -> dict | None:
    """The optimizer `model` was last compiled with: {"class", "learning_rate", "iterations"}
    (iterations: the training steps it has taken), or None when not compiled."""
    import keras

    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    rate = optimizer.learning_rate
    return {
        "class": type(optimizer).__name__,
        "learning_rate": float(keras.ops.convert_to_numpy(rate)) if rate is not None else None,
        "iterations": int(keras.ops.convert_to_numpy(optimizer.iterations)),
    }


def predict_through_model(layer, x, batch_size: int = 32):
    """`keras.Sequential([Input, layer]).predict(x)`: the layer as Keras runs it at inference."""
    import keras

    model = keras.Sequential([keras.Input(tuple(np.shape(x)[1:])), layer])
    return model.predict(np.asarray(x), batch_size=batch_size, verbose=0)


def set_seed(seed: int) -> None:
    """`keras.utils.set_random_seed(seed)` where the student's code runs."""
    import keras

    keras.utils.set_random_seed(int(seed))


for _operation in (
    pretrained_base,
    variables,
    set_trainable,
    mirror_layer,
    transfer_model,
    compile_fit,
    optimizer_state,
    predict_through_model,
    set_seed,
):
    OPERATIONS[_operation.__name__] = _operation

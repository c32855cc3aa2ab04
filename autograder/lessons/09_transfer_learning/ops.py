"""Lesson 09's operations: the pretrained base and models around it, trusted workflow steps."""

from functools import cache

import numpy as np


def pretrained_base(near=None):
    """A new copy of the course's pretrained base. `near`, any student object, is unused: it
    sends the request where the student's objects live (a model made in the grader would arrive
    there as its config, without its weights)."""
    from course import pretrained

    return pretrained.load_base()


def variables(target, values: bool = True) -> list[dict]:
    """Every weight of `target`, in order: {"path", "shape", "trainable", "flag"} and, when
    `values`, "value" (a copy). "trainable": whether training `target` would update it (frozen
    layers around it hide it, whatever its own "flag"). The path tells the many "kernel"s apart.
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


@cache
def _trusted_layers():
    """The trusted layer classes, defined on first use (keras is imported lazily here)."""
    import keras

    class MirrorInTraining(keras.layers.Layer):
        """Reverses the width when training is true or None (default True, as RandomFlip's),
        else passes the images on; `flips()` lists, call by call, whether it mirrored.

        Only eager calls count: a model's first call is traced in a scratch graph to build it
        (compute_output_spec), where a layer called without `training` gets its default, True,
        whatever the model's flag. `self.augmentation(x)` is correct Keras: that is no flip."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.mirrored = []

        def call(self, inputs, training=True):
            import tensorflow as tf

            mirror = True if training is None else bool(training)
            if tf.executing_eagerly():
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

    return {"mirror": MirrorInTraining, "transfer": TrustedTransferModel}


def mirror_layer(near=None):
    """A predictable augmentation for checking models (`MirrorInTraining`). `near`: as for
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


def compile_fit(model, x, y, learning_rate=1e-2, epochs=5, batch_size=16, seed=0) -> None:
    """Compile `model` (Adam, sparse categorical cross-entropy, accuracy) and fit it on (x, y),
    as a correct training step would."""
    import keras

    keras.utils.set_random_seed(seed)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)


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


def compiled_loss(model, labels, probabilities) -> dict:
    """{"value": the mean of the loss `model` was compiled with on (labels, probabilities), or
    None (no loss, or it raised), "error": what it raised, or None}."""
    import keras

    loss = getattr(model, "loss", None)
    if loss is None or getattr(model, "optimizer", None) is None:
        return {"value": None, "error": None}
    try:
        values = keras.losses.get(loss)(np.asarray(labels), np.asarray(probabilities, "float32"))
        return {"value": float(np.mean(keras.ops.convert_to_numpy(values))), "error": None}
    except Exception as error:  # noqa: BLE001 - the student's loss failing is the data asked for
        from ...harness.student_errors import describe

        found = describe(error)
        return {"value": None, "error": f"{found.type}: {found.message[:160]}"}


def same_object(value, expected) -> dict:
    """Whether `value` (what a function returned) is the object `expected`, and its type."""
    return {"same": value is expected, "type": type(value).__name__}


def error_of(fn, *args) -> dict | None:
    """Call `fn(*args)` expecting it to raise: None when it returns, else the error's type
    name, whether it is a ValueError, and its message."""
    try:
        fn(*args)
    except Exception as error:  # noqa: BLE001 - the student's error is the data asked for
        return {
            "type": type(error).__name__,
            "value_error": isinstance(error, ValueError),
            "message": str(error)[:200],
        }
    return None


def predict_through_model(layer, x, batch_size: int = 32):
    """`keras.Sequential([Input, layer]).predict(x)`: the layer as Keras runs it at inference."""
    import keras

    model = keras.Sequential([keras.Input(tuple(np.shape(x)[1:])), layer])
    return model.predict(np.asarray(x), batch_size=batch_size, verbose=0)


OPERATIONS = (
    pretrained_base,
    variables,
    set_trainable,
    mirror_layer,
    transfer_model,
    compile_fit,
    optimizer_state,
    compiled_loss,
    same_object,
    error_of,
    predict_through_model,
)


__all__ = [operation.__name__ for operation in OPERATIONS]


def prepare() -> None:
    """Build the trusted layers now, before any student code runs."""
    _trusted_layers()

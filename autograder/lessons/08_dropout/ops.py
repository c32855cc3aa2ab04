"""Operations added with lesson 08: refusals, repeated calls, masks recorded while training."""

__all__ = ["outcome", "repeated_calls", "fit_recording"]

import numpy as np

from ...harness.ops.layers import build_layer


def outcome(target, *args, **kwargs) -> dict:
    """How `target(*args, **kwargs)` ends, as data, for checks that expect student code to
    refuse bad arguments: {"raised": None} when it returns, else {"raised": the exception's
    type name, "message": its first line, "stub": whether it is an exercise's
    `raise NotImplementedError()` placeholder}. What it returns is dropped."""
    from ...harness.student_errors import describe

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


OPERATIONS = (
    outcome,
    repeated_calls,
    fit_recording,
)

"""Operations added with lesson 08: refusals, masks recorded while training, and what a layer
shows on one of the catalogue's probes."""

__all__ = ["outcome", "fit_recording", "dropout_probe", "traced_mask_shape"]

import numpy as np

from ...harness.ops.layers import fit, gradients, keeps_first_draw, repeated_calls


def outcome(target, *args, **kwargs) -> dict:
    """How `target(*args, **kwargs)` ends, for checks of refusals: {"raised": None} if it returns,
    else the exception's type name ("raised"), its first line ("message") and whether it is an
    exercise's placeholder ("stub")."""
    from ...harness.student_errors import describe

    try:
        target(*args, **kwargs)
    except Exception as exc:
        error = describe(exc)
        return {"raised": error.type, "message": error.message, "stub": error.stub}
    return {"raised": None}


def fit_recording(
    spec, input_shape, x, y, loss, watch=0, epochs=3, learning_rate=0.01, seed=0
) -> dict:
    """Train the model of `spec` (the `fit` operation) on all of `x` at once, one step per epoch:
    {"loss": loss per epoch, "recorded": [what layer number `watch` of `spec` outputs inside
    Keras's compiled training step, at each step]}."""
    import keras

    class Recorder(keras.layers.Layer):
        """An identity layer that keeps a copy of its inputs of the last training step."""

        def build(self, input_shape):
            shape = (len(x), *input_shape[1:])
            self.seen = self.add_weight(shape=shape, initializer="zeros", trainable=False)

        def call(self, inputs, training=None):
            if training:
                self.seen.assign(inputs)
            return inputs

    recorder = Recorder(trainable=False)
    steps = []

    def keep(batch, logs=None):
        steps.append(keras.ops.convert_to_numpy(recorder.seen))

    spec = [*spec[: watch + 1], (recorder, (), {}), *spec[watch + 1 :]]
    record = keras.callbacks.LambdaCallback(on_train_batch_end=keep)
    result = fit(spec, input_shape, x, y, loss, learning_rate=learning_rate, epochs=epochs,
                 batch_size=len(x), seed=seed, shuffle=False, callbacks=[record])  # fmt: skip
    return {"loss": result["loss"], "recorded": steps}


def dropout_probe(cls, probe):
    """What the layer class `cls` gives on one probe of lesson 08's catalogue (see its
    `mistakes.dropout_probes`), as an array: for kinds that call the layer twice, both calls
    stacked; for "rate_one", NaN when the output or its gradient is (or the call raises); for
    "spatial_noise_shape", the layer's noise_shape with None as -1 (None if it has none)."""
    import keras

    kind = probe["kind"]
    if kind == "spatial_noise_shape":
        shape = cls(0.3).noise_shape
        if not isinstance(shape, tuple | list):
            return None
        return [-1 if n is None else int(n) for n in shape]
    x, rate = probe["x"], probe["rate"]
    kwargs = {"seed": probe["seed"]}
    if probe.get("noise_shape") is not None:
        kwargs["noise_shape"] = probe["noise_shape"]
    if kind == "spatial_first":
        kwargs["data_format"] = "channels_first"
    layer = cls(rate, **kwargs)

    def stack(outputs):
        return np.stack([keras.ops.convert_to_numpy(o).astype(np.float64) for o in outputs])

    if kind == "train":
        return stack([layer(x, training=True), layer(x, training=True)])
    if kind == "compiled":
        return stack(repeated_calls(layer, x, times=2, training=True, compiled=True))
    if kind in ("infer", "spatial_infer"):
        return stack([layer(x), layer(x, training=False)])
    if kind == "seed":
        return stack([layer(x, training=True), cls(rate, **kwargs)(x, training=True)])
    if kind == "draws":
        return np.array([keeps_first_draw(layer, x)], dtype=np.float64)
    if kind == "rate_one":
        try:
            result = gradients(layer, x, upstream=np.ones_like(x), training=True)
        except Exception:  # a ZeroDivisionError, say: not zeros either
            return np.array([np.nan])
        grad = result["inputs"]
        if grad is not None and not np.isfinite(keras.ops.convert_to_numpy(grad)).all():
            return np.full(x.shape, np.nan)
        return stack([result["output"]])[0]
    return stack([layer(x, training=True)])[0]  # noise, spatial, spatial_first


def traced_mask_shape(mask_shape, input_shape, noise_shape):
    """What `mask_shape(ops.shape(inputs), noise_shape)` gives inside a tf.function traced as
    model.fit traces a layer, the batch size unknown (a scalar tensor in ops.shape): ints, and
    None for a size known only when data arrives."""
    import tensorflow as tf
    from keras import ops

    found = {}

    def trace(inputs):
        shape = mask_shape(ops.shape(inputs), noise_shape)
        values = [tf.get_static_value(v) if tf.is_tensor(v) else v for v in shape]
        found["shape"] = [None if v is None else int(v) for v in values]
        return inputs

    spec = tf.TensorSpec((None, *input_shape[1:]), "float32")
    # Without autograph, an error's traceback ends in the student's own line, not in code
    # autograph generated (which feedback would show as theirs).
    tf.function(trace, input_signature=[spec], autograph=False).get_concrete_function()
    return found["shape"]


OPERATIONS = (outcome, fit_recording, dropout_probe, traced_mask_shape)

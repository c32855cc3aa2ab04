"""Operations added with lesson 07: stateful calls step by step, training and reporting every
layer, a training-mode call traced as model.fit traces it, the dtypes of batch_statistics."""

__all__ = ["call_steps", "train_model", "traced_training_shape", "statistics_dtypes"]


import numpy as np

from ...harness.ops.layers import _instance, assign, build_model, short_name, weight_values


def call_steps(layer, batches, training=None, mask=None):
    """Call `layer` on each array of `batches` in turn, passing `training` and `mask` when
    they are not None (one mask for every batch).

    A layer with state (batch normalization's moving statistics) changes from call to call;
    this records every step. Returns {"outputs": [output of each call], "weights": [{short
    name: value} of the layer's weights after each call]}.
    """
    outputs, states = [], []
    kwargs = {} if training is None else {"training": training}
    if mask is not None:
        kwargs["mask"] = mask
    for batch in batches:
        outputs.append(layer(batch, **kwargs))
        states.append(weight_values(layer))
    return {"outputs": outputs, "weights": states}


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


def traced_training_shape(target, input_shape, args=(), kwargs=None) -> tuple:
    """The static output shape of the layer (or a new one of the class) called with
    training=True inside a tf.function traced for `input_shape` with the batch size unknown,
    as model.fit calls it (a last batch smaller than the others makes fit trace it so): the
    shared `traced_output_shape` calls it in inference mode only."""
    import tensorflow as tf

    layer = _instance(target, args, kwargs)
    found = {}

    def trace(inputs):
        outputs = layer(inputs, training=True)
        found["shape"] = tuple(outputs.shape)
        return outputs

    spec = tf.TensorSpec((None, *input_shape[1:]), "float32")
    tf.function(trace, input_signature=[spec]).get_concrete_function()
    return found["shape"]


def statistics_dtypes(fn, x) -> list:
    """`fn(x)` (a batch_statistics) with `x` as a tensor, as BatchNormalization passes it: for
    each result, its dtype if it is a tensor, None if it is a NumPy value or anything else (a
    result that is not a tuple or list gives [])."""
    import keras

    result = fn(keras.ops.convert_to_tensor(x))
    if not isinstance(result, tuple | list):
        return []
    return [
        None
        if isinstance(value, np.ndarray | np.generic) or not hasattr(value, "dtype")
        else keras.backend.standardize_dtype(value.dtype)
        for value in result
    ]


OPERATIONS = (call_steps, train_model, traced_training_shape, statistics_dtypes)

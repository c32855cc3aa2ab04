"""Operations added with lesson 07."""

__all__ = ["call_steps", "train_model", "statistics_dtypes"]


import numpy as np

from ...harness.ops.layers import assign, build_model, weight_values

WEIGHT_NAMES = ("gamma", "beta", "moving_mean", "moving_variance")


def call_steps(layer, batches, training=None, mask=None):
    """Call `layer` on each of `batches` in turn (`training` and one `mask`, unless None):
    {"outputs": [output of each call], "weights": [{short name: value} after each call],
    "replaced": [the attributes gamma, beta, moving_mean, moving_variance now holding a tensor,
    not a variable]}."""
    import keras

    outputs, states = [], []
    kwargs = {} if training is None else {"training": training}
    if mask is not None:
        kwargs["mask"] = mask
    for batch in batches:
        outputs.append(layer(batch, **kwargs))
        states.append(weight_values(layer))
    held = {name: getattr(layer, name, None) for name in WEIGHT_NAMES}
    replaced = [n for n, v in held.items() if keras.ops.is_tensor(v) and not hasattr(v, "assign")]
    return {"outputs": outputs, "weights": states, "replaced": replaced}


def train_model(
    spec, input_shape, x, y, loss, initial, evaluate, seed, learning_rate, epochs, batch_size
):
    """Train the model of `spec` with SGD, unshuffled, from `initial` ({short name: value} or
    None per layer), so that models of different classes take the same steps. Returns {"loss":
    per epoch, "layers": [{short name: value}], "predictions": on `evaluate`, inference mode}."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build_model(spec, input_shape)
    layers = model.layers[1:] if len(model.layers) > len(spec) else model.layers
    for layer, values in zip(layers, initial, strict=True):
        if values:
            assign(layer, values)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss=loss)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0)
    predictions = model(evaluate, training=False)  # before the weights: it may change them
    return {
        "loss": [float(v) for v in history.history["loss"]],
        "layers": [weight_values(layer) for layer in layers],
        "predictions": predictions,
    }


def statistics_dtypes(fn, x) -> list:
    """The dtype of each result of `fn(x)` on `x` as a tensor (None for a NumPy value or
    anything else; [] for a result that is not a tuple or list)."""
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


OPERATIONS = (call_steps, train_model, statistics_dtypes)

"""Operations added with lesson 11: a residual block's sublayers read and set by name, the block
saved and loaded, and what a trained network predicts."""

import numpy as np

SUBLAYERS = ("conv1", "bn1", "conv2", "bn2", "projection", "projection_bn")
_CONV = ("filters", "kernel_size", "strides", "padding", "use_bias")
_BN = ("momentum", "epsilon")


def _plain(value):
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value if isinstance(value, bool | int | float | str | type(None)) else repr(value)


def block_structure(block) -> dict:
    """Per sublayer name of the notebook: "missing" (no such attribute), None, or its class
    name, the configuration entries the block fixes, and its weights' shapes in order."""
    found = {}
    for name in SUBLAYERS:
        if not hasattr(block, name):
            found[name] = "missing"
            continue
        layer = getattr(block, name)
        if layer is None:
            found[name] = None
            continue
        config = layer.get_config() if hasattr(layer, "get_config") else {}
        keys = _CONV if "filters" in config else _BN
        found[name] = {
            "class": type(layer).__name__,
            "config": {k: _plain(config.get(k)) for k in keys},
            "weights": [tuple(int(d) for d in w.shape) for w in getattr(layer, "weights", [])],
        }
    return found


def assign_sublayers(block, values: dict) -> None:
    """`getattr(block, name).set_weights(arrays)` for each name and list of arrays."""
    for name, arrays in values.items():
        getattr(block, name).set_weights([np.asarray(a) for a in arrays])


def save_and_load(block, x) -> dict:
    """A model of `block` alone saved to a `.keras` file and loaded again (the block's class
    given as a custom object): both models' outputs on `x` at inference, and the loaded
    block's class name."""
    import os
    import tempfile

    import keras

    cls = type(block)
    model = keras.Sequential([keras.Input(tuple(np.shape(x)[1:])), block])
    before = model.predict(np.asarray(x), verbose=0)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "block.keras")
        model.save(path)
        loaded = keras.models.load_model(path, custom_objects={cls.__name__: cls})
    after = loaded.predict(np.asarray(x), verbose=0)
    return {"before": before, "after": after, "class": type(loaded.layers[-1]).__name__}


def residual_blocks_in(model, cls) -> int:
    """How many layers of `model`, at any depth, are instances of `cls`."""
    return sum(isinstance(layer, cls) for layer in model._flatten_layers(include_self=False))


def loss_from_logits(model) -> bool:
    """Whether the loss `model` was compiled with takes its inputs for logits
    (`from_logits=True` in a `keras.losses.Loss`'s configuration)."""
    loss = getattr(model, "loss", None)
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    return bool(isinstance(config, dict) and config.get("from_logits"))


def class_probabilities(model, x) -> np.ndarray:
    """`model.predict(x)` at inference, in batches of 256, as float32."""
    return np.asarray(model.predict(np.asarray(x), batch_size=256, verbose=0), dtype="float32")


OPERATIONS = (
    block_structure,
    assign_sublayers,
    save_and_load,
    residual_blocks_in,
    loss_from_logits,
    class_probabilities,
)

__all__ = [operation.__name__ for operation in OPERATIONS]

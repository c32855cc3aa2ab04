"""The library `solutions.layers`: saved models load anywhere, and what Keras's own tests
(tests/solutions/test_keras_suite.py) leave out or only skim holds too."""

import subprocess
import sys
import textwrap
import warnings

import keras
import numpy as np
import pytest

import solutions.layers
from solutions.layers import (
    AveragePooling2D,
    Conv2D,
    Dense,
    Dropout,
    GlobalAveragePooling2D,
    MaxPooling2D,
    ResidualBlock,
    SpatialDropout2D,
    ZeroPadding2D,
)

ALL = [getattr(solutions.layers, name) for name in solutions.layers.__all__]


def every_layer_model():
    return keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            ZeroPadding2D(((1, 0), (2, 1))),
            Conv2D(4, 3, strides=2, padding="same", activation="relu"),
            ResidualBlock(6, strides=2),
            Conv2D(4, 2, dilation_rate=2, padding="full"),
            MaxPooling2D(2, strides=1, padding="same"),
            AveragePooling2D((2, 1)),
            SpatialDropout2D(0.3, seed=1),
            GlobalAveragePooling2D(keepdims=True),
            Dropout(0.2, noise_shape=(None, 1, 1, None), seed=2),
            Dense(5, activation="softmax"),
        ]
    )


def test_every_layer_is_registered_under_the_course_package():
    for name, cls in zip(solutions.layers.__all__, ALL, strict=True):
        assert keras.saving.get_registered_name(cls) == f"cnn_course>{name}"
        assert keras.saving.get_registered_object(f"cnn_course>{name}") is cls


def test_a_saved_model_loads_in_a_fresh_process_without_custom_objects(tmp_path):
    model = every_layer_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(4, 12, 12, 3)).astype("float32")
    model.fit(x, np.eye(5)[[0, 1, 2, 3]].reshape(4, 1, 1, 5), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", keras.ops.convert_to_numpy(model(x)))
    script = textwrap.dedent(
        f"""
        import keras, numpy as np
        import solutions.layers
        model = keras.models.load_model({str(tmp_path / "m.keras")!r})
        x, y = np.load({str(tmp_path / "x.npy")!r}), np.load({str(tmp_path / "y.npy")!r})
        np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), y, atol=1e-6)
        assert [type(layer).__module__.split(".")[0] for layer in model.layers] == (
            ["solutions"] * {len(model.layers)}
        )
        print("loaded", len(model.layers), "layers")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"loaded {len(model.layers)} layers" in done.stdout


@pytest.mark.parametrize(
    "make",
    [
        lambda: Conv2D(3, 3, padding="same"),
        lambda: Conv2D(3, 3, strides=2, padding="same"),
        lambda: Conv2D(3, 2, dilation_rate=2, padding="full"),
        lambda: ZeroPadding2D(2),
        lambda: MaxPooling2D(2, padding="same"),
        lambda: AveragePooling2D(2, padding="same"),
        lambda: GlobalAveragePooling2D(),
        lambda: Dense(3),
    ],
)
def test_mixed_precision_computes_in_float16_and_keeps_float32_weights(make):
    layer = make()
    layer = type(layer).from_config({**layer.get_config(), "dtype": "mixed_float16"})
    out = layer(np.ones((2, 7, 7, 2), "float32"))
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in layer.weights)


def test_dense_passes_a_mask_on_like_keras_and_does_not_warn():
    tokens = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    outputs = {}
    for dense in (Dense, keras.layers.Dense):
        embedding = keras.layers.Embedding(5, 3, mask_zero=True)
        layer = dense(2)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            mask = layer.compute_mask(embedding(tokens), embedding.compute_mask(tokens))
            outputs[dense] = keras.ops.convert_to_numpy(mask)
    np.testing.assert_array_equal(outputs[Dense], outputs[keras.layers.Dense])
    np.testing.assert_array_equal(outputs[Dense], tokens != 0)


def test_dense_fixes_its_input_width_once_built():
    layer = Dense(2)
    layer(keras.Input((3,)))
    with pytest.raises(ValueError, match="incompatible with the layer"):
        layer(keras.Input((4,)))


def test_dense_without_activation_after_construction():
    layer = Dense(2, activation="relu", kernel_initializer="ones", bias_initializer="ones")
    layer.activation = None
    np.testing.assert_allclose(layer(-np.ones((1, 3), "float32")), [[-2.0, -2.0]])


def test_dense_loads_a_legacy_store_with_numbered_keys():
    """The float32 part of Keras's test_legacy_load_own_variables (the rest is quantized)."""
    layer = Dense(16)
    layer.build((None, 8))
    rng = np.random.default_rng(0)
    store = {"0": rng.random((8, 16), "float32"), "1": rng.random((16,), "float32")}
    layer.load_own_variables(store)
    np.testing.assert_allclose(layer.kernel, store["0"])
    np.testing.assert_allclose(layer.bias, store["1"])


@pytest.mark.parametrize(
    "kwargs, input_shape",
    [
        ({"kernel_size": 5}, (1, 4, 6, 2)),
        ({"kernel_size": (2, 3), "dilation_rate": 3}, (1, 6, 4, 2)),
    ],
)
def test_conv2d_refuses_a_kernel_larger_than_its_input(kwargs, input_shape):
    """As recent Keras does (3.10 let an output of size zero through)."""
    x = np.ones(input_shape, "float32")
    with pytest.raises(ValueError, match="Computed output size would be"):
        Conv2D(2, **kwargs)(x)
    with pytest.raises(ValueError, match="Computed output size would be"):
        Conv2D(2, **kwargs)(keras.Input(input_shape[1:]))
    assert Conv2D(2, **kwargs, padding="same")(x).shape == input_shape[:3] + (2,)


def test_conv2d_fixes_its_channels_once_built():
    layer = Conv2D(2, 3)
    layer(keras.Input((5, 5, 3)))
    with pytest.raises(ValueError, match="incompatible with the layer"):
        layer(keras.Input((5, 5, 4)))


@pytest.mark.parametrize(
    "name, args",
    [
        ("MaxPooling2D", ()),
        ("AveragePooling2D", (2,)),
        ("GlobalAveragePooling2D", ()),
        ("Dropout", (0.5,)),
        ("SpatialDropout2D", (0.5,)),
    ],
)
def test_stateless_layers_are_built_at_construction_like_keras(name, args):
    assert getattr(keras.layers, name)(*args).built
    assert getattr(solutions.layers, name)(*args).built


REFUSED = [
    (lambda: Conv2D(4, 3, groups=2), "groups"),
    (lambda: Conv2D(4, 3, data_format="channels_first"), "data_format"),
    (lambda: ZeroPadding2D(data_format="channels_first"), "data_format"),
    (lambda: MaxPooling2D(data_format="channels_first"), "data_format"),
    (lambda: AveragePooling2D(2, data_format="channels_first"), "data_format"),
    (lambda: GlobalAveragePooling2D(data_format="channels_first"), "data_format"),
    (lambda: Conv2D(4, 3, lora_rank=2), "lora_rank"),
    (lambda: Dense(4, lora_rank=2), "lora_rank"),
]


@pytest.mark.parametrize("make, word", REFUSED)
def test_unsupported_features_are_refused_in_keras_style(make, word):
    with pytest.raises(ValueError) as refused:
        make()
    message = str(refused.value)
    assert word in message and "Received" in message or "Unrecognized keyword" in message
    assert "lesson" not in message


def test_channels_first_as_keras_default_is_refused_not_ignored():
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        for make in (lambda: Conv2D(2, 3), ZeroPadding2D, MaxPooling2D, GlobalAveragePooling2D):
            with pytest.raises(ValueError, match="channels_last"):
                make()
    finally:
        keras.config.set_image_data_format(previous)


@pytest.mark.parametrize("cls", [Conv2D, Dense])
def test_lora_and_quantization_are_refused(cls):
    layer = cls(2, 1) if cls is Conv2D else cls(2)
    layer.build((None, 3, 3, 2) if cls is Conv2D else (None, 2))
    with pytest.raises(AttributeError, match="enable_lora"):
        layer.enable_lora(2)
    with pytest.raises(NotImplementedError, match="quantize"):
        layer.quantize("int8")


def test_keras_messages_for_bad_conv2d_arguments():
    cases = [
        ({"kernel_size": (1, 0)}, "The `kernel_size` argument must be a tuple of 2 integers"),
        ({"kernel_size": 2, "strides": (1, 0)}, "The `strides` argument must be a tuple of 2"),
        ({"kernel_size": 2, "strides": 2, "dilation_rate": 2}, "not supported in conjunction"),
        ({"kernel_size": 2, "groups": 0}, "The number of groups must be a positive integer"),
        ({"kernel_size": 2, "groups": 2, "filters": 5}, "must be evenly divisible"),
    ]
    for kwargs, message in cases:
        kwargs = {"filters": 2, **kwargs}
        for conv in (Conv2D, keras.layers.Conv2D):
            with pytest.raises(ValueError, match=message):
                conv(**kwargs)


def test_docstrings_say_what_is_not_supported():
    for cls in ALL:
        doc = cls.__doc__
        assert "Not supported" in doc or "Everything" in doc, cls.__name__

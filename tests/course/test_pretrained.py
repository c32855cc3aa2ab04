"""The pretrained base ships with the course, loads offline and scores what its record says."""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

from course import pretrained
from course.data import DIGIT_FONTS, EXTRA_FONTS


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_the_weights_and_their_record_are_package_data():
    assert pretrained.WEIGHTS.is_file() and pretrained.RECORD.is_file()
    record = pretrained.record()
    assert record["weights_bytes"] == pretrained.WEIGHTS.stat().st_size
    assert record["weights_bytes"] < 3 * 2**20  # "at most a few MB"
    assert record["source_task"]["classes"] == pretrained.SOURCE_CLASSES
    assert record["base"]["layers"] == [layer.name for layer in pretrained.build_base().layers[1:]]


def test_the_shipped_base_loads_offline_and_scores_what_training_recorded(offline):
    record = pretrained.record()
    correct, total = pretrained.source_accuracy()
    assert total == record["source_test"]["total"] == record["source_task"]["test"]["images"]
    # Another CPU may round a few borderline images the other way; 3 of 3,000 is the margin.
    assert abs(correct - record["source_test"]["correct"]) <= 3, (correct, record["source_test"])


def test_load_base_gives_independent_copies_of_the_pretrained_weights(offline):
    first, second = pretrained.load_base(), pretrained.load_base()
    assert first is not second and first.name == pretrained.BASE_NAME
    assert first.output.shape[1:] == (7, 7, pretrained.WIDTHS[-1])
    for a, b in zip(first.weights, second.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    first.trainable = False
    first.get_layer("block1_conv").kernel.assign(np.zeros((3, 3, 1, pretrained.WIDTHS[0])))
    assert second.trainable and np.abs(np.asarray(second.get_layer("block1_conv").kernel)).sum() > 0
    fresh = pretrained.build_base()
    assert not np.array_equal(np.asarray(fresh.weights[0]), np.asarray(second.weights[0]))


def test_preprocess_input_maps_pixels_to_minus_one_one():
    x = np.array([0.0, 0.25, 1.0], "float32")
    np.testing.assert_allclose(pretrained.preprocess_input(x), [-1.0, -0.5, 1.0])
    symbolic = pretrained.preprocess_input(keras.Input((28, 28, 1)))
    assert tuple(symbolic.shape) == (None, 28, 28, 1)


def test_source_and_target_tasks_share_no_class_and_no_font():
    assert not set(pretrained.SOURCE_CLASSES) & set(pretrained.TARGET_CLASSES)
    assert not set(pretrained.TARGET_FONTS) & set(DIGIT_FONTS)
    assert set(pretrained.TARGET_FONTS) == set(EXTRA_FONTS)
    x, y = pretrained.target_data(40, seed=3)
    assert x.shape == (40, 28, 28, 1) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [4] * len(pretrained.TARGET_CLASSES)
    again, _ = pretrained.target_data(40, seed=3)
    np.testing.assert_array_equal(x, again)
    with pytest.raises(ValueError, match="split"):
        pretrained.source_data("validation")


def test_the_training_script_writes_weights_and_a_record_like_the_shipped_ones(tmp_path):
    # In a process of its own: the script turns on TensorFlow's deterministic ops for good.
    command = [sys.executable, "-m", "course.pretrained.train", "--out", str(tmp_path)]
    command += ["--epochs", "1", "--train-images", "240", "--test-images", "48"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "source test accuracy" in result.stdout
    written = json.loads((tmp_path / pretrained.RECORD.name).read_text())
    assert set(written) == set(pretrained.record())
    assert written["source_task"]["train"]["images"] == 240
    assert written["source_test"]["total"] == 48
    model = pretrained.build_source_model()
    model.load_weights(tmp_path / pretrained.WEIGHTS.name)


def test_a_missing_keras_application_says_how_to_get_it(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert not pretrained.keras_application_cached("MobileNetV2")
    hint = pretrained.keras_application_hint("MobileNetV2")
    assert "\n" not in hint and str(tmp_path) in hint and "MobileNetV2(" in hint
    with pytest.raises(pretrained.WeightsUnavailable, match="not in the Keras cache"):
        pretrained.keras_application("MobileNetV2")
    with pytest.raises(ValueError, match="name"):
        pretrained.keras_application_path("ResNet50")


def test_a_cached_keras_application_loads_from_the_cache(tmp_path, monkeypatch, offline):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    path = pretrained.keras_application_path("MobileNetV2")
    path.parent.mkdir(parents=True)
    stand_in = keras.applications.MobileNetV2(
        input_shape=(96, 96, 3), include_top=False, weights=None
    )
    # Keras caches application weights in the legacy HDF5 layout; write random ones that way.
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, stand_in)
    model = pretrained.keras_application("MobileNetV2")
    assert model.output.shape[1:] == (3, 3, 1280)
    np.testing.assert_array_equal(np.asarray(model.weights[0]), np.asarray(stand_in.weights[0]))

import sys

import keras
import numpy as np
import scipy.signal
from keras import ops

from autograder.guard import forbid

X = np.random.default_rng(0).normal(size=(1, 5, 5, 2)).astype("float32")
K = np.random.default_rng(1).normal(size=(3, 3, 2, 4)).astype("float32")


def test_renamed_keras_op_is_caught():
    from keras.ops import conv as my_helper

    with forbid() as hits:
        my_helper(X, K)
    assert hits and hits[0] == "keras.ops.conv"


def test_keras_conv2d_layer_is_caught():
    layer = keras.layers.Conv2D(4, 3)
    with forbid() as hits:
        layer(X)
    assert hits


def test_tensorflow_and_scipy_and_numpy_are_caught():
    import tensorflow as tf

    for fn in (
        lambda: tf.nn.conv2d(X, K, strides=1, padding="VALID"),
        lambda: scipy.signal.correlate2d(X[0, :, :, 0], K[:, :, 0, 0], mode="valid"),
        lambda: np.convolve([1.0, 2.0], [1.0]),
    ):
        with forbid() as hits:
            fn()
        assert hits


def test_matmul_einsum_and_slicing_are_allowed():
    with forbid() as hits:
        ops.matmul(ops.reshape(X, (-1, 2)), ops.ones((2, 3)))
        np.einsum("ij,jk->ik", np.ones((2, 2)), np.ones((2, 2)))
        ops.stack([X[:, :3], X[:, 1:4]], axis=0)
    assert hits == []


def test_previous_profiler_is_restored():
    def marker(*args):
        return None

    sys.setprofile(marker)
    try:
        with forbid():
            pass
        assert sys.getprofile() is marker
    finally:
        sys.setprofile(None)


def test_builtin_patch_extraction_is_caught():
    with forbid() as hits:
        ops.image.extract_patches(X, (2, 2))
    assert hits

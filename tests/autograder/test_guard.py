import sys

import keras
import numpy as np
import scipy.signal
from keras import ops

from autograder.builtin_ops import CONVOLUTION_OPS
from autograder.guard import forbid

X = np.random.default_rng(0).normal(size=(1, 5, 5, 2)).astype("float32")
K = np.random.default_rng(1).normal(size=(3, 3, 2, 4)).astype("float32")


def test_renamed_keras_op_is_caught():
    from keras.ops import conv as my_helper

    with forbid(CONVOLUTION_OPS) as hits:
        my_helper(X, K)
    assert hits and hits[0] == "keras.ops.conv"


def test_keras_conv2d_layer_is_caught():
    layer = keras.layers.Conv2D(4, 3)
    with forbid(CONVOLUTION_OPS) as hits:
        layer(X)
    assert hits


def test_tensorflow_and_scipy_and_numpy_are_caught():
    import tensorflow as tf

    for fn in (
        lambda: tf.nn.conv2d(X, K, strides=1, padding="VALID"),
        lambda: scipy.signal.correlate2d(X[0, :, :, 0], K[:, :, 0, 0], mode="valid"),
        lambda: np.convolve([1.0, 2.0], [1.0]),
    ):
        with forbid(CONVOLUTION_OPS) as hits:
            fn()
        assert hits


def test_matmul_einsum_and_slicing_are_allowed():
    with forbid(CONVOLUTION_OPS) as hits:
        ops.matmul(ops.reshape(X, (-1, 2)), ops.ones((2, 3)))
        np.einsum("ij,jk->ik", np.ones((2, 2)), np.ones((2, 2)))
        ops.stack([X[:, :3], X[:, 1:4]], axis=0)
    assert hits == []


def test_previous_profiler_is_restored():
    def marker(*args):
        return None

    sys.setprofile(marker)
    try:
        with forbid(CONVOLUTION_OPS):
            pass
        assert sys.getprofile() is marker
    finally:
        sys.setprofile(None)


def test_builtin_patch_extraction_is_caught():
    with forbid(CONVOLUTION_OPS) as hits:
        ops.image.extract_patches(X, (2, 2))
    assert hits


def test_builtin_framing_is_caught():
    # Sliding windows along an axis: two frames of rows give an im2col.
    import tensorflow as tf

    with forbid(CONVOLUTION_OPS) as hits:
        tf.signal.frame(X, 2, 1, axis=1)
    assert "tensorflow.signal.frame" in hits
    with forbid(CONVOLUTION_OPS) as hits:
        ops.extract_sequences(X[0, :, :, 0], 2, 1)
    assert hits


# --- graph functions traced before the guard started (in an earlier cell) ----------------------


def _traced(fn, *args):
    """A tf.function of `fn`, traced and run once now, outside any guard."""
    import tensorflow as tf

    function = tf.function(fn, autograph=False)
    function(*args)
    return function


def test_a_convolution_traced_before_the_guard_is_caught_when_called():
    import tensorflow as tf

    conv = _traced(lambda x, k: tf.nn.conv2d(x, k, 1, "VALID"), X, K)
    with forbid(CONVOLUTION_OPS) as hits:
        conv(X, K)
    assert "TensorFlow op Conv2D" in hits


def test_a_traced_function_nested_in_another_is_read_too():
    import tensorflow as tf

    inner = _traced(
        lambda x, k: tf.image.extract_patches(x, [1, 2, 2, 1], [1] * 4, [1] * 4, "VALID"), X, K
    )
    outer = _traced(lambda x, k: inner(x, k) * 2.0, X, K)
    with forbid(CONVOLUTION_OPS) as hits:
        outer(X, K)
    assert "TensorFlow op ExtractImagePatches" in hits


def test_a_forbidden_python_function_shows_in_the_ops_it_traced():
    # Padding makes no op type of its own (Pad is what honest code makes too): the op's
    # creation stack still names tf.pad.
    import tensorflow as tf

    pad = _traced(lambda x: tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), X)
    with forbid(("tensorflow.pad",)) as hits:
        pad(X)
    assert hits == ["tensorflow.pad (in a traced tf.function)"]


def test_a_keras_layer_traced_before_the_guard_is_caught():
    import tensorflow as tf

    layer = keras.layers.Conv2D(4, 3)
    layer(X)
    call = tf.function(lambda x: layer(x))
    call(X)
    with forbid(("keras.ops.conv",)) as hits:
        call(X)
    assert hits


def test_ops_without_a_recorded_stack_are_read_too():
    # tf.map_fn's loop makes ops TensorFlow keeps no Python stack for; their types still count
    import tensorflow as tf

    pool = _traced(lambda a: tf.map_fn(lambda v: tf.nn.max_pool2d(v[None], 2, 2, "VALID")[0], a), X)
    with forbid(("tensorflow.nn.max_pool2d",), ("MaxPool",)) as hits:
        pool(X)
    assert "TensorFlow op MaxPool" in hits


def test_a_tf_data_pipeline_built_before_the_guard_is_read_when_it_runs():
    # a map over a variable the student's code fills with the inputs, consumed in the check
    import tensorflow as tf

    holder = tf.Variable(X)
    pipeline = tf.data.Dataset.range(1).repeat().map(lambda _: tf.nn.conv2d(holder, K, 1, "VALID"))
    steps = iter(pipeline.batch(1))
    for consume in (lambda: next(steps), lambda: pipeline.take(1).get_single_element()):
        with forbid(CONVOLUTION_OPS) as hits:
            consume()
        assert "TensorFlow op Conv2D" in hits


def test_an_honest_traced_function_is_not_reported():
    import tensorflow as tf

    honest = _traced(lambda x: tf.reduce_sum(x[:, 1:, :, :] * 2.0, axis=-1), X)
    with forbid(CONVOLUTION_OPS) as hits:
        honest(X)
    assert hits == []


def test_python_run_by_tensorflow_is_never_allowed():
    import tensorflow as tf

    with forbid(()) as hits:
        tf.py_function(lambda x: x * 2, [X], tf.float32)
    assert "TensorFlow op EagerPyFunc" in hits


def test_prepared_names_hold_when_a_module_is_rebound():
    import scipy.signal

    from autograder import grader_modules, guard

    original = scipy.signal.correlate2d
    guard.prepare([guard.ForbiddenOps("test", ("scipy.signal.correlate2d",), "")])
    try:
        scipy.signal.correlate2d = lambda *a, **k: None  # a later cell rebinds the name
        with forbid(("scipy.signal.correlate2d",)) as hits:
            original(X[0, :, :, 0], K[:, :, 0, 0])
        assert hits
    finally:
        scipy.signal.correlate2d = original
        guard._PREPARED = None
        guard._WATCHLISTS.clear()
        grader_modules._FIXED = None


def test_a_scipy_1d_correlation_row_by_row_is_caught():
    import scipy.ndimage

    with forbid(CONVOLUTION_OPS) as hits:
        for row in X[0, :, :, 0]:
            scipy.ndimage.correlate1d(row, [1.0, 2.0])
    assert hits


def test_a_renamed_module_does_not_hide_its_functions():
    """A module's `__name__` can be changed without any audit event: the guard must not rely
    on it to skip a frame."""
    import inspect

    module = inspect.getmodule(inspect.unwrap(np.pad))
    name = module.__name__
    with forbid(["numpy.pad"]):  # what is watched is settled before the student's code runs
        pass
    try:
        module.__name__ = "renamed"
        with forbid(["numpy.pad"]) as hits:
            np.pad(np.ones((2, 2)), 1)
    finally:
        module.__name__ = name
    assert hits == ["numpy.pad"]

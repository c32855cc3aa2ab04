"""Lesson 02's checks pass every correct implementation and hold their tolerances over 20 seeds.

The implementations below are written independently of solutions/, in the styles students
use: loops, einsum, shifted slices, float32 or float64, NumPy or keras.ops.
"""

import dataclasses

import keras
import numpy as np
import pytest
from keras import ops

from autograder import lessons
from autograder.checks import convolution as checks
from autograder.compare import compare
from autograder.feedback import CheckFailed
from solutions.convolution import Conv2D as ReferenceConv2D
from solutions.convolution import im2col as reference_im2col
from tests.autograder.lessons.conv_styles import einsum_offsets, tensordot_positions

cases = lessons.module("02_convolution", "cases")

# --- independent cross_correlate2d -------------------------------------------------------------


def correlate_loops(x, kernel):
    x, kernel = np.asarray(x, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    out = np.empty((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (x[i : i + kh, j : j + kw] * kernel).sum()
    return out


def correlate_float32_slices(x, kernel):
    x = np.asarray(x, np.float32)
    kernel = np.asarray(kernel, np.float32)
    kh, kw = kernel.shape
    oh, ow = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = np.zeros((oh, ow), np.float32)
    for m in range(kh):
        for n in range(kw):
            out += kernel[m, n] * x[m : m + oh, n : n + ow]
    return out


def correlate_keras_ops(x, kernel):
    x = ops.convert_to_tensor(np.asarray(x, np.float32))
    kernel = np.asarray(kernel, np.float32)
    kh, kw = kernel.shape
    oh, ow = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    terms = [x[m : m + oh, n : n + ow] * float(kernel[m, n]) for m in range(kh) for n in range(kw)]
    return ops.sum(ops.stack(terms), axis=0)


CORRELATES = [correlate_loops, correlate_float32_slices, correlate_keras_ops]

# --- independent im2col ------------------------------------------------------------------------


def im2col_windows(x, kernel_size):
    x = np.asarray(x)
    windows = np.lib.stride_tricks.sliding_window_view(x, kernel_size, axis=(1, 2))
    windows = windows.transpose(0, 1, 2, 4, 5, 3)  # batch, i, j, m, n, c
    return windows.reshape(*windows.shape[:3], -1)


def im2col_loops(x, kernel_size):
    x = np.asarray(x)
    kh, kw = kernel_size
    b, h, w, c = x.shape
    out = np.empty((b, h - kh + 1, w - kw + 1, kh * kw * c), x.dtype)
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            out[:, i, j] = x[:, i : i + kh, j : j + kw, :].reshape(b, -1)
    return out


IM2COLS = [im2col_windows, im2col_loops]

# --- independent Conv2D ------------------------------------------------------------------------


class EinsumConv2D(ReferenceConv2D):
    """Sum over kernel offsets of an einsum on shifted slices."""

    def call(self, inputs):
        return einsum_offsets(self, inputs)


class PositionLoopConv2D(ReferenceConv2D):
    """One tensordot per output position, stacked back into a grid."""

    def call(self, inputs):
        return tensordot_positions(self, inputs)


class NumpyConv2D(ReferenceConv2D):
    """Right numbers, but computed in NumPy: no gradient can flow through it."""

    def call(self, inputs):
        x = ops.convert_to_numpy(inputs)
        kernel = ops.convert_to_numpy(self.kernel)
        windows = np.lib.stride_tricks.sliding_window_view(x, self.kernel_size, axis=(1, 2))
        out = np.einsum("bhwcmn,mncf->bhwf", windows, kernel)
        if self.use_bias:
            out = out + ops.convert_to_numpy(self.bias)
        return self.activation(ops.convert_to_tensor(out))


for cls in (EinsumConv2D, PositionLoopConv2D, NumpyConv2D):
    cls.__name__ = "Conv2D"

CONVS = [ReferenceConv2D, EinsumConv2D, PositionLoopConv2D]


@pytest.mark.parametrize("fn", CORRELATES, ids=lambda f: f.__name__)
def test_cross_correlate2d_checks_pass_correct_code(fn):
    checks.check_hand_example(fn)
    checks.check_cross_correlate2d(fn)
    checks.check_cross_correlate2d(fn, hidden=True)


@pytest.mark.parametrize("fn", IM2COLS, ids=lambda f: f.__name__)
def test_im2col_checks_pass_correct_code(fn):
    checks.check_im2col(fn)
    checks.check_im2col(fn, hidden=True)


@pytest.mark.parametrize("cls", CONVS, ids=["reference", "einsum", "position_loop"])
def test_conv2d_checks_pass_correct_code(cls):
    checks.check_conv2d_contract(cls)
    checks.check_conv2d_matches_keras(cls)
    checks.check_conv2d_matches_keras(cls, hidden=True)
    checks.check_conv2d_trains(cls)


def test_numpy_conv2d_gets_the_numbers_but_cannot_train():
    checks.check_conv2d_matches_keras(NumpyConv2D)
    with pytest.raises(CheckFailed, match="gradient|fit"):
        checks.check_conv2d_trains(NumpyConv2D)


@pytest.mark.parametrize("seed", range(20))
def test_cross_correlate2d_tolerance_holds_over_seeds(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(1, 17, size=2)
    kh, kw = rng.integers(1, h + 1), rng.integers(1, w + 1)
    kh, kw = min(kh, 7), min(kw, 7)
    x, kernel = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
    expected = correlate_loops(x, kernel)
    for fn in CORRELATES[1:]:
        assert compare(fn(x, kernel), expected, cases.CROSS_CORRELATE_TOL) is None


@pytest.mark.parametrize("seed", range(20))
def test_conv2d_tolerance_holds_over_seeds(seed):
    rng = np.random.default_rng(100 + seed)
    h, w = rng.integers(3, 13, size=2)
    kh, kw = rng.integers(1, min(h, 5) + 1), rng.integers(1, min(w, 5) + 1)
    channels, filters = int(rng.integers(1, 17)), int(rng.integers(1, 9))
    shape = (int(rng.integers(1, 4)), int(h), int(w), channels)
    x, kernel, bias = cases.random_conv(shape, filters, (int(kh), int(kw)), seed)
    keras_layer = checks.CONV2D.reference(
        (filters, (kh, kw)), {}, shape, {"kernel": kernel, "bias": bias}
    )
    expected = keras_layer(x)
    for cls in (ReferenceConv2D, EinsumConv2D):
        layer = cls(filters, (int(kh), int(kw)))
        layer.build(shape)
        layer.set_weights([kernel, bias])
        assert compare(layer(x), np.asarray(expected), cases.CONV2D_TOL) is None


def test_keras_conv2d_itself_is_refused():
    class Conv2D(keras.layers.Conv2D):
        pass

    with pytest.raises(CheckFailed, match="built-in convolution"):
        checks.check_conv2d_matches_keras(Conv2D)


def test_untouched_stubs_fail_with_advice():
    def stub(*args):
        raise NotImplementedError()

    for check in (checks.check_hand_example, checks.check_cross_correlate2d, checks.check_im2col):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(stub)


def test_nan_output_is_named():
    def nan_correlate(x, kernel):
        out = correlate_loops(x, kernel)
        out[0, 0] = np.nan
        return out

    with pytest.raises(CheckFailed, match="NaN"):
        checks.check_cross_correlate2d(nan_correlate)


def test_output_in_the_images_integer_dtype_is_caught():
    """An output made like the image (np.zeros_like(x)) rounds the sums of an integer image:
    exact on the worked example (all integers), wrong on the hidden integer image."""

    def correlate_like_image(x, kernel):
        x, kernel = np.asarray(x), np.asarray(kernel)
        kh, kw = kernel.shape
        out = np.zeros_like(x[: x.shape[0] - kh + 1, : x.shape[1] - kw + 1])
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(x[i : i + kh, j : j + kw] * kernel)
        return out

    checks.check_hand_example(correlate_like_image)
    checks.check_cross_correlate2d(correlate_like_image)
    with pytest.raises(CheckFailed, match="of integers"):
        checks.check_cross_correlate2d(correlate_like_image, hidden=True)


def test_a_conv2d_that_reads_the_batch_size_fails_in_model_fit():
    """inputs.shape[0] is None when model.fit's last batch is smaller: the check's fit has one,
    as the notebook's experiment has."""

    class StaticBatchConv2D(ReferenceConv2D):
        def call(self, inputs):
            kh, kw = self.kernel_size
            batch, height, width, _ = inputs.shape
            patches = ops.reshape(
                reference_im2col(inputs, self.kernel_size), (batch, -1, kh * kw * inputs.shape[-1])
            )
            out = ops.matmul(patches, ops.reshape(self.kernel, (-1, self.filters)))
            out = out + self.bias if self.use_bias else out
            out = ops.reshape(out, (batch, height - kh + 1, width - kw + 1, self.filters))
            return self.activation(out)

    StaticBatchConv2D.__name__ = "Conv2D"
    checks.check_conv2d_matches_keras(StaticBatchConv2D, hidden=True)
    with pytest.raises(CheckFailed, match="batch size is None"):
        checks.check_conv2d_trains(StaticBatchConv2D)


def test_conv2d_contract_catches_ignored_weight_arguments():
    class Conv2D(ReferenceConv2D):
        def build(self, input_shape):
            shape = (*self.kernel_size, input_shape[-1], self.filters)
            self.kernel = self.add_weight(name="kernel", shape=shape)
            self.bias = None
            if self.use_bias:
                self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    without = dataclasses.replace(checks.check_conv2d_contract, weight_arguments=None)
    without(Conv2D)  # the contract without the step cannot tell
    with pytest.raises(CheckFailed, match="arguments it was given") as failure:
        checks.check_conv2d_contract(Conv2D)
    details = "\n".join(failure.value.details)
    for word in ("kernel_initializer", "bias_initializer", "kernel_constraint", "2 loss"):
        assert word in details


def test_conv2d_contract_catches_the_kernel_s_arguments_given_to_the_bias():
    """Each weight gets its own regularizer and constraint in the contract's case: a bias made
    with the kernel's regularizer and constraint (an independent review's version) passed when
    every weight got L2(0.5) and 'non_neg'."""

    class Conv2D(ReferenceConv2D):
        def build(self, input_shape):
            shape = (*self.kernel_size, input_shape[-1], self.filters)
            common = {
                "regularizer": self.kernel_regularizer,
                "constraint": self.kernel_constraint,
            }
            self.kernel = self.add_weight(
                name="kernel", shape=shape, initializer=self.kernel_initializer, **common
            )
            self.bias = None
            if self.use_bias:
                self.bias = self.add_weight(
                    name="bias", shape=(self.filters,), initializer=self.bias_initializer, **common
                )

    with pytest.raises(CheckFailed, match="arguments it was given") as failure:
        checks.check_conv2d_contract(Conv2D)
    details = "\n".join(failure.value.details)
    assert "bias_constraint does not reach bias" in details
    assert "do not each reach their own weight" in details


def test_a_bias_started_by_the_kernel_s_initializer_is_told_only_that():
    """The regularizers are judged on the weights' own values: a bias that starts at the
    kernel's value was also told that the regularizers do not reach their weights."""

    class Conv2D(ReferenceConv2D):
        def build(self, input_shape):
            self.bias_initializer = self.kernel_initializer
            super().build(input_shape)

    with pytest.raises(CheckFailed, match="arguments it was given") as failure:
        checks.check_conv2d_contract(Conv2D)
    details = "\n".join(failure.value.details)
    assert "bias_initializer is ignored: bias does not start at 2" in details
    assert "regularizer" not in details.replace("regularizer=", "")


def test_an_output_shape_that_keeps_only_an_unknown_height_fails_the_contract():
    """The notebook says any size may be None and stays None: every contract shape had a known
    width, so code that subtracts from the width unconditionally kept full marks, and a model
    on keras.Input((None, None, C)) could not even be built with it."""

    class Conv2D(ReferenceConv2D):
        def compute_output_shape(self, input_shape):
            kh, kw = self.kernel_size
            sides = list(input_shape[1:3])
            if sides[0] is not None:
                sides[0] -= kh - 1
            return (input_shape[0], sides[0], sides[1] - kw + 1, self.filters)

    with pytest.raises(CheckFailed) as failure:
        checks.check_conv2d_contract(Conv2D)
    assert failure.value.headline.startswith(
        "Conv2D.compute_output_shape((None, 9, None, 3)) raised TypeError"
    )


def test_a_conv2d_that_computes_in_float64_is_told_to_cast_back():
    """Right values in float64, where keras.layers.Conv2D gives float32."""

    class Conv2D(ReferenceConv2D):
        def call(self, inputs):
            x = ops.cast(inputs, "float64")
            kh, kw = self.kernel_size
            patches = reference_im2col(x, (kh, kw))
            kernel = ops.cast(ops.reshape(self.kernel, (kh * kw * x.shape[-1], -1)), "float64")
            out = ops.matmul(patches, kernel)
            if self.use_bias:
                out = out + ops.cast(self.bias, "float64")
            return self.activation(out)

    with pytest.raises(CheckFailed) as failure:
        checks.check_conv2d_matches_keras(Conv2D)
    assert failure.value.headline == "Conv2D returns float64; Keras's Conv2D returns float32."

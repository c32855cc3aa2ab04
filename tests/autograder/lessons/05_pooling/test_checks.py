"""Lesson 05's checks pass every correct implementation and hold their tolerances over 20 seeds.

The implementations below are written independently of solutions/, in the styles students
use: loops over output positions, running maxima over shifted slices, NumPy sliding windows,
windows clipped to the image instead of padded, float32 or float64, NumPy or keras.ops.
"""

import contextlib
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from autograder import lessons, references
from autograder.checks import pooling as checks
from autograder.compare import compare
from autograder.feedback import CheckFailed
from autograder.guard import forbid
from autograder.harness import cases as drawn
from autograder.training import input_gradient
from solutions.pooling import AveragePooling2D as ReferenceAveragePooling2D
from solutions.pooling import GlobalAveragePooling2D as ReferenceGlobalAveragePooling2D
from solutions.pooling import MaxPooling2D as ReferenceMaxPooling2D
from solutions.pooling import pool_windows

cases = lessons.module("05_pooling", "cases")

# --- independent pool_output_size --------------------------------------------------------------


def size_by_counting(size, pool_size, stride, padding):
    """Count the window starts: inside the input ('valid') or on the input ('same')."""
    starts = range(0, size, stride)
    if padding == "valid":
        return sum(1 for start in starts if start + pool_size <= size)
    return len(starts)


def size_with_math(size, pool_size, stride, padding):
    if padding == "valid":
        return math.floor((size - pool_size) / stride) + 1
    return math.ceil(size / stride)


SIZES = [size_by_counting, size_with_math]

# --- independent pool_windows ------------------------------------------------------------------


def _same_padding(n, k, s):
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def windows_loops(x, pool_size, strides, padding="valid", pad_value=0.0):
    """NumPy: pad into a full canvas, then copy window by window."""
    x = np.asarray(x, np.float64)
    (kh, kw), (sh, sw) = pool_size, strides
    b, h, w, c = x.shape
    top, bottom = _same_padding(h, kh, sh) if padding == "same" else (0, 0)
    left, right = _same_padding(w, kw, sw) if padding == "same" else (0, 0)
    canvas = np.full((b, h + top + bottom, w + left + right, c), pad_value)
    canvas[:, top : top + h, left : left + w] = x
    out_h, out_w = (canvas.shape[1] - kh) // sh + 1, (canvas.shape[2] - kw) // sw + 1
    out = np.empty((b, out_h, out_w, kh * kw, c))
    for i in range(out_h):
        for j in range(out_w):
            window = canvas[:, i * sh : i * sh + kh, j * sw : j * sw + kw]
            out[:, i, j] = window.reshape(b, kh * kw, c)
    return out


def windows_column_major(x, pool_size, strides, padding="valid", pad_value=0.0):
    """NumPy sliding windows, each window listed column by column (the order is free)."""
    x = np.asarray(x, np.float32)
    (kh, kw), (sh, sw) = pool_size, strides
    if padding == "same":
        widths = [(0, 0), _same_padding(x.shape[1], kh, sh), _same_padding(x.shape[2], kw, sw)]
        x = np.pad(x, [*widths, (0, 0)], constant_values=pad_value)
    view = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    view = view.transpose(0, 1, 2, 5, 4, 3)  # b, i, j, n, m, c
    return view.reshape(*view.shape[:3], kh * kw, x.shape[3])


WINDOWS = [windows_loops, windows_column_major]

# --- independent layers ------------------------------------------------------------------------


def _pad_for(layer, inputs, value):
    (kh, kw), (sh, sw) = layer.pool_size, layer.strides
    if layer.padding == "valid":
        return inputs
    top, bottom = _same_padding(inputs.shape[1], kh, sh)
    left, right = _same_padding(inputs.shape[2], kw, sw)
    return ops.pad(inputs, [(0, 0), (top, bottom), (left, right), (0, 0)], constant_values=value)


class RunningMaxPooling2D(ReferenceMaxPooling2D):
    """A running ops.maximum over the kh * kw strided slices of the padded input."""

    def call(self, inputs):
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        padded = _pad_for(self, inputs, float("-inf"))
        out_h = (padded.shape[1] - kh) // sh + 1
        out_w = (padded.shape[2] - kw) // sw + 1
        best = None
        for m in range(kh):
            for n in range(kw):
                part = padded[
                    :, m : m + (out_h - 1) * sh + 1 : sh, n : n + (out_w - 1) * sw + 1 : sw
                ]
                best = part if best is None else ops.maximum(best, part)
        return best


class PositionLoopMaxPooling2D(ReferenceMaxPooling2D):
    """One ops.max per output position, padded with float32's smallest number; its pairs kept
    as lists (which Keras tracks as a TrackedList)."""

    def __init__(
        self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs
    ):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)
        self.pool_size, self.strides = list(self.pool_size), list(self.strides)

    def call(self, inputs):
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        padded = _pad_for(self, inputs, float(np.finfo(np.float32).min))
        out_h = (padded.shape[1] - kh) // sh + 1
        out_w = (padded.shape[2] - kw) // sw + 1
        rows = []
        for i in range(out_h):
            row = [
                ops.max(padded[:, i * sh : i * sh + kh, j * sw : j * sw + kw], axis=(1, 2))
                for j in range(out_w)
            ]
            rows.append(ops.stack(row, axis=1))
        return ops.stack(rows, axis=1)


class ClippedAveragePooling2D(ReferenceAveragePooling2D):
    """No padding at all: each window is clipped to the image and averaged with ops.mean."""

    reduce = staticmethod(ops.mean)
    padding_of = staticmethod(_same_padding)

    def call(self, inputs):
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        height, width = inputs.shape[1], inputs.shape[2]
        top = self.padding_of(height, kh, sh)[0] if self.padding == "same" else 0
        left = self.padding_of(width, kw, sw)[0] if self.padding == "same" else 0
        out_h = math.ceil(height / sh) if self.padding == "same" else (height - kh) // sh + 1
        out_w = math.ceil(width / sw) if self.padding == "same" else (width - kw) // sw + 1
        rows = []
        for i in range(out_h):
            r0, r1 = max(i * sh - top, 0), min(i * sh - top + kh, height)
            row = []
            for j in range(out_w):
                c0, c1 = max(j * sw - left, 0), min(j * sw - left + kw, width)
                row.append(self.reduce(inputs[:, r0:r1, c0:c1, :], axis=(1, 2)))
            rows.append(ops.stack(row, axis=1))
        return ops.stack(rows, axis=1)


def _unclamped_padding(n, k, s):
    """TensorFlow's 'same' padding without its max(..., 0): negative when the pool is smaller
    than the stride and the last window does not reach the end, which moves every window."""
    total = (math.ceil(n / s) - 1) * s + k - n
    return total // 2, total - total // 2


class UnclampedAveragePooling2D(ClippedAveragePooling2D):
    """Wrong: with 'same' padding, a pool smaller than the stride starts its windows late."""

    padding_of = staticmethod(_unclamped_padding)


class UnclampedMaxPooling2D(UnclampedAveragePooling2D):
    """Wrong in the same way, for max pooling (pool 1, stride 2: rows 1, 3, ... not 0, 2, ...)."""

    reduce = staticmethod(ops.max)


def windows_unclamped(x, pool_size, strides, padding="valid", pad_value=0.0):
    """Wrong: NumPy windows padded by TensorFlow's formula without its max(..., 0)."""
    x = np.asarray(x, np.float32)
    (kh, kw), (sh, sw) = pool_size, strides
    if padding == "same":
        rows, cols = _unclamped_padding(x.shape[1], kh, sh), _unclamped_padding(x.shape[2], kw, sw)
        x = np.pad(x, [(0, 0), rows, cols, (0, 0)], constant_values=pad_value)
    view = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    return view.reshape(*view.shape[:4], kh * kw).transpose(0, 1, 2, 4, 3)


class MaskedAveragePooling2D(ReferenceAveragePooling2D):
    """Sums of strided slices, divided by window counts computed once in NumPy."""

    def call(self, inputs):
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        padded = _pad_for(self, inputs, 0.0)
        mask = np.ones((1, *inputs.shape[1:3], 1), "float32")
        if self.padding == "same":
            rows = _same_padding(inputs.shape[1], kh, sh)
            cols = _same_padding(inputs.shape[2], kw, sw)
            mask = np.pad(mask, [(0, 0), rows, cols, (0, 0)])
        out_h = (padded.shape[1] - kh) // sh + 1
        out_w = (padded.shape[2] - kw) // sw + 1
        total, count = 0.0, 0.0
        for m in range(kh):
            for n in range(kw):
                rows = slice(m, m + (out_h - 1) * sh + 1, sh)
                cols = slice(n, n + (out_w - 1) * sw + 1, sw)
                total = total + padded[:, rows, cols, :]
                count = count + mask[:, rows, cols, :]
        return total / count


class NumpyMaxPooling2D(ReferenceMaxPooling2D):
    """Right numbers, but computed in NumPy: no gradient can flow through it."""

    def call(self, inputs):
        x = ops.convert_to_numpy(inputs)
        windows = windows_loops(x, self.pool_size, self.strides, self.padding, -np.inf)
        return ops.convert_to_tensor(windows.max(axis=3).astype("float32"))


class SumGlobalAveragePooling2D(ReferenceGlobalAveragePooling2D):
    def call(self, inputs):
        total = ops.sum(inputs, axis=(1, 2), keepdims=self.keepdims)
        return total / (inputs.shape[1] * inputs.shape[2])


class RowLoopGlobalAveragePooling2D(ReferenceGlobalAveragePooling2D):
    def call(self, inputs):
        rows = [ops.mean(inputs[:, i], axis=1) for i in range(inputs.shape[1])]
        mean = ops.mean(ops.stack(rows, axis=0), axis=0)
        return ops.reshape(mean, (-1, 1, 1, mean.shape[-1])) if self.keepdims else mean


class NumpyGlobalAveragePooling2D(ReferenceGlobalAveragePooling2D):
    def call(self, inputs):
        x = ops.convert_to_numpy(inputs)
        return ops.convert_to_tensor(x.mean(axis=(1, 2), keepdims=self.keepdims))


for cls, name in (
    (RunningMaxPooling2D, "MaxPooling2D"),
    (PositionLoopMaxPooling2D, "MaxPooling2D"),
    (NumpyMaxPooling2D, "MaxPooling2D"),
    (UnclampedMaxPooling2D, "MaxPooling2D"),
    (UnclampedAveragePooling2D, "AveragePooling2D"),
    (ClippedAveragePooling2D, "AveragePooling2D"),
    (MaskedAveragePooling2D, "AveragePooling2D"),
    (SumGlobalAveragePooling2D, "GlobalAveragePooling2D"),
    (RowLoopGlobalAveragePooling2D, "GlobalAveragePooling2D"),
    (NumpyGlobalAveragePooling2D, "GlobalAveragePooling2D"),
):
    cls.__name__ = name

MAXES = [ReferenceMaxPooling2D, RunningMaxPooling2D, PositionLoopMaxPooling2D]
AVERAGES = [ReferenceAveragePooling2D, ClippedAveragePooling2D, MaskedAveragePooling2D]
GLOBALS = [
    ReferenceGlobalAveragePooling2D,
    SumGlobalAveragePooling2D,
    RowLoopGlobalAveragePooling2D,
]


@pytest.mark.parametrize("fn", SIZES, ids=lambda f: f.__name__)
def test_pool_output_size_checks_pass_correct_code(fn):
    checks.check_pool_output_size(fn)
    checks.check_pool_output_size(fn, hidden=True)


@pytest.mark.parametrize("fn", WINDOWS, ids=lambda f: f.__name__)
def test_pool_windows_checks_pass_correct_code(fn):
    checks.check_pool_windows(fn)
    checks.check_pool_windows(fn, hidden=True)


@pytest.mark.parametrize(
    "max_cls, average_cls",
    list(zip(MAXES, AVERAGES, strict=True)),
    ids=["reference", "running_max+clipped", "position_loop+masked"],
)
def test_layer_checks_pass_correct_code(max_cls, average_cls):
    checks.check_pooling_contract(max_cls, average_cls)
    checks.check_hand_example(max_cls, average_cls)
    checks.check_max_pooling_matches_keras(max_cls)
    checks.check_max_pooling_matches_keras(max_cls, hidden=True)
    checks.check_average_pooling_matches_keras(average_cls)
    checks.check_average_pooling_matches_keras(average_cls, hidden=True)
    checks.check_pooling_trains(max_cls, average_cls)


@pytest.mark.parametrize("cls", GLOBALS, ids=["reference", "sum", "row_loop"])
def test_global_average_pooling_checks_pass_correct_code(cls):
    checks.check_global_average_pooling_contract(cls)
    checks.check_global_average_pooling_matches_keras(cls)
    checks.check_global_average_pooling_matches_keras(cls, hidden=True)


def test_numpy_layers_get_the_numbers_but_no_gradient():
    checks.check_max_pooling_matches_keras(NumpyMaxPooling2D, hidden=True)
    with pytest.raises(CheckFailed, match="gradient|fit"):
        checks.check_pooling_trains(NumpyMaxPooling2D, ReferenceAveragePooling2D)
    with pytest.raises(CheckFailed, match="gradient"):
        checks.check_global_average_pooling_matches_keras(NumpyGlobalAveragePooling2D)


def test_same_padding_of_a_pool_smaller_than_the_stride_is_caught_by_stored_cases():
    """Issue 16: TensorFlow pads max((out - 1) * s + k - n, 0); without the max(..., 0) a pool
    of 1 with stride 2 reads rows 1, 3, ... instead of 0, 2, ... (or np.pad refuses). The
    public cases and the hidden ones stored before hold no such set-up; the new hidden ones do."""
    for check, cls in (
        (checks.check_max_pooling_matches_keras, UnclampedMaxPooling2D),
        (checks.check_average_pooling_matches_keras, UnclampedAveragePooling2D),
    ):
        check(cls)
        with pytest.raises(CheckFailed, match="does not match keras.layers") as failure:
            check(cls, hidden=True)
        assert "padding='same'" in str(failure.value), failure.value
    checks.check_pool_windows(windows_unclamped)
    with pytest.raises(CheckFailed, match="pool_windows raised ValueError"):
        checks.check_pool_windows(windows_unclamped, hidden=True)


class NonzeroAveragePooling2D(ReferenceAveragePooling2D):
    """Wrong: with 'same' padding, counts the nonzero cells of a zero-padded window as its real
    cells, so a real 0 (half the values after a ReLU) is left out of the average."""

    def call(self, inputs):
        windows = pool_windows(inputs, self.pool_size, self.strides, self.padding, 0.0)
        totals = ops.sum(windows, axis=3)
        if self.padding == "valid":
            return totals / (self.pool_size[0] * self.pool_size[1])
        return totals / ops.sum(ops.cast(ops.not_equal(windows, 0.0), windows.dtype), axis=3)


def test_an_average_that_skips_real_zeros_is_caught_by_the_public_cases():
    """Random normal inputs hold no 0, so only the inputs after a ReLU tell this average from
    the right one; before them it lost only the training cell, to a NaN loss."""
    for seed in (None, 0):
        with drawn.fresh(seed) if seed is not None else contextlib.nullcontext():
            with pytest.raises(CheckFailed, match="ReLU-like"):
                checks.check_average_pooling_matches_keras(NonzeroAveragePooling2D)


def windows_divisible_rule(x, pool_size, strides, padding="valid", pad_value=0.0):
    """Wrong: pads max(k - s, 0) cells in all for 'same' (and a stride's worth more after, so
    that the last window fits), TensorFlow's total only when the stride divides the size:
    otherwise every window starts a row or column early."""
    (kh, kw), (sh, sw) = pool_size, strides
    x = ops.convert_to_tensor(x)
    _, height, width, _ = x.shape
    out_h, out_w = (math.ceil(n / s) for n, s in ((height, sh), (width, sw)))
    if padding == "valid":
        out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
    else:
        top, left = max(kh - sh, 0) // 2, max(kw - sw, 0) // 2
        widths = [(0, 0), (top, kh + sh), (left, kw + sw), (0, 0)]
        x = ops.pad(x, widths, constant_values=pad_value)
    taps = [
        x[:, m : m + (out_h - 1) * sh + 1 : sh, n : n + (out_w - 1) * sw + 1 : sw, :]
        for m in range(kh)
        for n in range(kw)
    ]
    return ops.stack(taps, axis=3)


def test_same_padding_by_the_divisible_rule_is_caught_by_the_public_windows():
    """max(k - s, 0) is TensorFlow's total when s divides n; no stored pool_windows case told
    them apart (their first windows started alike) until the public one with 7 rows, pool 3 and
    stride 2."""
    with pytest.raises(CheckFailed, match=r"x \(2, 7, 6, 2\)"):
        checks.check_pool_windows(windows_divisible_rule)


class WidthKnownMaxPooling2D(ReferenceMaxPooling2D):
    """Wrong: keeps an unknown height None, but not an unknown width."""

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        (_, kw), (_, sw) = self.pool_size, self.strides
        out_w = math.ceil(w / sw) if self.padding == "same" else (w - kw) // sw + 1
        return (b, super().compute_output_shape((b, h, 1, c))[1], out_w, c)


def test_an_unknown_width_must_stay_none():
    with pytest.raises(CheckFailed, match=r"\(None, 6, None, 2\)"):
        checks.check_pooling_contract(WidthKnownMaxPooling2D, ReferenceAveragePooling2D)


def test_output_sizes_agree_with_keras_on_a_large_grid():
    for n in range(1, 30):
        for k in range(1, 7):
            for s in range(1, 7):
                for padding in ("valid", "same"):
                    if padding == "valid" and k > n:
                        continue
                    expected = cases.keras_output_size(n, k, s, padding)
                    assert size_by_counting(n, k, s, padding) == expected
                    assert size_with_math(n, k, s, padding) == expected


def test_hand_examples_are_keras_answers():
    for layer, x, expected in (
        (keras.layers.MaxPooling2D(2), cases.HAND_X, cases.HAND_MAX),
        (keras.layers.AveragePooling2D(2), cases.HAND_X, cases.HAND_AVERAGE),
        (keras.layers.MaxPooling2D(2, padding="same"), cases.NEGATIVE_X, cases.NEGATIVE_MAX),
        (
            keras.layers.AveragePooling2D(2, padding="same"),
            cases.NEGATIVE_X,
            cases.NEGATIVE_AVERAGE,
        ),
    ):
        out = np.asarray(layer(x[None, :, :, None].astype("float32")))[0, :, :, 0]
        np.testing.assert_array_equal(out, expected)


def _random_setup(rng):
    h, w = (int(v) for v in rng.integers(1, 14, size=2))
    padding = str(rng.choice(["valid", "same"]))
    kh = int(rng.integers(1, (h if padding == "valid" else 5) + 1))
    kw = int(rng.integers(1, (w if padding == "valid" else 5) + 1))
    kh, kw = min(kh, 5), min(kw, 5)
    strides = None if rng.random() < 0.3 else tuple(int(v) for v in rng.integers(1, 5, size=2))
    shape = (int(rng.integers(1, 4)), h, w, int(rng.integers(1, 9)))
    x = (rng.normal(size=shape) * rng.choice([0.1, 1.0, 10.0])).astype("float32")
    if rng.random() < 0.3:
        x = -np.abs(x) - 0.1
    return x, (kh, kw), strides, padding


@pytest.mark.parametrize("seed", range(20))
def test_layer_tolerances_hold_over_seeds(seed):
    rng = np.random.default_rng(300 + seed)
    x, size, strides, padding = _random_setup(rng)
    for mode, classes, tolerance in (
        ("max", MAXES, cases.MAX_TOL),
        ("average", AVERAGES, cases.AVERAGE_TOL),
    ):
        theirs = cases.keras_layer(mode, size, strides, padding)
        expected = np.asarray(theirs(x))
        weights = rng.normal(size=expected.shape).astype("float32")
        expected_gradient = np.asarray(input_gradient(theirs, x, weights))
        for cls in classes:
            layer = cls(size, strides, padding)
            assert compare(layer(x), expected, tolerance) is None, (cls, mode)
            gradient = input_gradient(layer, x, weights)
            assert compare(gradient, expected_gradient, cases.GRADIENT_TOL) is None, (cls, mode)


@pytest.mark.parametrize("seed", range(20))
def test_windows_and_global_tolerances_hold_over_seeds(seed):
    rng = np.random.default_rng(400 + seed)
    x, size, strides, padding = _random_setup(rng)
    steps = strides or size
    expected = np.sort(windows_loops(x, size, steps, padding, 9.0), axis=3)
    for fn in (windows_column_major, checks_reference_windows):
        got = np.sort(np.asarray(fn(x, size, steps, padding, 9.0)), axis=3)
        assert compare(got, expected, cases.WINDOWS_TOL) is None
    shape = (int(rng.integers(1, 4)), *(int(v) for v in rng.integers(1, 29, size=2)), 4)
    big = (rng.normal(size=shape) * rng.choice([0.1, 1.0, 10.0])).astype("float32")
    keepdims = bool(rng.random() < 0.5)
    wanted = np.asarray(keras.layers.GlobalAveragePooling2D(keepdims=keepdims)(big))
    for cls in GLOBALS:
        assert compare(cls(keepdims=keepdims)(big), wanted, cases.GLOBAL_TOL) is None


def checks_reference_windows(x, pool_size, strides, padding, pad_value):
    from solutions.pooling import pool_windows

    return pool_windows(x, pool_size, strides, padding, pad_value)


# --- the guard ---------------------------------------------------------------------------------

X = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype("float32")
FLAT = np.zeros((2, 2, 3), "float32")  # a flat filter: dilation by it is max pooling


@pytest.mark.parametrize(
    "builtin",
    [
        lambda: ops.max_pool(X, 2),
        lambda: ops.average_pool(X, 2, padding="same"),
        lambda: keras.layers.MaxPooling2D()(X),
        lambda: keras.layers.GlobalAveragePooling2D()(X),
        lambda: tf.nn.max_pool2d(X, 2, 2, "VALID"),
        lambda: tf.nn.avg_pool2d(X, 2, 2, "SAME"),
        lambda: tf.nn.pool(X, (2, 2), "AVG", strides=(2, 2), padding="VALID"),
        lambda: ops.image.extract_patches(X, 2),
        lambda: tf.nn.dilation2d(X, FLAT, (1, 2, 2, 1), "SAME", "NHWC", (1, 1, 1, 1)),
        lambda: tf.nn.erosion2d(X, FLAT, (1, 2, 2, 1), "SAME", "NHWC", (1, 1, 1, 1)),
    ],
    ids=[
        "ops.max_pool",
        "ops.average_pool",
        "MaxPooling2D",
        "GlobalAveragePooling2D",
        "tf.nn.max_pool2d",
        "tf.nn.avg_pool2d",
        "tf.nn.pool",
        "extract_patches",
        "tf.nn.dilation2d",
        "tf.nn.erosion2d",
    ],
)
def test_guard_catches_builtin_pooling(builtin):
    with forbid(checks.POOLING.names) as hits:
        builtin()
    assert hits


def test_guard_allows_the_ops_a_student_needs():
    with forbid(checks.POOLING.names) as hits:
        windows = ops.stack([X[:, ::2, ::2], X[:, 1::2, 1::2]], axis=3)
        ops.max(windows, axis=3)
        ops.mean(X, axis=(1, 2), keepdims=True)
        ops.sum(windows, axis=3)
        ops.maximum(X, 0.0)
        ops.pad(X, [(0, 0), (1, 1), (1, 1), (0, 0)], constant_values=float("-inf"))
        ops.where(X > 0, X, 0.0)
        np.lib.stride_tricks.sliding_window_view(X, (2, 2), axis=(1, 2)).max(axis=(-2, -1))
        np.max(X), np.mean(X)
        ReferenceMaxPooling2D(2, padding="same")(X)
        ReferenceAveragePooling2D(3, 1, "same")(X)
        ReferenceGlobalAveragePooling2D()(X)
    assert hits == []


def test_keras_layers_themselves_are_refused():
    class MaxPooling2D(keras.layers.MaxPooling2D):
        pass

    class AveragePooling2D(keras.layers.AveragePooling2D):
        pass

    class GlobalAveragePooling2D(keras.layers.GlobalAveragePooling2D):
        pass

    with pytest.raises(CheckFailed, match="built-in pooling op"):
        checks.check_max_pooling_matches_keras(MaxPooling2D)
    with pytest.raises(CheckFailed, match="built-in pooling op"):
        checks.check_average_pooling_matches_keras(AveragePooling2D)
    with pytest.raises(CheckFailed, match="built-in pooling op"):
        checks.check_global_average_pooling_matches_keras(GlobalAveragePooling2D)


class DilationMaxPooling2D(ReferenceMaxPooling2D):
    """Morphological dilation with a flat zero filter: max pooling by another name."""

    def call(self, inputs):
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        flat = tf.zeros((ph, pw, inputs.shape[-1]))
        padding = self.padding.upper()
        return tf.nn.dilation2d(inputs, flat, (1, sh, sw, 1), padding, "NHWC", (1, 1, 1, 1))


def test_max_pooling_by_morphological_dilation_is_refused():
    with pytest.raises(CheckFailed, match="built-in pooling op"):
        checks.check_max_pooling_matches_keras(DilationMaxPooling2D)


def test_a_builtin_inside_pool_windows_is_refused():
    def pool_windows(x, pool_size, strides, padding="valid", pad_value=0.0):
        patches = ops.image.extract_patches(x, pool_size, strides, padding=padding)
        return ops.reshape(patches, (*patches.shape[:3], -1, x.shape[-1]))

    with pytest.raises(CheckFailed, match="built-in pooling op"):
        checks.check_pool_windows(pool_windows)


# --- stubs and broken output -------------------------------------------------------------------


def test_untouched_stubs_fail_with_advice():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for check in (checks.check_pool_output_size, checks.check_pool_windows):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(stub)

    class MaxPooling2D(ReferenceMaxPooling2D):
        def call(self, inputs):
            raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        checks.check_max_pooling_matches_keras(MaxPooling2D)


def test_nan_output_is_named():
    def nan_windows(x, pool_size, strides, padding="valid", pad_value=0.0):
        out = windows_loops(x, pool_size, strides, padding, pad_value)
        out[0, 0, 0, 0, 0] = np.nan
        return out

    with pytest.raises(CheckFailed, match="NaN"):
        checks.check_pool_windows(nan_windows)


def test_sizes_must_be_ints_and_a_whole_float_is_told_so():
    """A float size passed here, then cost six cells: pool_windows, the layers' shapes."""
    checks.check_pool_output_size(lambda *args: np.int32(size_with_math(*args)))
    with pytest.raises(CheckFailed, match="the value is right, but not an int"):
        checks.check_pool_output_size(lambda *args: float(size_with_math(*args)))
    with pytest.raises(CheckFailed, match="counts the windows wrongly") as failure:
        checks.check_pool_output_size(lambda *args: str(size_with_math(*args)))
    assert "not an int" not in str(failure.value)


# --- fresh cases, as when grading --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_the_windows_oracle_gives_the_stored_references(kind):
    data = references.load(cases.ASSIGNMENT)
    for index, (_, size, strides, padding, pad_value, _) in enumerate(cases.WINDOWS_CASES[kind]):
        prefix = f"pool_windows/{kind}/{index}"
        expected = cases.expected_windows(data[f"{prefix}/x"], size, strides, padding, pad_value)
        np.testing.assert_array_equal(expected, data[f"{prefix}/out"])


@pytest.mark.parametrize("seed", range(20))
def test_the_windows_oracle_agrees_with_independent_windows(seed):
    rng = np.random.default_rng(500 + seed)
    x, size, strides, padding = _random_setup(rng)
    steps = strides or size
    expected = cases.expected_windows(x, size, steps, padding, -9.0)
    np.testing.assert_array_equal(expected, windows_loops(x, size, steps, padding, -9.0))


@pytest.mark.parametrize("seed", range(20))
def test_disguised_hand_examples_are_keras_answers(seed):
    with drawn.fresh(seed):
        examples = cases.hand_examples()
    for mode, kwargs, x, expected, what, disguise in examples:
        assert "times" in disguise
        if "negative" in what:
            assert (x < 0).all()
        layer = cases.keras_layer(mode, 2, **kwargs)
        out = np.asarray(layer(x[None, :, :, None].astype("float32")))[0, :, :, 0]
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("seed", range(20))
def test_output_size_checks_pass_correct_code_on_fresh_cases(seed):
    with drawn.fresh(seed):
        for fn in SIZES:
            checks.check_pool_output_size(fn)
            checks.check_pool_output_size(fn, hidden=True)


@pytest.mark.parametrize("seed", range(20))
def test_wrong_output_sizes_fail_on_fresh_cases(seed):
    from solutions.mistakes import pooling as wrong

    with drawn.fresh(seed):
        for fn in (wrong.pool_output_size_ceil, wrong.pool_output_size_same_keeps_size):
            for hidden in (False, True):
                with pytest.raises(CheckFailed, match="Likely mistake"):
                    checks.check_pool_output_size(fn, hidden=hidden)


def test_a_table_of_the_stored_output_sizes_fails_when_grading():
    answers = {
        case: cases.keras_output_size(*case)
        for kind in ("public", "hidden")
        for case in cases.OUTPUT_SIZE_CASES[kind]
    }

    def lookup(*case):
        return answers.get(case, 1)

    checks.check_pool_output_size(lookup)
    checks.check_pool_output_size(lookup, hidden=True)
    for hidden in (False, True):
        with drawn.fresh(5), pytest.raises(CheckFailed, match="counts the windows wrongly"):
            checks.check_pool_output_size(lookup, hidden=hidden)


@pytest.mark.parametrize("seed", range(10))
def test_pool_windows_checks_pass_correct_code_on_fresh_cases(seed):
    with drawn.fresh(seed):
        for fn in WINDOWS:
            checks.check_pool_windows(fn)
            checks.check_pool_windows(fn, hidden=True)


@pytest.mark.parametrize("seed", range(10))
def test_wrong_windows_fail_on_fresh_cases(seed):
    from solutions.mistakes import pooling as wrong

    with drawn.fresh(seed):
        for fn in (wrong.pool_windows_extra_top_left, wrong.pool_windows_zero_pad):
            for hidden in (False, True):
                with pytest.raises(CheckFailed, match="Likely mistake"):
                    checks.check_pool_windows(fn, hidden=hidden)


@pytest.mark.parametrize("seed", range(2))
def test_layer_checks_pass_correct_code_on_fresh_cases(seed):
    with drawn.fresh(seed):
        for max_cls, average_cls in zip(MAXES, AVERAGES, strict=True):
            checks.check_hand_example(max_cls, average_cls)
            checks.check_max_pooling_matches_keras(max_cls, hidden=True)
            checks.check_average_pooling_matches_keras(average_cls, hidden=True)
        for cls in GLOBALS:
            checks.check_global_average_pooling_matches_keras(cls, hidden=True)


@pytest.mark.parametrize("seed", range(2))
def test_a_model_of_the_reference_layers_learns_on_fresh_data(seed):
    with drawn.fresh(seed):
        checks.check_pooling_trains(ReferenceMaxPooling2D, ReferenceAveragePooling2D)


class StaticBatchGlobalAveragePooling2D(ReferenceGlobalAveragePooling2D):
    """keepdims by reshaping to the static batch size: right on arrays, None inside a model."""

    def call(self, inputs):
        means = ops.mean(inputs, axis=(1, 2))
        if self.keepdims:
            return ops.reshape(means, (inputs.shape[0], 1, 1, inputs.shape[-1]))
        return means


def test_keepdims_by_the_static_batch_size_fails_the_contract():
    checks.check_global_average_pooling_matches_keras(StaticBatchGlobalAveragePooling2D)
    with pytest.raises(CheckFailed) as failure:
        checks.check_global_average_pooling_contract(StaticBatchGlobalAveragePooling2D)
    message = str(failure.value)
    assert message.startswith("GlobalAveragePooling2D(keepdims=True) raised TypeError"), message
    assert "the batch size is None: use keras.ops" in message, message


class StubWhenTracedGlobalAveragePooling2D(StaticBatchGlobalAveragePooling2D):
    """The static-batch layer above, hiding its failure inside model.fit behind the
    exercise's placeholder: it raises NotImplementedError only when traced."""

    def call(self, inputs):
        if inputs.shape[0] is None:
            raise NotImplementedError()
        return super().call(inputs)


def test_a_placeholder_raised_only_when_traced_fails_the_contract():
    with pytest.raises(CheckFailed) as failure:
        checks.check_global_average_pooling_contract(StubWhenTracedGlobalAveragePooling2D)
    message = str(failure.value)
    assert "raised NotImplementedError inside a tf.function, yet runs" in message, message
    assert "the batch size is None: use keras.ops" in message, message


class TypoGlobalAveragePooling2D(ReferenceGlobalAveragePooling2D):
    """An error in call that has nothing to do with tracing: it fails eagerly too."""

    def call(self, inputs):
        return ops.mean(inputs, axis=(1, 2), keepdim=self.keepdims)


def test_an_error_in_call_is_left_to_the_output_checks():
    """The traced step blames tracing only for what runs directly: an error that happens both
    ways costs the cells that compare outputs, not the contract, and says nothing of tracing."""
    checks.check_global_average_pooling_contract(TypoGlobalAveragePooling2D)
    with pytest.raises(CheckFailed) as failure:
        checks.check_global_average_pooling_matches_keras(TypoGlobalAveragePooling2D)
    message = str(failure.value)
    assert "keepdim" in message and "batch size is None" not in message, message


class FinitePadMaxPooling2D(ReferenceMaxPooling2D):
    """'same' borders padded with -100, not -inf: right on every input above -100."""

    def call(self, inputs):
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        if self.padding == "same":
            height, width = inputs.shape[1], inputs.shape[2]
            extra_h = max((-(-height // sh) - 1) * sh + kh - height, 0)
            extra_w = max((-(-width // sw) - 1) * sw + kw - width, 0)
            pads = [(0, 0), (extra_h // 2, extra_h - extra_h // 2)]
            pads += [(extra_w // 2, extra_w - extra_w // 2), (0, 0)]
            inputs = ops.pad(inputs, pads, constant_values=-100.0)
        windows = [
            inputs[:, i::sh, j::sw, :][:, : (inputs.shape[1] - kh) // sh + 1]
            for i in range(kh)
            for j in range(kw)
        ]
        width_out = (inputs.shape[2] - kw) // sw + 1
        return ops.max(ops.stack([w[:, :, :width_out] for w in windows]), axis=0)


def test_a_finite_pad_value_in_max_pooling_is_caught_by_the_public_cases():
    with pytest.raises(CheckFailed, match="far negative"):
        checks.check_max_pooling_matches_keras(FinitePadMaxPooling2D)


def test_right_values_in_float64_are_told_keras_returns_float32():
    """Keras's pooling layers return their compute dtype (float32); a layer whose values are
    right but come out in float64 loses the cell, told only the dtype differs."""

    def float64(base):
        class Float64(base):
            def call(self, inputs):
                return ops.cast(super().call(inputs), "float64")

        Float64.__name__ = base.__name__
        return Float64

    pairs = [
        (checks.check_max_pooling_matches_keras, ReferenceMaxPooling2D),
        (checks.check_average_pooling_matches_keras, ReferenceAveragePooling2D),
        (checks.check_global_average_pooling_matches_keras, ReferenceGlobalAveragePooling2D),
    ]
    for check, base in pairs:
        with pytest.raises(CheckFailed) as failure:
            check(float64(base))
        name = base.__name__
        assert failure.value.headline == f"{name} returns float64; Keras's {name} returns float32."
        assert failure.value.details[-1] == "the values match; only their dtype differs"

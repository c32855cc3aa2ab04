"""Lesson 10's checks pass correct code written unlike the reference, fail subtly wrong code,
and hold their tolerances over 20 seeds.

The independent implementations are written in other styles than solutions/conv_variants.py:
counting loops and fractions for the costs, a search for the transposed size, one strided
slice per kernel tap for the depthwise convolution (no im2col), and a scatter (each tap's
contribution spread, shifted and added) for the transposed convolution (no flipped kernel).
The hand-worked tables are confirmed against Keras here.
"""

import contextlib
import math
from decimal import Decimal
from fractions import Fraction

import keras
import numpy as np
import pytest
from keras import ops

from autograder import lessons, references
from autograder.checks import conv_variants as checks
from autograder.compare import compare
from autograder.feedback import CheckFailed
from autograder.harness import cases as harness_cases
from autograder.harness.remote import LoopbackSession
from solutions import conv_variants as reference

cases = lessons.module("10_conv_variants", "cases")
cost_cases = lessons.module("10_conv_variants", "cost_cases")
catalogue = lessons.module("10_conv_variants", "mistakes")

# --- independent costs -----------------------------------------------------------------------


def conv_parameters(kernel_size, in_channels, filters, use_bias=True):
    shapes = [(*kernel_size, in_channels, filters)] + ([(filters,)] if use_bias else [])
    return sum(math.prod(shape) for shape in shapes)


def separable_parameters(kernel_size, in_channels, filters, depth_multiplier=1, use_bias=True):
    middle = in_channels * depth_multiplier
    shapes = [(*kernel_size, in_channels, depth_multiplier), (1, 1, middle, filters)]
    return sum(math.prod(shape) for shape in shapes) + (filters if use_bias else 0)


def conv_multiplications(output_size, kernel_size, in_channels, filters):
    per_output = math.prod(kernel_size) * in_channels
    return math.prod(output_size) * filters * per_output


def separable_multiplications(output_size, kernel_size, in_channels, filters, depth_multiplier=1):
    middle = in_channels * depth_multiplier
    depthwise = math.prod(output_size) * middle * math.prod(kernel_size)
    return depthwise + math.prod(output_size) * filters * middle


def cost_ratio(kernel_size, in_channels, filters, depth_multiplier=1):
    return float(
        Fraction(depth_multiplier, filters) + Fraction(depth_multiplier, math.prod(kernel_size))
    )


def spatial_multiplications(output_size, kernel_size, separable=False):
    taps = sum(kernel_size) if separable else math.prod(kernel_size)
    return taps * math.prod(output_size)


COSTS = {
    "conv_parameters": conv_parameters,
    "separable_parameters": separable_parameters,
    "conv_multiplications": conv_multiplications,
    "separable_multiplications": separable_multiplications,
    "cost_ratio": cost_ratio,
    "spatial_multiplications": spatial_multiplications,
}

# --- independent sizes and convolutions -------------------------------------------------------


def forward_size(m, k, s, padding):
    """Keras's output size of a convolution along one axis."""
    return -(-m // s) if padding == "same" else (m - k) // s + 1


def transpose_output_size(n, kernel_size, strides=1, padding="valid", output_padding=None):
    """Keras's choice, found by a search: the largest size (below the next stride) whose
    forward convolution gives back n; with output_padding, the size whose pad rule says so."""
    if n is None:
        return None
    k, s = kernel_size, strides
    if output_padding is not None:
        cropped = 2 * (k // 2) if padding == "same" else 0
        return s * (n - 1) + k + output_padding - cropped
    if padding == "same":
        return max(m for m in range(1, n * s + 1) if forward_size(m, k, s, padding) == n)
    return max(n * s, s * (n - 1) + k)


def _pads(n, k, s, d, padding):
    if padding == "valid":
        return (0, 0)
    out = math.ceil(n / s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return (total // 2, total - total // 2)


def depthwise_conv(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1)):
    """One strided slice of the padded input per kernel tap, times that tap's (C, M) weights."""
    x = ops.convert_to_tensor(x)
    kh, kw, channels, multiplier = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation_rate
    pads = [
        _pads(n, k, s, d, padding)
        for n, k, s, d in zip(x.shape[1:3], (kh, kw), strides, dilation_rate, strict=True)
    ]
    x = ops.pad(x, ((0, 0), *pads, (0, 0)))
    oh = (x.shape[1] - dh * (kh - 1) - 1) // sh + 1
    ow = (x.shape[2] - dw * (kw - 1) - 1) // sw + 1
    total = 0
    for m in range(kh):
        for n in range(kw):
            rows = x[:, m * dh : m * dh + (oh - 1) * sh + 1 : sh]
            tap = rows[:, :, n * dw : n * dw + (ow - 1) * sw + 1 : sw]
            total = total + ops.expand_dims(tap, -1) * kernel[m, n]  # (b, oh, ow, C, M)
    return ops.reshape(total, (-1, oh, ow, channels * multiplier))


def conv_transpose(x, kernel, output_size, strides=(1, 1), padding="valid", split=None):
    """Each tap's contribution x @ kernel[m, n].T, spread by the strides, shifted by (m, n)
    and added; the window starts where the forward convolution's padding ends. `split` turns
    the start into a wrong one (the padding's larger half first) for the tests of a subtly
    wrong implementation."""
    x = ops.convert_to_tensor(x)
    kh, kw, filters, _ = kernel.shape
    (sh, sw), (oh, ow) = strides, output_size
    h, w = x.shape[1:3]
    starts = []
    for n_in, n_out, k, s in zip((h, w), output_size, (kh, kw), strides, strict=True):
        total = max((n_in - 1) * s + k - n_out, 0) if padding == "same" else 0
        starts.append(total - total // 2 if split == "ceil" else total // 2)
    full_h, full_w = (h - 1) * sh + kh + oh, (w - 1) * sw + kw + ow
    out = 0
    for m in range(kh):
        for n in range(kw):
            part = ops.einsum("bhwc,fc->bhwf", x, kernel[m, n])
            part = reference.spread(part, strides)
            part = ops.pad(
                part,
                ((0, 0), (m, full_h - m - part.shape[1]), (n, full_w - n - part.shape[2]), (0, 0)),
            )
            out = out + part
    top, left = starts
    return out[:, top : top + oh, left : left + ow]


class SlicedDepthwiseConv2D(reference.DepthwiseConv2D):
    def call(self, inputs):
        out = depthwise_conv(inputs, self.kernel, self.strides, self.padding, self.dilation_rate)
        return self.activation(out + self.bias if self.use_bias else out)


class SlicedSeparableConv2D(reference.SeparableConv2D):
    def call(self, inputs):
        kernel, strides, padding = self.depthwise_kernel, self.strides, self.padding
        middle = depthwise_conv(inputs, kernel, strides, padding, self.dilation_rate)
        out = ops.tensordot(middle, self.pointwise_kernel[0, 0], axes=1)
        return self.activation(out + self.bias if self.use_bias else out)


class ActivatedTwiceSeparableConv2D(SlicedSeparableConv2D):
    """Subtly wrong: the activation also between the depthwise and the pointwise step."""

    def call(self, inputs):
        kernel, strides, padding = self.depthwise_kernel, self.strides, self.padding
        middle = self.activation(
            depthwise_conv(inputs, kernel, strides, padding, self.dilation_rate)
        )
        out = ops.tensordot(middle, self.pointwise_kernel[0, 0], axes=1)
        return self.activation(out + self.bias if self.use_bias else out)


class ScatterConv2DTranspose(reference.Conv2DTranspose):
    def call(self, inputs):
        extra = self.output_padding or (None, None)
        sizes = [
            transpose_output_size(n, k, s, self.padding, p)
            for n, k, s, p in zip(
                inputs.shape[1:3], self.kernel_size, self.strides, extra, strict=True
            )
        ]
        out = conv_transpose(inputs, self.kernel, sizes, self.strides, self.padding)
        return self.activation(out + self.bias if self.use_bias else out)


class SubsampledDepthwiseConv2D(SlicedDepthwiseConv2D):
    """Subtly wrong: filters at stride 1, then keeps every s-th output. Right for 'valid', and
    for 'same' whenever stride s pads as stride 1 does (odd sizes with a 3x3 kernel)."""

    def call(self, inputs):
        out = depthwise_conv(inputs, self.kernel, (1, 1), self.padding, self.dilation_rate)
        out = out[:, :: self.strides[0], :: self.strides[1]]
        return self.activation(out + self.bias if self.use_bias else out)


class SubsampledSeparableConv2D(SlicedSeparableConv2D):
    """Subtly wrong as `SubsampledDepthwiseConv2D`, in the depthwise step."""

    def call(self, inputs):
        kernel, padding = self.depthwise_kernel, self.padding
        middle = depthwise_conv(inputs, kernel, (1, 1), padding, self.dilation_rate)
        middle = middle[:, :: self.strides[0], :: self.strides[1]]
        out = ops.tensordot(middle, self.pointwise_kernel[0, 0], axes=1)
        return self.activation(out + self.bias if self.use_bias else out)


for cls, name in (
    (SubsampledDepthwiseConv2D, "DepthwiseConv2D"),
    (SubsampledSeparableConv2D, "SeparableConv2D"),
    (SlicedDepthwiseConv2D, "DepthwiseConv2D"),
    (SlicedSeparableConv2D, "SeparableConv2D"),
    (ActivatedTwiceSeparableConv2D, "SeparableConv2D"),
    (ScatterConv2DTranspose, "Conv2DTranspose"),
):
    cls.__name__ = name


def _function_checks(depthwise, transpose, size):
    for hidden in (False, True):
        for name, fn in COSTS.items():
            getattr(checks, f"check_{name}")(fn, hidden=hidden)
        checks.check_transpose_output_size(size, hidden=hidden)
        checks.check_depthwise_conv(depthwise, hidden=hidden)
        checks.check_conv_transpose(transpose, hidden=hidden)
        checks.check_conv_transpose_adjoint(transpose, hidden=hidden)


def _layer_checks(depthwise, separable, transpose):
    checks.check_depthwise_contract(depthwise)
    checks.check_separable_contract(separable)
    checks.check_conv_transpose_contract(transpose)
    for hidden in (False, True):
        checks.check_depthwise_matches_keras(depthwise, hidden=hidden)
        checks.check_separable_matches_keras(separable, hidden=hidden)
        checks.check_pointwise_is_dense(separable, hidden=hidden)
        checks.check_conv_transpose_matches_keras(transpose, hidden=hidden)


# --- correct code passes ---------------------------------------------------------------------


def test_independent_functions_pass_the_stored_cases():
    _function_checks(depthwise_conv, conv_transpose, transpose_output_size)


def test_independent_layers_pass_the_stored_cases():
    _layer_checks(SlicedDepthwiseConv2D, SlicedSeparableConv2D, ScatterConv2DTranspose)


@pytest.mark.parametrize("seed", range(20))
def test_independent_functions_pass_fresh_cases(seed):
    """Over 20 draws of the grader's fresh cases: the tolerances hold for another style."""
    with harness_cases.fresh(seed):
        _function_checks(depthwise_conv, conv_transpose, transpose_output_size)


@pytest.mark.parametrize("seed", range(2))
def test_independent_layers_pass_fresh_cases(seed):
    """Keras is asked only what it can compute on this CPU (see the note in cases.py)."""
    with harness_cases.fresh(seed):
        _layer_checks(SlicedDepthwiseConv2D, SlicedSeparableConv2D, ScatterConv2DTranspose)


# --- subtly wrong code loses points ----------------------------------------------------------


def test_transpose_cropped_from_the_wrong_half_fails():
    """'same' padding's larger half taken first: right whenever the padding is even (the
    first two public cases are 'valid', the third's padding is odd)."""
    wrong = lambda *args: conv_transpose(*args, split="ceil")  # noqa: E731
    with pytest.raises(CheckFailed, match="conv_transpose gives the wrong output"):
        checks.check_conv_transpose(wrong)
    with pytest.raises(CheckFailed, match="not the adjoint"):
        checks.check_conv_transpose_adjoint(wrong)


def test_separable_activated_twice_fails():
    checks.check_separable_contract(ActivatedTwiceSeparableConv2D)
    checks.check_pointwise_is_dense(ActivatedTwiceSeparableConv2D)
    with pytest.raises(CheckFailed, match="does not match keras.layers.SeparableConv2D"):
        checks.check_separable_matches_keras(ActivatedTwiceSeparableConv2D)


def test_strided_layers_subsampled_from_stride_1_fail_the_hidden_cases():
    """Stride 1, then every s-th output: the public cases cannot tell (their strided 'same'
    case pads as stride 1 would); the hidden strided 'same' case on even sizes does."""
    for layer, check in (
        (SubsampledDepthwiseConv2D, checks.check_depthwise_matches_keras),
        (SubsampledSeparableConv2D, checks.check_separable_matches_keras),
    ):
        check(layer)
        with pytest.raises(CheckFailed, match="does not match keras.layers"):
            check(layer, hidden=True)


def _size_zero_padding_as_none(n, kernel_size, strides=1, padding="valid", output_padding=None):
    return transpose_output_size(n, kernel_size, strides, padding, output_padding or None)


def _size_pad_rounded_down(n, kernel_size, strides=1, padding="valid", output_padding=None):
    """'same' crops (k - 1) // 2 on each side: right for odd kernels only."""
    if output_padding is None or padding == "valid" or kernel_size % 2:
        return transpose_output_size(n, kernel_size, strides, padding, output_padding)
    return (n - 1) * strides + kernel_size - 2 * ((kernel_size - 1) // 2) + output_padding


def _size_valid_without_max(n, kernel_size, strides=1, padding="valid", output_padding=None):
    """'valid' as (n - 1) s + k: right unless the kernel is smaller than the stride."""
    if n is None or output_padding is not None or padding == "same":
        return transpose_output_size(n, kernel_size, strides, padding, output_padding)
    return (n - 1) * strides + kernel_size


@pytest.mark.parametrize(
    "wrong", [_size_zero_padding_as_none, _size_pad_rounded_down, _size_valid_without_max]
)
def test_a_size_rule_wrong_on_one_kind_of_row_fails_every_draw(wrong):
    """Each row of the size tables stands for a rule or an edge, and its fresh draws keep
    its kind: before, one draw in ten to twenty missed each of these (tried on 40 seeds)."""
    for seed in (None, *range(20)):
        with harness_cases.fresh(seed) if seed is not None else contextlib.nullcontext():
            with pytest.raises(CheckFailed, match="transpose_output_size"):  # the test cell
                checks.check_transpose_output_size(wrong)
                checks.check_transpose_output_size(wrong, hidden=True)


def test_a_cost_ratio_off_by_rounding_fails_and_a_fraction_passes():
    checks.check_cost_ratio(lambda *args: Fraction(*cost_ratio(*args).as_integer_ratio()))
    with pytest.raises(CheckFailed, match="cost_ratio"):
        checks.check_cost_ratio(lambda *args: round(cost_ratio(*args), 3))


def test_built_in_convolutions_are_refused():
    def built_in(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1)):
        return ops.depthwise_conv(x, kernel, strides, padding, dilation_rate=dilation_rate)

    with pytest.raises(CheckFailed, match="built-in convolution"):
        checks.check_depthwise_conv(built_in)

    class Conv2DTranspose(keras.layers.Conv2DTranspose):
        pass

    with pytest.raises(CheckFailed, match="built-in"):
        checks.check_conv_transpose_matches_keras(Conv2DTranspose)


def test_untouched_stubs_fail_with_advice():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for check in (
        *(getattr(checks, f"check_{name}") for name in COSTS),
        checks.check_depthwise_conv,
        checks.check_conv_transpose_adjoint,
    ):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(stub)


# --- the tables are Keras's and the lecture's ------------------------------------------------


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_hand_worked_parameters_are_keras_counts(kind):
    for (size, channels, filters, *rest), expected in cost_cases.CONV_PARAMETERS_CASES[kind]:
        layer = keras.layers.Conv2D(filters, size, use_bias=rest[0] if rest else True)
        layer.build((None, 9, 9, channels))
        assert layer.count_params() == expected
    for (size, channels, filters, *rest), expected in cost_cases.SEPARABLE_PARAMETERS_CASES[kind]:
        multiplier = rest[0] if rest else 1
        use_bias = rest[1] if len(rest) > 1 else True
        layer = keras.layers.SeparableConv2D(
            filters, size, depth_multiplier=multiplier, use_bias=use_bias
        )
        layer.build((None, 9, 9, channels))
        assert layer.count_params() == expected


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_hand_worked_sizes_are_keras_sizes(kind):
    for (n, k, s, padding, output_padding), expected in cases.TRANSPOSE_SIZE_CASES[kind]:
        layer = keras.layers.Conv2DTranspose(
            1,
            (k, 1),
            (s, 1),
            padding,
            output_padding=None if output_padding is None else (output_padding, 0),
        )
        assert layer.compute_output_shape((1, n, 1, 1))[1] == expected


def test_the_lecture_s_numbers_come_out():
    """K K W W against 2 K W W (ratio 2/K) and 1/N + 1/K^2, from the reference's functions."""
    for k in (3, 5, 7):
        full = reference.spatial_multiplications((28, 28), (k, k))
        split = reference.spatial_multiplications((28, 28), (k, k), separable=True)
        assert (full, split) == (k * k * 28 * 28, 2 * k * 28 * 28)
        assert Fraction(split, full) == Fraction(2, k)
    assert reference.cost_ratio((3, 3), 32, 64) == pytest.approx(1 / 64 + 1 / 9)
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(np.outer([1, 2, 1], [-1, 0, 1]), sobel)
    np.testing.assert_array_equal(
        np.outer([3, 4, 5], [1, 2, 3]), [[3, 6, 9], [4, 8, 12], [5, 10, 15]]
    )


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_the_oracles_give_the_stored_answers(kind):
    data = references.load(cases.ASSIGNMENT)
    for index, row in enumerate(cases.DEPTHWISE_CASES[kind]):
        prefix = f"depthwise_conv/{kind}/{index}"
        expected = catalogue.depthwise(data[f"{prefix}/x"], data[f"{prefix}/kernel"], *row[2:5])
        assert compare(data[f"{prefix}/out"], expected, cases.DEPTHWISE_TOL) is None
    for index, row in enumerate(cases.TRANSPOSE_CASES[kind]):
        prefix = f"conv_transpose/{kind}/{index}"
        x, kernel = data[f"{prefix}/x"], data[f"{prefix}/kernel"]
        expected = catalogue.transpose(x, kernel, cases._sizes(row), row[2], row[3])
        assert compare(data[f"{prefix}/out"], expected, cases.TRANSPOSE_TOL) is None


def test_no_variant_matches_the_reference():
    from autograder.diagnosis import first_match

    probes = catalogue.depthwise_probes()
    outputs = [reference.depthwise_conv(*(p[k] for k in cases.DEPTHWISE_ARGUMENTS)) for p in probes]
    assert first_match(outputs, probes, catalogue.DEPTHWISE_VARIANTS) is None
    probes = catalogue.transpose_size_probes()
    sizes = [np.array([reference.transpose_output_size(*c) for c in probes[0]["calls"]], float)]
    assert first_match(sizes, probes, catalogue.TRANSPOSE_SIZE_VARIANTS) is None
    probes = catalogue.transpose_probes()
    outputs = [
        reference.conv_transpose(p["x"], p["kernel"], p["output_size"], p["strides"], p["padding"])
        for p in probes
    ]
    assert first_match(outputs, probes, catalogue.TRANSPOSE_VARIANTS) is None


class StaticBatchDepthwiseConv2D(SlicedDepthwiseConv2D):
    """Subtly wrong: reshapes to inputs.shape[0], which is None inside model.fit."""

    def call(self, inputs):
        out = super().call(inputs)
        return ops.reshape(out, (inputs.shape[0], *out.shape[1:]))


StaticBatchDepthwiseConv2D.__name__ = "DepthwiseConv2D"


def test_a_depthwise_layer_that_reshapes_to_the_static_batch_size_fails_its_contract():
    checks.check_depthwise_matches_keras(StaticBatchDepthwiseConv2D, hidden=True)  # eager: right
    with pytest.raises(CheckFailed, match="the batch size is None"):
        checks.check_depthwise_contract(StaticBatchDepthwiseConv2D)


# --- found by the review of lesson 10 by independent implementations ---------------------------


class Float64DepthwiseConv2D(SlicedDepthwiseConv2D):
    """Subtly wrong: computes in float64 and returns it; Keras's layer returns float32."""

    def call(self, inputs):
        kernel, bias = ops.cast(self.kernel, "float64"), ops.cast(self.bias, "float64")
        x = ops.cast(inputs, "float64")
        out = depthwise_conv(x, kernel, self.strides, self.padding, self.dilation_rate)
        return self.activation(out + bias if self.use_bias else out)


class Float64SeparableConv2D(SlicedSeparableConv2D):
    def call(self, inputs):
        kernel = ops.cast(self.depthwise_kernel, "float64")
        x, dilation = ops.cast(inputs, "float64"), self.dilation_rate
        middle = depthwise_conv(x, kernel, self.strides, self.padding, dilation)
        out = ops.tensordot(middle, ops.cast(self.pointwise_kernel[0, 0], "float64"), axes=1)
        return self.activation(out + ops.cast(self.bias, "float64") if self.use_bias else out)


class Float64Conv2DTranspose(ScatterConv2DTranspose):
    def call(self, inputs):
        return ops.cast(super().call(inputs), "float64")


for cls, name in (
    (Float64DepthwiseConv2D, "DepthwiseConv2D"),
    (Float64SeparableConv2D, "SeparableConv2D"),
    (Float64Conv2DTranspose, "Conv2DTranspose"),
):
    cls.__name__ = name


def test_layers_that_return_float64_fail():
    for layer, check in (
        (Float64DepthwiseConv2D, checks.check_depthwise_matches_keras),
        (Float64SeparableConv2D, checks.check_separable_matches_keras),
        (Float64Conv2DTranspose, checks.check_conv_transpose_matches_keras),
    ):
        with pytest.raises(CheckFailed, match="returns float64; Keras's"):
            check(layer)


class BiasOnlyActivatedDepthwiseConv2D(SlicedDepthwiseConv2D):
    """Subtly wrong: the activation applied only when there is a bias."""

    def call(self, inputs):
        out = depthwise_conv(inputs, self.kernel, self.strides, self.padding, self.dilation_rate)
        return self.activation(out + self.bias) if self.use_bias else out


class BiasOnlyActivatedSeparableConv2D(SlicedSeparableConv2D):
    def call(self, inputs):
        kernel, strides, padding = self.depthwise_kernel, self.strides, self.padding
        middle = depthwise_conv(inputs, kernel, strides, padding, self.dilation_rate)
        out = ops.tensordot(middle, self.pointwise_kernel[0, 0], axes=1)
        return self.activation(out + self.bias) if self.use_bias else out


class BiasOnlyActivatedConv2DTranspose(ScatterConv2DTranspose):
    def call(self, inputs):
        sizes = self._output_sizes(*inputs.shape[1:3])
        out = conv_transpose(inputs, self.kernel, sizes, self.strides, self.padding)
        return self.activation(out + self.bias) if self.use_bias else out


for cls, name in (
    (BiasOnlyActivatedDepthwiseConv2D, "DepthwiseConv2D"),
    (BiasOnlyActivatedSeparableConv2D, "SeparableConv2D"),
    (BiasOnlyActivatedConv2DTranspose, "Conv2DTranspose"),
):
    cls.__name__ = name


def test_layers_that_skip_the_activation_without_bias_fail_the_hidden_cases():
    """Every use_bias=False row had no activation: a hidden row now has both."""
    for layer, check in (
        (BiasOnlyActivatedDepthwiseConv2D, checks.check_depthwise_matches_keras),
        (BiasOnlyActivatedSeparableConv2D, checks.check_separable_matches_keras),
        (BiasOnlyActivatedConv2DTranspose, checks.check_conv_transpose_matches_keras),
    ):
        check(layer)
        with pytest.raises(CheckFailed, match="does not match keras.layers"):
            check(layer, hidden=True)


def _transpose_cropped_as_without_output_padding(x, kernel, output_size, strides, padding):
    """Subtly wrong: 'same' crops from max(k - s, 0) // 2, the start without output_padding,
    rather than from the sizes at hand."""
    if padding == "valid":
        return conv_transpose(x, kernel, output_size, strides, padding)
    geometry = zip(x.shape[1:3], kernel.shape[:2], strides, strict=True)
    sizes = [(n - 1) * s + k for n, k, s in geometry]
    full = ops.pad(
        conv_transpose(x, kernel, sizes, strides, "valid"),
        ((0, 0), (0, output_size[0]), (0, output_size[1]), (0, 0)),
    )
    top, left = (max(k - s, 0) // 2 for k, s in zip(kernel.shape[:2], strides, strict=True))
    return full[:, top : top + output_size[0], left : left + output_size[1]]


def test_transpose_cropped_as_without_output_padding_fails_the_hidden_cases():
    """The one hidden 'same' row with output_padding started at 0 either way."""
    wrong = _transpose_cropped_as_without_output_padding
    checks.check_conv_transpose(wrong)
    with pytest.raises(CheckFailed, match="conv_transpose gives the wrong output"):
        checks.check_conv_transpose(wrong, hidden=True)
    with pytest.raises(CheckFailed, match="not the adjoint"):
        checks.check_conv_transpose_adjoint(wrong, hidden=True)


def _fraction_ratio(kernel_size, in_channels, filters, depth_multiplier=1):
    return Fraction(depth_multiplier, filters) + Fraction(depth_multiplier, math.prod(kernel_size))


def _decimal_ratio(kernel_size, in_channels, filters, depth_multiplier=1):
    m = Decimal(depth_multiplier)
    return m / Decimal(filters) + m / Decimal(math.prod(kernel_size))


def _float32_ratio(kernel_size, in_channels, filters, depth_multiplier=1):
    """The ratio as keras.ops computes it by default: in float32."""
    m, taps = np.float32(depth_multiplier), np.float32(math.prod(kernel_size))
    return m / np.float32(filters) + m / taps


def _across(fn, name):
    """`fn` as the grader hands it to a check: a Ref across a loopback agent."""
    return LoopbackSession({name: fn}).globals([name])[name]


@pytest.mark.parametrize("ratio", [_fraction_ratio, _decimal_ratio, _float32_ratio])
def test_a_ratio_as_a_fraction_or_in_float32_passes_as_graded(ratio):
    """A Fraction or a Decimal crossed the sandbox as an object ("<student Fraction>") and
    failed; a float32
    ratio missed the old absolute 1e-9 by a float32 rounding (0.1267361 for 73/576)."""
    checks.check_cost_ratio(ratio)
    checks.check_cost_ratio(ratio, hidden=True)
    for seed in range(3):
        with harness_cases.fresh(seed):
            checks.check_cost_ratio(_across(ratio, "cost_ratio"), hidden=True)


def _depthwise_padded(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1), how=""):
    """Subtly wrong 'same' padding: `how` "before" puts the odd zero first, "height" pads the
    width as the height (right for square inputs and kernels)."""
    kh, kw = kernel.shape[:2]
    geometry = zip(x.shape[1:3], (kh, kw), strides, dilation_rate, strict=True)
    pads = [_pads(n, k, s, d, padding)[:: -1 if how == "before" else 1] for n, k, s, d in geometry]
    if how == "height":
        pads[1] = pads[0]
    x = ops.pad(ops.convert_to_tensor(x), ((0, 0), *pads, (0, 0)))
    return depthwise_conv(x, kernel, strides, "valid", dilation_rate)


def test_same_padding_with_its_odd_zero_before_is_named():
    """Also what stride 1 then every s-th output gives for 3x3 kernels and stride 2; the width
    padded as the height fails without being named so."""
    before = lambda *args: _depthwise_padded(*args, how="before")  # noqa: E731
    with pytest.raises(CheckFailed, match="Likely mistake: 'same' padding with its odd zero"):
        checks.check_depthwise_conv(before)
    for layer, check in (
        (SubsampledDepthwiseConv2D, checks.check_depthwise_matches_keras),
        (SubsampledSeparableConv2D, checks.check_separable_matches_keras),
    ):
        with pytest.raises(CheckFailed, match="Likely mistake: 'same' padding with its odd zero"):
            check(layer, hidden=True)
    with pytest.raises(CheckFailed, match="depthwise_conv gives the wrong output") as failure:
        checks.check_depthwise_conv(lambda *args: _depthwise_padded(*args, how="height"))
    assert "Likely mistake" not in str(failure.value)


def test_the_grader_s_own_answers_and_numpy_windows_are_refused():
    """The notebook's `checks` reaches the lesson's oracles in the student's kernel (in the
    sandbox too): a depthwise_conv returning checks.catalogue.depthwise(...) kept its points
    on fresh cases, a transpose_output_size returning checks.catalogue.transpose_size(...) all
    of them; NumPy's window view is patch extraction, which the notebook forbids."""
    refused = r"calls the grader's own code \(autograder.lessons.10_conv_variants"

    def oracle(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1)):
        return checks.catalogue.depthwise(x, kernel, strides, padding, dilation_rate)

    def windowed(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1)):
        np.lib.stride_tricks.sliding_window_view(np.asarray(x), (1, 1), axis=(1, 2))
        return depthwise_conv(x, kernel, strides, padding, dilation_rate)

    with pytest.raises(CheckFailed, match=f"{refused}.mistakes.depthwise"):
        checks.check_depthwise_conv(oracle)
    with pytest.raises(CheckFailed, match="patch extraction .*sliding_window_view"):
        checks.check_depthwise_conv(windowed)
    with pytest.raises(CheckFailed, match=f"{refused}.mistakes.transpose_size"):
        checks.check_transpose_output_size(checks.catalogue.transpose_size)
    with pytest.raises(CheckFailed, match=f"{refused}.cost_cases.cost_ratio_formula"):
        checks.check_cost_ratio(cost_cases.cost_ratio_formula)

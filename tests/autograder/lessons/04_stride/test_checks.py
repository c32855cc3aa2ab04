"""Lesson 04's checks pass every correct implementation and hold their tolerances over 20 seeds.

The implementations below are written independently of solutions/, in the styles students
use: float formulas or counting loops for the sizes, NumPy windows or loops for im2col,
einsum over taps or one tensordot per position for Conv2D, a forward or a backward
recurrence for the receptive field. The hand-worked tables of the checks are confirmed
against Keras here.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from autograder import lessons, references
from autograder.checks import stride as checks
from autograder.compare import compare
from autograder.feedback import CheckFailed
from autograder.guard import forbid
from autograder.harness import cases as harness_cases
from autograder.harness import ops as harness_ops
from solutions.padding import ZeroPadding2D
from solutions.stride import Conv2D as ReferenceConv2D

cases = lessons.module("04_stride", "cases")
conv_cases = lessons.module("04_stride", "conv_cases")

# --- independent conv_output_size and padding_amounts ------------------------------------------


def size_float(n, kernel_size, strides=1, padding="valid", dilation_rate=1):
    if n is None:
        return None
    span = dilation_rate * (kernel_size - 1) + 1
    if padding == "same":
        return math.ceil(n / strides)
    p = 0 if padding == "valid" else 2 * span - 2
    return math.floor((n + p - span) / strides) + 1


def size_counting(n, kernel_size, strides=1, padding="valid", dilation_rate=1):
    """Counts the window starts that fit in the padded input."""
    if n is None:
        return None
    span = dilation_rate * (kernel_size - 1) + 1
    before, after = amounts_needed(n, kernel_size, strides, padding, dilation_rate)
    return len(range(0, n + before + after - span + 1, strides))


def amounts_needed(n, kernel_size, strides=1, padding="valid", dilation_rate=1):
    span = dilation_rate * (kernel_size - 1) + 1
    if padding == "valid":
        return [0, 0]
    if padding == "full":
        return [span - 1, span - 1]
    outputs = math.ceil(n / strides)
    needed = (outputs - 1) * strides + span
    total = needed - n if needed > n else 0
    return np.array([math.floor(total / 2), math.ceil(total / 2)])


SIZES = [size_float, size_counting]

# --- independent im2col ------------------------------------------------------------------------


def im2col_numpy(x, kernel_size, strides=(1, 1), dilation_rate=(1, 1)):
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    x = np.asarray(x)
    windows = np.lib.stride_tricks.sliding_window_view(
        x, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(1, 2)
    )[:, ::sh, ::sw, :, ::dh, ::dw]
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(*windows.shape[:3], -1)


def im2col_positions(x, kernel_size, strides=(1, 1), dilation_rate=(1, 1)):
    """One gathered window per output position, with keras.ops."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation_rate
    x = ops.convert_to_tensor(x)
    b, h, w, c = x.shape
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    rows = []
    for i in range(oh):
        row = []
        for j in range(ow):
            window = x[:, i * sh : i * sh + dh * (kh - 1) + 1 : dh]
            window = window[:, :, j * sw : j * sw + dw * (kw - 1) + 1 : dw]
            row.append(ops.reshape(window, (-1, kh * kw * c)))  # b is None inside model.fit
        rows.append(ops.stack(row, axis=1))
    return ops.stack(rows, axis=1)


IM2COLS = [im2col_numpy, im2col_positions]

# --- independent Conv2D ------------------------------------------------------------------------


def _pads(layer, inputs):
    return tuple(
        tuple(int(v) for v in amounts_needed(n, k, s, layer.padding, d))
        for n, k, s, d in zip(inputs.shape[1:3], layer.kernel_size, layer.strides,
                              layer.dilation_rate, strict=True)
    )  # fmt: skip


class EinsumConv2D(ReferenceConv2D):
    """One einsum per kernel tap on a strided slice of the padded input."""

    def call(self, inputs):
        x = ZeroPadding2D(_pads(self, inputs))(inputs)
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.strides, self.dilation_rate
        oh = (x.shape[1] - dh * (kh - 1) - 1) // sh + 1
        ow = (x.shape[2] - dw * (kw - 1) - 1) // sw + 1
        out = 0
        for m in range(kh):
            for n in range(kw):
                tap = x[:, m * dh :: sh, n * dw :: sw, :][:, :oh, :ow, :]
                out = out + ops.einsum("bhwc,cf->bhwf", tap, self.kernel[m, n])
        if self.use_bias:
            out = out + self.bias
        return self.activation(out)

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        geometry = zip((h, w), self.kernel_size, self.strides, self.dilation_rate, strict=True)
        return (b, *(size_float(n, k, s, self.padding, d) for n, k, s, d in geometry), self.filters)


class PositionConv2D(ReferenceConv2D):
    """The independent per-position im2col, then one tensordot."""

    def call(self, inputs):
        x = ZeroPadding2D(_pads(self, inputs))(inputs)
        cols = im2col_positions(x, self.kernel_size, self.strides, self.dilation_rate)
        out = ops.tensordot(cols, ops.reshape(self.kernel, (-1, self.filters)), axes=1)
        if self.use_bias:
            out = out + self.bias
        return self.activation(out)


class NumpyConv2D(ReferenceConv2D):
    """Right numbers, computed in NumPy: no gradient can flow through it."""

    def call(self, inputs):
        x = np.asarray(ZeroPadding2D(_pads(self, inputs))(inputs))
        cols = im2col_numpy(x, self.kernel_size, self.strides, self.dilation_rate)
        out = cols @ np.asarray(self.kernel).reshape(-1, self.filters)
        if self.use_bias:
            out = out + np.asarray(self.bias)
        return self.activation(ops.convert_to_tensor(out))


for cls in (EinsumConv2D, PositionConv2D, NumpyConv2D):
    cls.__name__ = "Conv2D"

CONVS = [ReferenceConv2D, EinsumConv2D, PositionConv2D]

# --- independent receptive_field ---------------------------------------------------------------


def field_backward(layers):
    """From one output back to the input: r_in = s (r_out - 1) + d (k - 1) + 1."""
    r = 1
    for k, s, d in reversed(list(layers)):
        r = s * (r - 1) + d * (k - 1) + 1
    return r


def field_by_simulation(layers):
    """Marks, along one axis, the input pixels that reach output 0."""
    reached = {0}
    for k, s, d in reversed(list(layers)):
        reached = {i * s + m * d for i in reached for m in range(k)}
    return max(reached) - min(reached) + 1


FIELDS = [field_backward, field_by_simulation]


@pytest.mark.parametrize("fn", SIZES, ids=lambda f: f.__name__)
def test_conv_output_size_checks_pass_correct_code(fn):
    checks.check_conv_output_size(fn)
    checks.check_conv_output_size(fn, hidden=True)


def test_padding_amounts_checks_pass_correct_code():
    checks.check_padding_amounts(amounts_needed)
    checks.check_padding_amounts(amounts_needed, hidden=True)


@pytest.mark.parametrize("fn", IM2COLS, ids=lambda f: f.__name__)
def test_im2col_checks_pass_correct_code(fn):
    checks.check_im2col(fn)
    checks.check_im2col(fn, hidden=True)


@pytest.mark.parametrize("cls", CONVS, ids=["reference", "einsum", "positions"])
def test_conv2d_checks_pass_correct_code(cls):
    checks.check_conv2d_contract(cls)
    checks.check_conv2d_strides(cls)
    checks.check_conv2d_strides(cls, hidden=True)
    checks.check_conv2d_dilation(cls)
    checks.check_conv2d_dilation(cls, hidden=True)
    checks.check_conv2d_trains(cls)
    checks.check_digit_network(cls)


@pytest.mark.parametrize("fn", FIELDS, ids=lambda f: f.__name__)
def test_receptive_field_checks_pass_correct_code(fn):
    checks.check_receptive_field(fn)
    checks.check_receptive_field(fn, hidden=True)


def test_numpy_conv2d_gets_the_numbers_but_cannot_train():
    checks.check_conv2d_strides(NumpyConv2D)
    with pytest.raises(CheckFailed, match="No gradient"):
        checks.check_conv2d_trains(NumpyConv2D)


class FullAsValidConv2D(ReferenceConv2D):
    """Wrong: pads for 'same' only, so padding='full' (which Keras lacks) is computed, and
    sized, as 'valid'."""

    def call(self, inputs):
        pads = _pads(self, inputs) if self.padding == "same" else ((0, 0), (0, 0))
        cols = im2col_positions(ZeroPadding2D(pads)(inputs), self.kernel_size, self.strides,
                                self.dilation_rate)  # fmt: skip
        out = ops.tensordot(cols, ops.reshape(self.kernel, (-1, self.filters)), axes=1)
        return self.activation(out + self.bias if self.use_bias else out)

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        mode = "same" if self.padding == "same" else "valid"
        geometry = zip((h, w), self.kernel_size, self.strides, self.dilation_rate, strict=True)
        return (b, *(size_float(n, k, s, mode, d) for n, k, s, d in geometry), self.filters)


FullAsValidConv2D.__name__ = "Conv2D"


def test_full_padding_treated_as_valid_is_caught():
    """The notebook's Conv2D supports 'full'; before its contract shapes and hidden cases held
    one, a Conv2D that took it for 'valid' got full marks."""
    with pytest.raises(CheckFailed, match="padding='full'"):
        checks.check_conv2d_contract(FullAsValidConv2D)
    checks.check_conv2d_strides(FullAsValidConv2D)
    for check in (checks.check_conv2d_strides, checks.check_conv2d_dilation):
        with pytest.raises(CheckFailed, match="padding='full'"):
            check(FullAsValidConv2D, hidden=True)


class WidthKnownConv2D(ReferenceConv2D):
    """Wrong: keeps an unknown height None, but not an unknown width."""

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.strides, self.dilation_rate
        out_h = None if h is None else size_float(h, kh, sh, self.padding, dh)
        span, added = dw * (kw - 1) + 1, 0 if self.padding == "valid" else 2 * dw * (kw - 1)
        out_w = -(-w // sw) if self.padding == "same" else (w + added - span) // sw + 1
        return (b, out_h, out_w, self.filters)


WidthKnownConv2D.__name__ = "Conv2D"


def test_an_unknown_width_must_stay_none():
    with pytest.raises(CheckFailed, match=r"\(None, 8, None, 3\)"):
        checks.check_conv2d_contract(WidthKnownConv2D)


@pytest.mark.parametrize("seed", range(20))
def test_conv2d_tolerance_holds_over_seeds(seed):
    rng = np.random.default_rng(500 + seed)
    h, w = (int(v) for v in rng.integers(4, 14, size=2))
    kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
    if seed % 2:
        kwargs = {"strides": tuple(int(v) for v in rng.integers(1, 5, size=2))}
    else:
        kwargs = {"dilation_rate": tuple(int(v) for v in rng.integers(1, 4, size=2))}
    kwargs["padding"] = ("valid", "same", "full")[seed % 6 // 2]
    channels, filters = int(rng.integers(1, 9)), int(rng.integers(1, 6))
    shape = (int(rng.integers(1, 4)), h, w, channels)
    dh, dw = kwargs.get("dilation_rate", (1, 1))
    spans = [dh * (kh - 1) + 1, dw * (kw - 1) + 1]
    if kwargs["padding"] == "valid" and (spans[0] > h or spans[1] > w):
        kwargs["padding"] = "same"
    case = conv_cases.conv_case(shape, filters, (kh, kw), kwargs, seed)
    x, kernel, bias = case.inputs, case.weights["kernel"], case.weights["bias"]
    if kwargs["padding"] == "full":  # not a Keras option: Keras on the input padded by hand
        expected = conv_cases.full_reference(x, (filters, (kh, kw)), kwargs, case.weights)
    else:
        expected = np.asarray(checks.CONV2D.reference(case.args, kwargs, shape, case.weights)(x))
    for cls in CONVS:
        layer = cls(filters, (kh, kw), **kwargs)
        layer.build(shape)
        layer.set_weights([kernel, bias])
        assert compare(layer(x), expected, conv_cases.CONV2D_TOL) is None, (cls.__name__, kwargs)


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_hand_worked_sizes_agree_with_keras(kind):
    for (n, k, s, mode, d), expected in cases.CONV_OUTPUT_SIZE_CASES[kind]:
        if mode == "full":
            assert size_counting(n, k, s, mode, d) == expected
            continue
        layer = keras.layers.Conv2D(1, (k, 1), strides=(s, 1), padding=mode, dilation_rate=(d, 1))
        assert layer.compute_output_shape((1, n, 1, 1))[1] == expected


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_hand_worked_padding_is_tensorflows(kind):
    """A valid convolution of the input padded by the expected amounts equals Keras's own."""
    for (n, k, s, mode, d), (before, after) in cases.PADDING_AMOUNTS_CASES[kind]:
        if mode != "same":
            continue
        x = np.random.default_rng(n).normal(size=(1, n, 1, 1)).astype("float32")
        kernel = np.random.default_rng(k).normal(size=(k, 1, 1, 1)).astype("float32")
        geometry = {"strides": (s, 1), "dilation_rate": (d, 1), "use_bias": False}
        same = keras.layers.Conv2D(1, (k, 1), padding="same", **geometry)
        valid = keras.layers.Conv2D(1, (k, 1), padding="valid", **geometry)
        padded = np.pad(x, ((0, 0), (before, after), (0, 0), (0, 0)))
        for layer, shape in ((same, x.shape), (valid, padded.shape)):
            layer.build(shape)
            layer.set_weights([kernel])
        np.testing.assert_allclose(same(x), valid(padded), atol=1e-6)


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_hand_worked_receptive_fields_agree_with_a_simulation(kind):
    for stack, expected in cases.RECEPTIVE_FIELD_CASES[kind]:
        assert field_by_simulation(stack) == expected


def test_digit_network_table_is_the_lecture_notes():
    model = harness_ops.build_model(checks.digit_network(keras.layers.Conv2D), (None, 28, 28, 1))
    layers = [layer for layer in model.layers if layer.weights]
    assert [int(np.prod(layer.output.shape[1:])) for layer in layers] == list(cases.DIGIT_UNITS)
    assert [layer.count_params() for layer in layers] == list(cases.DIGIT_PARAMETERS)


@pytest.mark.parametrize(
    "gather",
    [
        lambda x, size, strides: tf.image.extract_patches(
            x, [1, *size, 1], [1, *strides, 1], [1, 1, 1, 1], "VALID"
        ),
        lambda x, size, strides: ops.image.extract_patches(x, size, strides, padding="valid"),
    ],
    ids=["tf.image.extract_patches", "keras.ops.image.extract_patches"],
)
def test_built_in_patch_extraction_is_refused(gather):
    def im2col(x, kernel_size, strides=(1, 1), dilation_rate=(1, 1)):
        return gather(ops.convert_to_tensor(x), kernel_size, strides)

    with pytest.raises(CheckFailed, match="built-in convolution, padding or patch extraction"):
        checks.check_im2col(im2col)


def test_keras_conv2d_itself_is_refused():
    class Conv2D(keras.layers.Conv2D):
        pass

    with pytest.raises(CheckFailed, match="built-in"):
        checks.check_conv2d_strides(Conv2D)


def test_guard_is_silent_on_the_reference_forward_pass():
    x = np.ones((2, 8, 7, 2), "float32")
    with forbid(checks.FORBIDDEN.names) as hits:
        ReferenceConv2D(2, 3, strides=2, padding="same")(x)
        ReferenceConv2D(2, 3, dilation_rate=2, padding="full")(x)
    assert hits == []


def test_untouched_stubs_fail_with_advice():
    def stub(*args):
        raise NotImplementedError()

    for check in (
        checks.check_conv_output_size,
        checks.check_padding_amounts,
        checks.check_im2col,
        checks.check_receptive_field,
    ):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(stub)


def test_a_size_must_be_an_int_and_a_whole_float_is_told_so():
    """The layers put these numbers into shapes and ops.pad, which refuse floats: a float that
    passed here cost four Conv2D cells, with an error from inside the given ZeroPadding2D."""
    checks.check_conv_output_size(lambda *a: None if a[0] is None else np.int64(size_float(*a)))
    with pytest.raises(CheckFailed, match="the value is right, but not an int"):
        checks.check_conv_output_size(lambda *a: None if a[0] is None else float(size_float(*a)))
    with pytest.raises(CheckFailed, match="returned 28.5") as failure:
        checks.check_conv_output_size(lambda *a: None if a[0] is None else size_float(*a) + 0.5)
    assert "not an int" not in str(failure.value)
    checks.check_padding_amounts(lambda *a: np.array(amounts_needed(*a)))
    with pytest.raises(CheckFailed, match="the value is right, but not an int"):
        checks.check_padding_amounts(lambda *a: tuple(float(v) for v in amounts_needed(*a)))


# --- fresh cases, as when grading ----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_correct_functions_pass_fresh_cases(seed):
    with harness_cases.fresh(seed):
        for fn in SIZES:
            checks.check_conv_output_size(fn)
            checks.check_conv_output_size(fn, hidden=True)
        checks.check_padding_amounts(amounts_needed)
        checks.check_padding_amounts(amounts_needed, hidden=True)
        for fn in IM2COLS:
            checks.check_im2col(fn)
            checks.check_im2col(fn, hidden=True)
        for fn in FIELDS:
            checks.check_receptive_field(fn)
            checks.check_receptive_field(fn, hidden=True)


@pytest.mark.parametrize("seed", range(3))
def test_correct_conv2d_passes_fresh_cases(seed):
    with harness_cases.fresh(seed):
        for cls in CONVS:
            checks.check_conv2d_strides(cls, hidden=True)
            checks.check_conv2d_dilation(cls, hidden=True)
        checks.check_conv2d_trains(CONVS[seed])
        checks.check_digit_network(CONVS[seed])


@pytest.mark.parametrize("table", ["CONV_OUTPUT_SIZE_CASES", "PADDING_AMOUNTS_CASES"])
def test_redrawn_geometry_keeps_the_character_of_each_stored_case(table):
    """Rounding, clamping and the stride-1 coincidence are where the mistakes show."""
    table = getattr(cases, table)
    for args, _ in table["public"] + table["hidden"]:
        drawn = {cases.redraw_geometry(np.random.default_rng(seed), args) for seed in range(20)}
        assert {cases.character(fresh) for fresh in drawn} == {cases.character(args)}
        assert len(drawn) >= (5 if args[0] is None else 15), (args, drawn)


def test_redrawn_stacks_keep_which_entries_exceed_one():
    rng = np.random.default_rng(0)
    for stack, _ in cases.RECEPTIVE_FIELD_CASES["public"] + cases.RECEPTIVE_FIELD_CASES["hidden"]:
        for layer in stack:
            fresh = cases.redraw_layer(rng, layer)
            assert [v > 1 for v in fresh] == [v > 1 for v in layer]


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_the_oracles_give_the_stored_answers(kind):
    for args, expected in cases.CONV_OUTPUT_SIZE_CASES[kind]:
        assert cases.expected_size(*args) == expected
    for args, expected in cases.PADDING_AMOUNTS_CASES[kind]:
        assert cases.expected_padding(*args) == expected
    for stack, expected in cases.RECEPTIVE_FIELD_CASES[kind]:
        assert cases.expected_field(stack) == expected
    data = references.load(cases.ASSIGNMENT)
    for index, (_, size, strides, dilation, _) in enumerate(cases.IM2COL_CASES[kind]):
        prefix = f"im2col/{kind}/{index}"
        windows = cases.expected_windows(data[f"{prefix}/x"], size, strides, dilation)
        np.testing.assert_array_equal(windows, data[f"{prefix}/out"])


@pytest.mark.parametrize("seed", range(5))
def test_the_oracles_agree_with_keras_and_a_simulation_on_random_arguments(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n, k, s, mode, d = cases.draw_geometry(rng)
        assert cases.expected_size(n, k, s, mode, d) == size_counting(n, k, s, mode, d)
        assert cases.expected_padding(n, k, s, mode, d) == tuple(amounts_needed(n, k, s, mode, d))
        if mode != "full":
            layer = keras.layers.Conv2D(1, (k, 1), (s, 1), mode, dilation_rate=(d, 1))
            assert layer.compute_output_shape((1, n, 1, 1))[1] == cases.expected_size(
                n, k, s, mode, d
            )
        stack = [cases.draw_layer(rng) for _ in range(int(rng.integers(0, 6)))]
        assert cases.expected_field(stack) == field_by_simulation(stack)


@pytest.mark.parametrize("scale", [1, 2, 3])
def test_digit_table_is_keras_for_every_scale(scale):
    summary = harness_ops.model_summary(
        checks.digit_network(keras.layers.Conv2D, scale), (None, 28, 28, 1)
    )
    layers = [entry for entry in summary if entry["params"]]
    units = tuple(int(np.prod(entry["output_shape"][1:])) for entry in layers)
    assert (units, tuple(entry["params"] for entry in layers)) == cases.digit_table(scale)


@pytest.mark.parametrize("strides", [(2, 1), (1, 2)])
def test_a_stride_of_2_along_one_axis_only_has_its_case(strides, monkeypatch):
    """The reference with im2col's `(sh, sw) != (1, 1)` turned into `!= strides` skips the
    striding for exactly these strides: the cases of strides (2, 1) and (1, 2) tell."""
    from autograder.authoring import mutants
    from autograder.authoring.sources import module_path

    change = "`1` -> `2`" if strides == (2, 1) else "`1` -> `2` #2"
    source = module_path("solutions.stride").read_text()
    (mutant,) = [
        m for m in mutants.make_mutants(source) if m.id == f"im2col: in `(1, 1)`: {change}"
    ]
    Conv2D = mutants.execute(mutant.source, "solutions.stride", "test")["Conv2D"]
    old = {
        kind: [row for row in rows if row[-1] not in (18, 19)]
        for kind, rows in conv_cases.STRIDE_CASES.items()
    }
    with monkeypatch.context() as patch:
        patch.setattr(conv_cases, "STRIDE_CASES", old)
        checks.check_conv2d_strides(Conv2D)
        checks.check_conv2d_strides(Conv2D, hidden=True)
    with pytest.raises(CheckFailed):
        checks.check_conv2d_strides(Conv2D)
        checks.check_conv2d_strides(Conv2D, hidden=True)


def test_padding_amounts_in_numpy_ints_reach_the_given_zero_padding(monkeypatch):
    """A correct padding_amounts that answers in NumPy ints (divmod on arrays) lost the
    Conv2D cells: the given ZeroPadding2D took only Python ints, where Keras's takes both."""
    import solutions.stride

    exact = solutions.stride.padding_amounts
    numpy_ints = lambda *args: tuple(np.int64(v) for v in exact(*args))  # noqa: E731
    monkeypatch.setattr(solutions.stride, "padding_amounts", numpy_ints)
    checks.check_conv2d_strides(ReferenceConv2D, hidden=True)
    checks.check_conv2d_dilation(ReferenceConv2D)
    layer = ZeroPadding2D(((np.int64(1), np.int64(1)), (np.int64(0), 2)))
    assert layer.padding == ((1, 1), (0, 2)) and type(layer.padding[0][0]) is int


class TracedConv2D(ReferenceConv2D):
    """call() as a tf.function: under the check's tape TensorFlow builds its backward function
    in the forward call, and differentiates its slices with tf.pad there."""

    @tf.function
    def call(self, inputs):
        return super().call(inputs)


class TracedPaddingConv2D(ReferenceConv2D):
    """The same, padding with tf.pad itself (forbidden), as a tf.function."""

    @tf.function
    def call(self, inputs):
        return super().call(tf.pad(inputs, [[0, 0], [1, 1], [1, 1], [0, 0]]))


def test_a_traced_call_is_graded_like_an_eager_one_and_its_own_padding_still_counts():
    TracedConv2D.__name__ = TracedPaddingConv2D.__name__ = "Conv2D"
    checks.check_conv2d_trains(TracedConv2D)
    with pytest.raises(CheckFailed, match="tensorflow.pad"):
        checks.check_conv2d_trains(TracedPaddingConv2D)


def test_right_values_in_float64_are_told_keras_returns_float32():
    class Float64Conv2D(ReferenceConv2D):
        def call(self, inputs):
            return ops.cast(super().call(inputs), "float64")

    Float64Conv2D.__name__ = "Conv2D"
    for check in (checks.check_conv2d_strides, checks.check_conv2d_dilation):
        with pytest.raises(CheckFailed) as failure:
            check(Float64Conv2D)
        assert failure.value.headline == "Conv2D returns float64; Keras's Conv2D returns float32."

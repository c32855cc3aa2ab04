"""Lesson 03's checks pass every correct implementation and hold their tolerances over 20 seeds.

The implementations below are written independently of solutions/, in the styles students
use: concatenation, blocks of zeros sized at run time, einsum with shifted identity matrices, NumPy,
branches or arithmetic for the amounts, loops or einsum for the convolution.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from autograder import lessons
from autograder.checks import padding as checks
from autograder.compare import compare
from autograder.feedback import CheckFailed
from autograder.guard import forbid
from autograder.harness import cases as harness_cases
from solutions.convolution import im2col as reference_im2col
from solutions.padding import Conv2D as ReferenceConv2D
from solutions.padding import ZeroPadding2D as ReferenceZeroPadding2D
from tests.autograder.lessons.conv_styles import einsum_offsets, tensordot_positions

cases = lessons.module("03_padding", "cases")

# --- independent ZeroPadding2D -----------------------------------------------------------------


class BlocksZeroPadding2D(ReferenceZeroPadding2D):
    """Joins blocks of ops.zeros, sized from ops.shape at run time, around the images."""

    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        batch, height, width, channels = ops.shape(inputs)

        def zeros(rows, columns):
            return ops.zeros((batch, rows, columns, channels), inputs.dtype)

        tall = ops.concatenate([zeros(top, width), inputs, zeros(bottom, width)], axis=1)
        rows = top + height + bottom
        return ops.concatenate([zeros(rows, left), tall, zeros(rows, right)], axis=2)


class SliceUpdateZeroPadding2D(ReferenceZeroPadding2D):
    """Writes the images into a tensor of zeros of the padded shape: the right values, but
    TensorFlow has no gradient for the update (XlaDynamicUpdateSlice)."""

    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        batch, height, width, channels = ops.shape(inputs)
        zeros = ops.zeros(
            (batch, top + height + bottom, left + width + right, channels), inputs.dtype
        )
        return ops.slice_update(zeros, (0, top, left, 0), inputs)


class EinsumZeroPadding2D(ReferenceZeroPadding2D):
    """Multiplies by shifted identity matrices along the height and the width."""

    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        height, width = inputs.shape[1], inputs.shape[2]
        rows = np.eye(top + height + bottom, height, k=-top, dtype="float32")
        columns = np.eye(left + width + right, width, k=-left, dtype="float32")
        return ops.einsum("ih,bhwc,jw->bijc", rows, inputs, columns)


class NumpyZeroPadding2D(ReferenceZeroPadding2D):
    """Right numbers, computed in NumPy by assignment: no gradient can flow through it."""

    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        x = ops.convert_to_numpy(inputs)
        out = np.zeros(
            (x.shape[0], top + x.shape[1] + bottom, left + x.shape[2] + right, x.shape[3]), x.dtype
        )
        out[:, top : top + x.shape[1], left : left + x.shape[2]] = x
        return ops.convert_to_tensor(out)


class ParsingZeroPadding2D(ReferenceZeroPadding2D):
    """Parses the padding argument with explicit branches, keeps lists as given."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        keras.layers.Layer.__init__(self, **kwargs)
        self.data_format = "channels_last"
        if isinstance(padding, int):
            self.padding = ((padding, padding), (padding, padding))
        else:
            height, width = padding
            height = (height, height) if isinstance(height, int) else tuple(height)
            width = (width, width) if isinstance(width, int) else tuple(width)
            self.padding = (height, width)


for cls in (
    BlocksZeroPadding2D,
    SliceUpdateZeroPadding2D,
    EinsumZeroPadding2D,
    NumpyZeroPadding2D,
    ParsingZeroPadding2D,
):
    cls.__name__ = "ZeroPadding2D"

ZERO_PADDINGS = [
    ReferenceZeroPadding2D,
    BlocksZeroPadding2D,
    EinsumZeroPadding2D,
    ParsingZeroPadding2D,
]

# --- independent padding_amounts ---------------------------------------------------------------


def amounts_arithmetic(kernel_size, padding="valid"):
    total = {"valid": 0, "same": kernel_size - 1, "full": 2 * (kernel_size - 1)}[padding]
    before = total // 2
    return [before, total - before]


def amounts_numpy(kernel_size, padding="valid"):
    k = np.int64(kernel_size)
    if padding == "same":
        return np.array([np.floor((k - 1) / 2), np.ceil((k - 1) / 2)], dtype=np.int64)
    return np.full(2, 0 if padding == "valid" else k - 1)


AMOUNTS = [amounts_arithmetic, amounts_numpy]

# --- independent Conv2D ------------------------------------------------------------------------


def same_pads(k):
    return (k - 1) // 2, k // 2


class EinsumConv2D(ReferenceConv2D):
    """Pads by concatenation inside call, then one einsum per kernel offset."""

    def call(self, inputs):
        kh, kw = self.kernel_size
        pads = {"valid": ((0, 0), (0, 0)), "same": (same_pads(kh), same_pads(kw))}
        pads["full"] = ((kh - 1, kh - 1), (kw - 1, kw - 1))
        (top, bottom), (left, right) = pads[self.padding]
        return einsum_offsets(self, EinsumZeroPadding2D(((top, bottom), (left, right)))(inputs))

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        extra = {"valid": 0, "same": 1, "full": 2}[self.padding]
        kh, kw = self.kernel_size
        h = None if h is None else h + (extra - 1) * (kh - 1)
        w = None if w is None else w + (extra - 1) * (kw - 1)
        return (b, h, w, self.filters)


class PositionLoopConv2D(ReferenceConv2D):
    """One tensordot per output position over the student's padded input."""

    def call(self, inputs):
        kh, kw = self.kernel_size
        pads = (amounts_arithmetic(kh, self.padding), amounts_arithmetic(kw, self.padding))
        return tensordot_positions(self, ReferenceZeroPadding2D(pads)(inputs))


for cls in (EinsumConv2D, PositionLoopConv2D):
    cls.__name__ = "Conv2D"

CONVS = [ReferenceConv2D, EinsumConv2D, PositionLoopConv2D]


@pytest.mark.parametrize("cls", ZERO_PADDINGS, ids=lambda c: c.__qualname__)
def test_zero_padding_checks_pass_correct_code(cls):
    checks.check_zero_padding_contract(cls)
    checks.check_zero_padding(cls)
    checks.check_zero_padding(cls, hidden=True)


@pytest.mark.parametrize("fn", AMOUNTS, ids=lambda f: f.__name__)
def test_padding_amounts_checks_pass_correct_code(fn):
    checks.check_padding_amounts(fn)
    checks.check_padding_amounts(fn, hidden=True)


@pytest.mark.parametrize("cls", CONVS, ids=["reference", "einsum", "position_loop"])
def test_conv2d_checks_pass_correct_code(cls):
    checks.check_conv2d_contract(cls)
    checks.check_conv2d_matches_keras(cls)
    checks.check_conv2d_matches_keras(cls, hidden=True)
    checks.check_conv2d_full(cls)
    checks.check_conv2d_full(cls, hidden=True)
    checks.check_conv2d_trains(cls)


@pytest.mark.parametrize("seed", range(5))
def test_correct_code_passes_fresh_cases(seed):
    """As when grading: fresh values, kernel sizes and random hidden shapes."""
    with harness_cases.fresh(seed):
        for cls in ZERO_PADDINGS:
            checks.check_zero_padding(cls)
            checks.check_zero_padding(cls, hidden=True)
        for fn in AMOUNTS:
            checks.check_padding_amounts(fn)
            checks.check_padding_amounts(fn, hidden=True)
        for cls in CONVS:
            checks.check_conv2d_matches_keras(cls, hidden=True)
            checks.check_conv2d_full(cls, hidden=True)
        checks.check_conv2d_trains(CONVS[seed % len(CONVS)])


@pytest.mark.parametrize("seed", range(20))
def test_fresh_kernel_sizes_keep_the_parity_of_the_stored_ones(seed):
    """Even kernels are where 'same' padding mistakes show; the drawn cases keep them."""
    with harness_cases.fresh(seed):
        for kind in ("public", "hidden"):
            drawn = cases.amounts_rows(kind)
            stored = cases.PADDING_AMOUNTS_CASES[kind]
            assert len(drawn) == len(stored) + (cases.EXTRA_HIDDEN if kind == "hidden" else 0)
            for (k, mode, _), (fresh_k, fresh_mode, _) in zip(stored, drawn, strict=False):
                assert fresh_mode == mode and fresh_k % 2 == k % 2 and (k == 1) == (fresh_k == 1)
            for k, mode, expected in drawn:
                assert expected == tuple(amounts_arithmetic(k, mode or "valid"))


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_the_amounts_oracle_gives_the_stored_answers(kind):
    for k, mode, expected in cases.PADDING_AMOUNTS_CASES[kind]:
        assert cases.expected_amounts(k, mode) == expected


def test_numpy_padding_gets_the_numbers_but_cuts_the_gradient():
    class NumpyPaddedConv2D(ReferenceConv2D):
        def call(self, inputs):
            kh, kw = self.kernel_size
            pads = (amounts_arithmetic(kh, self.padding), amounts_arithmetic(kw, self.padding))
            x = NumpyZeroPadding2D(pads)(inputs)
            return einsum_offsets(self, x)

    NumpyPaddedConv2D.__name__ = "Conv2D"
    checks.check_conv2d_matches_keras(NumpyPaddedConv2D)
    with pytest.raises(CheckFailed, match="No gradient"):
        checks.check_conv2d_trains(NumpyPaddedConv2D)


def test_slice_update_padding_is_told_it_has_no_gradient_on_tensorflow():
    class SliceUpdateConv2D(ReferenceConv2D):
        def call(self, inputs):
            kh, kw = self.kernel_size
            pads = (amounts_arithmetic(kh, self.padding), amounts_arithmetic(kw, self.padding))
            return einsum_offsets(self, SliceUpdateZeroPadding2D(pads)(inputs))

    SliceUpdateConv2D.__name__ = "Conv2D"
    checks.check_conv2d_matches_keras(SliceUpdateConv2D)
    with pytest.raises(CheckFailed, match="slice_update"):
        checks.check_conv2d_trains(SliceUpdateConv2D)
    # The padding layer's own check loses its points too: gradients must flow through it.
    checks.check_zero_padding_contract(SliceUpdateZeroPadding2D)
    with pytest.raises(CheckFailed, match="slice_update"):
        checks.check_zero_padding(SliceUpdateZeroPadding2D)


@pytest.mark.parametrize("seed", range(20))
def test_conv2d_tolerance_holds_over_seeds(seed):
    rng = np.random.default_rng(300 + seed)
    h, w = (int(v) for v in rng.integers(2, 12, size=2))
    kh, kw = int(rng.integers(1, min(h, 6) + 1)), int(rng.integers(1, min(w, 6) + 1))
    channels, filters = int(rng.integers(1, 9)), int(rng.integers(1, 6))
    shape = (int(rng.integers(1, 4)), h, w, channels)
    padding = ("valid", "same", "full")[seed % 3]
    x, kernel, bias = cases.random_conv(shape, filters, (kh, kw), seed)
    if padding == "full":
        expected = cases.full_reference(x, kernel, bias)
    else:
        keras_layer = checks.CONV2D.reference(
            (filters, (kh, kw)), {"padding": padding}, shape, {"kernel": kernel, "bias": bias}
        )
        expected = np.asarray(keras_layer(x))
    for cls in CONVS:
        layer = cls(filters, (kh, kw), padding=padding)
        layer.build(shape)
        layer.set_weights([kernel, bias])
        assert compare(layer(x), expected, cases.CONV2D_TOL) is None, cls.__name__


@pytest.mark.parametrize("seed", range(20))
def test_zero_padding_is_exact_over_seeds(seed):
    rng = np.random.default_rng(400 + seed)
    shape = tuple(int(v) for v in rng.integers(1, 7, size=4))
    padding = tuple(tuple(int(v) for v in rng.integers(0, 4, size=2)) for _ in range(2))
    x = rng.normal(size=shape).astype("float32")
    expected = checks.ZERO_PADDING.reference((padding,), {}, x.shape)(x)
    for cls in ZERO_PADDINGS:
        assert compare(cls(padding)(x), expected, cases.PAD_TOL) is None


def test_scipy_full_reference_is_a_valid_convolution_of_the_padded_input():
    x, kernel, bias = cases.random_conv((2, 5, 4, 3), 2, (3, 2), seed=0)
    padded = np.pad(x, ((0, 0), (2, 2), (1, 1), (0, 0)))
    keras_layer = checks.CONV2D.reference(
        (2, (3, 2)), {"padding": "valid"}, padded.shape, {"kernel": kernel, "bias": bias}
    )
    np.testing.assert_allclose(
        cases.full_reference(x, kernel, bias), keras_layer(padded), atol=1e-5
    )


def test_tensorflow_puts_the_extra_zero_after():
    """The rule the checks hard-code is what Keras does: for k = 4, one zero before, two after."""
    x = np.zeros((1, 6, 6, 1), "float32")
    x[0, 0, 0, 0] = 1.0
    layer = keras.layers.Conv2D(1, 4, padding="same", use_bias=False)
    layer.build(x.shape)
    kernel = np.arange(16, dtype="float32").reshape(4, 4, 1, 1)
    layer.set_weights([kernel])
    out = np.asarray(layer(x))[0, :, :, 0]
    # output (0, 0) sees the input pixel (0, 0) through kernel entry (1, 1): one zero before.
    assert out[0, 0] == kernel[1, 1, 0, 0]
    for k in range(1, 9):
        assert tuple(checks.catalogue.amounts(k, "same")) == ((k - 1) // 2, k // 2)
        assert cases.expected_amounts(k, "same") == ((k - 1) // 2, k // 2)


@pytest.mark.parametrize(
    "pad",
    [
        lambda x, p: np.pad(np.asarray(x), ((0, 0), *p, (0, 0))),
        lambda x, p: ops.pad(x, ((0, 0), *p, (0, 0))),
        lambda x, p: tf.pad(x, [[0, 0], *p, [0, 0]]),
        lambda x, p: keras.layers.ZeroPadding2D(p)(x),
    ],
    ids=["np.pad", "keras.ops.pad", "tf.pad", "keras ZeroPadding2D"],
)
def test_built_in_padding_is_refused(pad):
    class BuiltIn(ReferenceZeroPadding2D):
        def call(self, inputs):
            return pad(inputs, self.padding)

    BuiltIn.__name__ = "ZeroPadding2D"
    with pytest.raises(CheckFailed, match="built-in padding"):
        checks.check_zero_padding(BuiltIn)

    class PaddedConv2D(ReferenceConv2D):
        def call(self, inputs):
            kh, kw = self.kernel_size
            padded = pad(
                inputs, (amounts_arithmetic(kh, self.padding), amounts_arithmetic(kw, self.padding))
            )
            return einsum_offsets(self, padded)

    PaddedConv2D.__name__ = "Conv2D"
    with pytest.raises(CheckFailed, match="built-in convolution or padding"):
        checks.check_conv2d_matches_keras(PaddedConv2D)


def test_keras_conv2d_itself_is_refused():
    class Conv2D(keras.layers.Conv2D):
        pass

    with pytest.raises(CheckFailed, match="built-in convolution"):
        checks.check_conv2d_matches_keras(Conv2D)


def test_guard_is_silent_on_legitimate_padding_and_its_gradient():
    x = tf.Variable(np.ones((2, 3, 4, 2), "float32"))
    for cls in ZERO_PADDINGS[:3]:
        with forbid(checks.PADDING_OPS) as hits:
            cls(((1, 2), (0, 3)))(x)
            ReferenceConv2D(2, 4, padding="same")(x)
        assert hits == [], cls.__name__


def test_untouched_stubs_fail_with_advice():
    def stub(*args):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        checks.check_padding_amounts(stub)


def test_nan_output_is_named():
    class NanZeroPadding2D(ReferenceZeroPadding2D):
        def call(self, inputs):
            return super().call(inputs) * np.nan

    NanZeroPadding2D.__name__ = "ZeroPadding2D"
    with pytest.raises(CheckFailed, match="NaN"):
        checks.check_zero_padding(NanZeroPadding2D)


def test_a_parser_of_the_three_plain_forms_only_is_told_which_mix_it_missed():
    """The notebook asks for pairs that mix an int and a pair, as Keras accepts; a parser that
    reads a pair as all ints or all pairs stores ((1, 1), ((0, 2), (0, 2))) for (1, (0, 2))."""

    class PlainFormsZeroPadding2D(ReferenceZeroPadding2D):
        def __init__(self, padding=(1, 1), data_format=None, **kwargs):
            keras.layers.Layer.__init__(self, **kwargs)
            self.data_format = "channels_last"
            if isinstance(padding, int):
                padding = (padding, padding)
            if isinstance(padding[0], int):
                self.padding = ((padding[0],) * 2, (padding[1],) * 2)
            else:
                self.padding = (tuple(padding[0]), tuple(padding[1]))
            if not all(isinstance(side, int) for pair in self.padding for side in pair):
                raise ValueError(f"Received: padding={padding}")

    PlainFormsZeroPadding2D.__name__ = "ZeroPadding2D"
    checks.check_zero_padding(PlainFormsZeroPadding2D)
    with pytest.raises(CheckFailed, match=r"ZeroPadding2D\(\(1, \(0, 2\)\)\) raised ValueError"):
        checks.check_zero_padding(PlainFormsZeroPadding2D, hidden=True)
    # The notebook's own refusal, which follows the student's code, names the mixed form and
    # shows what the student's code stored.
    stored = r"self.padding is \(\(1, 1\), \(2, 2\), \(3, 3\)\)"
    with pytest.raises(ValueError, match=rf"a mix like \(ph, \(left, right\)\).*{stored}"):
        ReferenceZeroPadding2D((1, 2, 3))


def test_a_zero_padding_that_reads_the_batch_size_fails_in_model_fit():
    """ops.zeros((inputs.shape[0], ...)) works on every eager call and fails in model.fit,
    whose last batch is smaller (its size None): test_conv2d_trains runs such a fit."""

    class StaticBatchConv2D(ReferenceConv2D):
        def call(self, inputs):
            (top, bottom), (left, right) = (same_pads(k) for k in self.kernel_size)
            batch, height, width, channels = inputs.shape
            tall = ops.concatenate(
                [
                    ops.zeros((batch, top, width, channels)),
                    inputs,
                    ops.zeros((batch, bottom, width, channels)),
                ],
                axis=1,
            )
            rows = top + height + bottom
            padded = ops.concatenate(
                [
                    ops.zeros((batch, rows, left, channels)),
                    tall,
                    ops.zeros((batch, rows, right, channels)),
                ],
                axis=2,
            )
            patches = reference_im2col(padded, self.kernel_size)
            out = ops.matmul(patches, ops.reshape(self.kernel, (-1, self.filters))) + self.bias
            return self.activation(out)

    StaticBatchConv2D.__name__ = "Conv2D"
    with pytest.raises(CheckFailed, match="batch size is None"):
        checks.check_conv2d_trains(StaticBatchConv2D)


class StaticBatchZeroPadding2D(BlocksZeroPadding2D):
    """Zeros shaped with inputs.shape: right on every array, None inside model.fit."""

    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        batch, height, width, channels = inputs.shape
        tall = ops.concatenate(
            [ops.zeros((batch, top, width, channels)), inputs,
             ops.zeros((batch, bottom, width, channels))], axis=1,
        )  # fmt: skip
        rows = top + height + bottom
        return ops.concatenate(
            [ops.zeros((batch, rows, left, channels)), tall,
             ops.zeros((batch, rows, right, channels))], axis=2,
        )  # fmt: skip


def test_a_zero_padding_that_reads_the_batch_size_fails_its_own_contract():
    """Its own cell loses the point, not only the Conv2D that uses it (test_conv2d_trains)."""
    checks.check_zero_padding(StaticBatchZeroPadding2D)
    with pytest.raises(CheckFailed, match="the batch size is None: use keras.ops"):
        checks.check_zero_padding_contract(StaticBatchZeroPadding2D)


def test_a_numpy_zero_padding_gets_the_numbers_but_no_gradient_and_fails_its_contract():
    """The notebook asks for keras.ops in call: NumPy cuts the gradient and cannot run inside
    model.fit at all."""
    with pytest.raises(CheckFailed, match="No gradient flows back through ZeroPadding2D"):
        checks.check_zero_padding(NumpyZeroPadding2D, hidden=True)  # after every output is right
    with pytest.raises(CheckFailed, match="use keras.ops throughout"):
        checks.check_zero_padding_contract(NumpyZeroPadding2D)


def _keep_only_valid(layer, padding):
    """The notebook's given code after the student's reading of `padding`: refuse what is not
    ((top, bottom), (left, right)) of non-negative ints."""
    sides = [side for pair in layer.padding for side in pair]
    valid = all(hasattr(side, "__index__") and side >= 0 for side in sides)
    if len(layer.padding) != 2 or len(sides) != 4 or not valid:
        raise ValueError(f"self.padding is {layer.padding!r}. Received: padding={padding}")
    layer.padding = tuple(tuple(side.__index__() for side in pair) for pair in layer.padding)


class FirstEntryDecidesZeroPadding2D(ReferenceZeroPadding2D):
    """Decides the form by the first entry alone: a pair there means a pair of pairs, so Keras's
    ((top, bottom), pw) reaches tuple(pw) on an int."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        keras.layers.Layer.__init__(self, **kwargs)
        self.data_format = "channels_last"
        if not hasattr(padding, "__len__"):
            self.padding = ((padding, padding), (padding, padding))
        elif hasattr(padding[0], "__len__"):
            self.padding = (tuple(padding[0]), tuple(padding[1]))
        elif hasattr(padding[1], "__len__"):
            self.padding = ((padding[0], padding[0]), tuple(padding[1]))
        else:
            self.padding = ((padding[0], padding[0]), (padding[1], padding[1]))
        _keep_only_valid(self, padding)


class TupleTypedZeroPadding2D(ReferenceZeroPadding2D):
    """Takes only tuples for pairs: a list, which Keras reads as a tuple, is taken for an int."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        keras.layers.Layer.__init__(self, **kwargs)
        self.data_format = "channels_last"
        both = padding if type(padding) is tuple else (padding, padding)
        self.padding = tuple(p if type(p) is tuple else (p, p) for p in both)
        _keep_only_valid(self, padding)


for cls in (FirstEntryDecidesZeroPadding2D, TupleTypedZeroPadding2D):
    cls.__name__ = "ZeroPadding2D"


def test_a_parser_that_misses_keras_other_mix_fails_its_contract_and_a_stored_case():
    """((1, 2), 3) is ((1, 2), (3, 3)) in Keras; random hidden cases drew it only by chance."""
    checks.check_zero_padding(FirstEntryDecidesZeroPadding2D)
    with pytest.raises(CheckFailed) as raised:
        checks.check_zero_padding_contract(FirstEntryDecidesZeroPadding2D)
    assert raised.value.headline.startswith("ZeroPadding2D(((1, 2), 3)) raised TypeError")
    assert raised.value.details[-1] == (
        "Keras reads ((1, 2), 3) as ((1, 2), (3, 3)): each entry of the pair is an int (the "
        "same zeros on both sides) or a pair"
    )
    with pytest.raises(CheckFailed, match=r"ZeroPadding2D\(\(\(2, 0\), 1\)\) raised TypeError"):
        checks.check_zero_padding(FirstEntryDecidesZeroPadding2D, hidden=True)


def test_a_parser_of_tuples_only_fails_on_padding_given_as_lists():
    """Keras reads ZeroPadding2D([1, 2]) as ZeroPadding2D((1, 2)); no case used a list."""
    checks.check_zero_padding(TupleTypedZeroPadding2D)
    with pytest.raises(CheckFailed) as raised:
        checks.check_zero_padding_contract(TupleTypedZeroPadding2D)
    assert raised.value.headline.startswith("ZeroPadding2D([1, 2]) raised ValueError")
    assert raised.value.details[-1] == (
        "Keras reads [1, 2] as ((1, 1), (2, 2)): a list is read as a tuple"
    )
    with pytest.raises(CheckFailed, match=r"ZeroPadding2D\(\[\[1, 0\], \[2, 3\]\]\) raised"):
        checks.check_zero_padding(TupleTypedZeroPadding2D, hidden=True)


def test_output_shapes_that_assume_a_known_width_fail_the_contracts():
    """An unknown width must stay None, as an unknown height does; every contract shape had a
    known width, so these kept full marks."""

    class WidthKnownZeroPadding2D(ReferenceZeroPadding2D):
        def compute_output_shape(self, input_shape):
            (top, bottom), (left, right) = self.padding
            batch, height, width, channels = input_shape
            height = height and height + top + bottom
            return (batch, height, width + left + right, channels)

    class WidthKnownConv2D(ReferenceConv2D):
        def compute_output_shape(self, input_shape):
            grows = {"valid": 0, "same": 1, "full": 2}[self.padding]
            kh, kw = self.kernel_size
            height = None if input_shape[1] is None else input_shape[1] + (grows - 1) * (kh - 1)
            return (input_shape[0], height, input_shape[2] + (grows - 1) * (kw - 1), self.filters)

    WidthKnownZeroPadding2D.__name__ = "ZeroPadding2D"
    WidthKnownConv2D.__name__ = "Conv2D"
    with pytest.raises(CheckFailed, match=r"compute_output_shape\(\(None, 7, None, 3\)\) raised"):
        checks.check_zero_padding_contract(WidthKnownZeroPadding2D)
    with pytest.raises(CheckFailed, match=r"compute_output_shape\(\(None, 7, None, 3\)\) raised"):
        checks.check_conv2d_contract(WidthKnownConv2D)


def test_a_wrong_default_mode_fails_padding_amounts():
    """Every case passed its mode, so a default of "same" instead of "valid" kept full marks; a
    stored case now leaves it out."""

    def amounts_same_by_default(kernel_size, padding="same"):
        if padding == "valid":
            return 0, 0
        if padding == "full":
            return kernel_size - 1, kernel_size - 1
        return (kernel_size - 1) // 2, kernel_size // 2

    checks.check_padding_amounts(amounts_same_by_default, hidden=True)
    with pytest.raises(CheckFailed) as failure:
        checks.check_padding_amounts(amounts_same_by_default)
    assert failure.value.headline == "padding_amounts(4) returned (1, 2); expected (0, 0)."
    assert "padding is not given here: it defaults to 'valid'" in failure.value.details[-1]


def test_a_conv2d_that_computes_in_float64_is_told_to_cast_back():
    """Right values in float64, where Keras's Conv2D gives float32, in both checks of outputs."""

    class Float64Conv2D(ReferenceConv2D):
        def call(self, inputs):
            kh, kw = self.kernel_size
            pads = (amounts_arithmetic(kh, self.padding), amounts_arithmetic(kw, self.padding))
            padded = ops.cast(ReferenceZeroPadding2D(pads)(inputs), "float64")
            weights = ops.cast(self.kernel, "float64")
            rows, columns = padded.shape[1] - kh + 1, padded.shape[2] - kw + 1
            out = ops.cast(self.bias, "float64")
            for i in range(kh):
                for j in range(kw):
                    window = padded[:, i : i + rows, j : j + columns, :]
                    out = out + ops.einsum("bhwc,cf->bhwf", window, weights[i, j])
            return self.activation(out)

    Float64Conv2D.__name__ = "Conv2D"
    for check in (checks.check_conv2d_matches_keras, checks.check_conv2d_full):
        with pytest.raises(CheckFailed) as failure:
            check(Float64Conv2D)
        assert failure.value.headline == "Conv2D returns float64; Keras's Conv2D returns float32."


def test_padding_amounts_must_be_ints_and_a_whole_float_is_told_so():
    """ZeroPadding2D refuses floats: a float pair that passed here cost the Conv2D cells, with
    an error from inside the layer."""
    from solutions.padding import padding_amounts

    def as_floats(*args, **kwargs):
        return tuple(float(v) for v in padding_amounts(*args, **kwargs))

    with pytest.raises(CheckFailed, match="the value is right, but not an int"):
        checks.check_padding_amounts(as_floats)


def test_an_activation_applied_only_with_a_bias_fails_the_hidden_cell_every_time():
    """Review 3: `return self.activation(outputs + self.bias)` inside `if self.use_bias:`,
    otherwise the plain outputs. The public cases never combine use_bias=False with an
    activation; the hidden cell's fixed case does, so it no longer depends on a fresh draw."""

    class ActivationOnlyWithBiasConv2D(ReferenceConv2D):
        def call(self, inputs):
            kh, kw = self.kernel_size
            pads = (amounts_arithmetic(kh, self.padding), amounts_arithmetic(kw, self.padding))
            patches = reference_im2col(ReferenceZeroPadding2D(pads)(inputs), self.kernel_size)
            outputs = ops.matmul(patches, ops.reshape(self.kernel, (-1, self.filters)))
            if self.use_bias:
                return self.activation(outputs + self.bias)
            return outputs

    ActivationOnlyWithBiasConv2D.__name__ = "Conv2D"
    checks.check_conv2d_matches_keras(ActivationOnlyWithBiasConv2D)
    for seed in (None, 0, 4):  # fresh seeds 0 and 4 drew no such case before
        with pytest.raises(CheckFailed) as failure:
            if seed is None:
                checks.check_conv2d_matches_keras(ActivationOnlyWithBiasConv2D, hidden=True)
            else:
                with harness_cases.fresh(seed):
                    checks.check_conv2d_matches_keras(ActivationOnlyWithBiasConv2D, hidden=True)
        assert failure.value.headline == (
            "Conv2D does not match keras.layers.Conv2D with the same weights."
        )
        assert "use_bias=False, activation='relu'" in str(failure.value)

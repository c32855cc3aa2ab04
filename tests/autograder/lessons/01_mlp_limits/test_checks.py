"""Lesson 01's checks pass every correct implementation and hold their tolerances over 20 seeds.

The implementations below are written independently of solutions/, in the styles students
use: loops, einsum, tensordot, reshapes, NumPy or keras.ops, ints or floats.
"""

import dataclasses
import math

import keras
import numpy as np
import pytest
from keras import ops

from autograder import lessons
from autograder.checks import mlp_limits as checks
from autograder.compare import compare
from autograder.feedback import CheckFailed
from autograder.harness.cases import fresh
from solutions.mlp_limits import Dense as ReferenceDense

cases = lessons.module("01_mlp_limits", "cases")

# --- independent parameter counts --------------------------------------------------------------


def dense_params_loop(n_in, units, use_bias=True):
    total = 0
    for _ in range(units):
        total += n_in + int(use_bias)
    return total


def mlp_params_numpy(input_shape, units, use_bias=True):
    sizes = np.array([np.prod(input_shape), *units], dtype=np.int64)
    weights = np.sum(sizes[:-1] * sizes[1:])
    return weights + (np.sum(sizes[1:]) if use_bias else 0)


def mlp_params_float(input_shape, units, use_bias=True):
    n_in, total = float(math.prod(input_shape)), 0.0
    for u in units:
        total += (n_in + (1.0 if use_bias else 0.0)) * u
        n_in = u
    return int(total)  # counted in floats (exact below 2**53), returned as the int asked for


def conv2d_params_fan_in(kernel_size, channels, filters, use_bias=True):
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    fan_in = math.prod(kernel_size) * channels
    return filters * fan_in + (filters if use_bias else 0)


# --- independent Dense -------------------------------------------------------------------------


class EinsumDense(ReferenceDense):
    """ops.einsum over the last axis."""

    def call(self, inputs):
        out = ops.einsum("...i,ij->...j", inputs, self.kernel)
        if self.use_bias:
            out = ops.add(out, self.bias)
        return self.activation(out)


class TensordotDense(ReferenceDense):
    """ops.tensordot of the last input axis with the first kernel axis."""

    def call(self, inputs):
        out = ops.tensordot(inputs, self.kernel, axes=1)
        if self.bias is not None:
            out = out + ops.reshape(self.bias, (1,) * (len(inputs.shape) - 1) + (self.units,))
        return self.activation(out)


class FlattenDense(ReferenceDense):
    """Reshape to a matrix, one matmul, reshape back; the bias as a (1, units) row."""

    def call(self, inputs):
        shape = ops.shape(inputs)
        flat = ops.reshape(inputs, (-1, shape[-1]))
        out = flat @ self.kernel
        if self.use_bias:
            out = out + self.bias[None, :]
        return self.activation(ops.reshape(out, (*shape[:-1], self.units)))


class NumpyDense(ReferenceDense):
    """Right numbers, but computed in NumPy: no gradient can flow through it."""

    def call(self, inputs):
        out = ops.convert_to_numpy(inputs) @ ops.convert_to_numpy(self.kernel)
        if self.use_bias:
            out = out + ops.convert_to_numpy(self.bias)
        return self.activation(ops.convert_to_tensor(out))


for cls in (EinsumDense, TensordotDense, FlattenDense, NumpyDense):
    cls.__name__ = "Dense"

DENSES = [ReferenceDense, EinsumDense, TensordotDense, FlattenDense]

# --- independent conv1d_matrix -----------------------------------------------------------------


def _layout(k, n, padding):
    return (n - k + 1, 0) if padding == "valid" else (n, (k - 1) // 2)


def matrix_loops(kernel, n, padding="valid"):
    k = len(kernel)
    n_out, left = _layout(k, n, padding)
    matrix = [[0.0] * n for _ in range(n_out)]
    for i in range(n_out):
        for j in range(n):
            if 0 <= j - i + left < k:
                matrix[i][j] = float(kernel[j - i + left])
    return np.array(matrix)


def matrix_diagonals(kernel, n, padding="valid"):
    k = len(kernel)
    n_out, left = _layout(k, n, padding)
    return sum(w * np.eye(n_out, n, k=m - left) for m, w in enumerate(kernel))


def matrix_float32_rows(kernel, n, padding="valid"):
    kernel = np.asarray(kernel, np.float32)
    k = len(kernel)
    n_out, left = _layout(k, n, padding)
    padded = np.zeros((n_out, n + k), np.float32)
    for i in range(n_out):
        padded[i, i : i + k] = kernel
    return padded[:, left : left + n]


def matrix_keras_ops(kernel, n, padding="valid"):
    k = len(kernel)
    n_out, left = _layout(k, n, padding)
    rows = ops.arange(n_out)[:, None]
    cols = ops.arange(n)[None, :]
    offset = cols - rows + left
    taps = ops.take(
        ops.convert_to_tensor(np.asarray(kernel, "float32")), ops.clip(offset, 0, k - 1)
    )
    return ops.where((offset >= 0) & (offset < k), taps, 0.0)


MATRICES = [matrix_loops, matrix_diagonals, matrix_float32_rows, matrix_keras_ops]


# --- correct code passes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "dense_params, mlp_params, conv2d_params",
    [
        (dense_params_loop, mlp_params_numpy, conv2d_params_fan_in),
        (dense_params_loop, mlp_params_float, conv2d_params_fan_in),
    ],
)
def test_count_checks_pass_correct_code(dense_params, mlp_params, conv2d_params):
    for hidden in (False, True):
        checks.check_dense_params(dense_params, hidden=hidden)
        checks.check_mlp_params(mlp_params, hidden=hidden)
        checks.check_conv2d_params(conv2d_params, hidden=hidden)


@pytest.mark.parametrize("cls", DENSES, ids=["reference", "einsum", "tensordot", "flatten"])
def test_dense_checks_pass_correct_code(cls):
    checks.check_dense_contract(cls)
    checks.check_dense_matches_keras(cls)
    checks.check_dense_matches_keras(cls, hidden=True)
    checks.check_dense_trains(cls)


class NamelessDense(ReferenceDense):
    """Drops the layer's name instead of passing it on to keras.layers.Layer."""

    def __init__(self, units, **kwargs):
        kwargs.pop("name", None)
        super().__init__(units, **kwargs)


class FrozenDense(ReferenceDense):
    """Creates its kernel non-trainable."""

    def build(self, input_shape):
        super().build(input_shape)
        self.kernel.trainable = False


def test_the_contract_holds_the_whole_config_and_trainable_weights_as_keras_tests_do():
    import autograder.contract as contract

    layer = NamelessDense(3, name="first")
    with pytest.raises(CheckFailed, match="from_config") as failure:
        contract.check_config_roundtrip(
            layer, ("units", "activation", "use_bias"), forbidden=checks.DENSE
        )
    assert "name: " in str(failure.value)
    with pytest.raises(CheckFailed, match="kernel is not trainable"):
        checks.check_dense_contract(FrozenDense)


class UnsetBiasDense(ReferenceDense):
    """Leaves `self.bias` unset without a bias, where the lesson (and Keras) set it to None."""

    def build(self, input_shape):
        def weight(name, shape):
            return self.add_weight(
                name=name,
                shape=shape,
                initializer=getattr(self, f"{name}_initializer"),
                regularizer=getattr(self, f"{name}_regularizer"),
                constraint=getattr(self, f"{name}_constraint"),
            )

        self.kernel = weight("kernel", (input_shape[-1], self.units))
        if self.use_bias:
            self.bias = weight("bias", (self.units,))


def test_the_contract_wants_bias_none_without_a_bias():
    checks.check_dense_matches_keras(UnsetBiasDense)  # its outputs are right
    dataclasses.replace(checks.check_dense_contract, extra=None)(UnsetBiasDense)
    with pytest.raises(CheckFailed, match="bias is not None") as failure:
        checks.check_dense_contract(UnsetBiasDense)
    assert "Dense.bias is missing" in str(failure.value)


def test_numpy_dense_gets_the_numbers_but_cannot_train():
    checks.check_dense_matches_keras(NumpyDense)
    with pytest.raises(CheckFailed, match="gradient|fit"):
        checks.check_dense_trains(NumpyDense)


@pytest.mark.parametrize("fn", MATRICES, ids=lambda f: f.__name__)
def test_conv1d_matrix_checks_pass_correct_code(fn):
    checks.check_conv1d_matrix_example(fn)
    checks.check_conv1d_matrix(fn)
    checks.check_conv1d_matrix(fn, hidden=True)
    checks.check_conv1d_matrix_sparsity(fn)


# --- the stored counts are Keras's and the lecture's -------------------------------------------


def _keras_dense_count(n_in, units, use_bias=True):
    layer = keras.layers.Dense(units, use_bias=use_bias)
    layer.build((None, n_in))
    return layer.count_params()


def _keras_mlp_count(input_shape, units, use_bias=True):
    layers = [keras.layers.Dense(u, use_bias=use_bias) for u in units]
    model = keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(), *layers])
    return model.count_params()


def _keras_conv_count(kernel_size, channels, filters, use_bias=True):
    layer = keras.layers.Conv2D(filters, kernel_size, use_bias=use_bias)
    layer.build((None, 16, 16, channels))
    return layer.count_params()


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_stored_counts_are_what_keras_counts(kind):
    for args, kwargs, expected in cases.DENSE_PARAMS_CASES[kind]:
        assert _keras_dense_count(*args, **kwargs) == expected, args
    for args, kwargs, expected in cases.CONV2D_PARAMS_CASES[kind]:
        assert _keras_conv_count(*args, **kwargs) == expected, args
    for (shape, units), kwargs, expected in cases.MLP_PARAMS_CASES[kind]:
        if math.prod(shape) > 10_000:  # the photographs: too large to build, see below
            continue
        assert _keras_mlp_count(shape, units, **kwargs) == expected, shape


def test_photograph_counts_are_the_lectures():
    counts = {
        (shape, kw.get("use_bias", True)): n
        for (shape, _), kw, n in cases.MLP_PARAMS_CASES["public"] + cases.MLP_PARAMS_CASES["hidden"]
    }
    assert counts[(480, 640), False] == 640 * 480 * 100 + 100 * 100 + 100 * 1 == 30_730_100
    assert counts[(1536, 2048), False] == 2048 * 1536 * 100 + 100 * 100 + 100 * 1 == 314_582_900
    assert counts[(480, 640), True] == 30_730_100 + 100 + 100 + 1
    assert counts[(1536, 2048), True] == 314_582_900 + 100 + 100 + 1
    # Keras agrees on a photograph of the same structure but 1/40 of the width.
    assert _keras_mlp_count((480, 16), (100, 100, 1)) == 480 * 16 * 100 + 100 + 10_100 + 101


# --- tolerances hold over seeds ----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_dense_tolerance_holds_over_seeds(seed):
    rng = np.random.default_rng(300 + seed)
    rank = int(rng.integers(2, 5))
    shape = tuple(int(s) for s in rng.integers(1, 5, size=rank - 1)) + (int(rng.integers(1, 65)),)
    units = int(rng.integers(1, 33))
    activation = [None, "relu", "tanh", "sigmoid", "softmax"][seed % 5]
    x, kernel, bias = cases.random_dense(shape, units, seed)
    keras_layer = checks.DENSE_TWIN.reference(
        (units,), {"activation": activation}, shape, {"kernel": kernel, "bias": bias}
    )
    expected = np.asarray(keras_layer(x))
    float64 = x.astype(float) @ kernel.astype(float) + bias.astype(float)
    if activation is None:
        assert compare(float64, expected, cases.DENSE_TOL) is None
    for cls in (ReferenceDense, EinsumDense, FlattenDense):
        layer = cls(units, activation=activation)
        layer.build((None, *shape[1:]))
        layer.set_weights([kernel, bias])
        assert compare(layer(x), expected, cases.DENSE_TOL) is None


@pytest.mark.parametrize("seed", range(20))
def test_conv1d_tolerance_holds_over_seeds(seed):
    rng = np.random.default_rng(700 + seed)
    n = int(rng.integers(1, 20))
    k = int(rng.integers(1, n + 1))
    padding = ("valid", "same")[seed % 2]
    kernel, signals = rng.normal(size=k), rng.normal(size=(n, 4))
    n_out, start = (n - k + 1, 0) if padding == "valid" else (n, -((k - 1) // 2))
    expected = cases.correlate1d(signals, kernel, n_out, start)
    for fn in MATRICES:
        matrix = np.asarray(fn(kernel, n, padding))
        assert compare(matrix @ signals, expected, cases.CONV1D_TOL) is None, fn.__name__


# --- forbidden built-ins -----------------------------------------------------------------------


def test_keras_dense_itself_is_refused():
    class Dense(keras.layers.Dense):
        pass

    with pytest.raises(CheckFailed, match="built-in fully connected layer"):
        checks.check_dense_matches_keras(Dense)


def test_a_keras_dense_inside_the_layer_is_refused():
    class Dense(ReferenceDense):
        def call(self, inputs):
            inner = keras.layers.Dense(self.units, activation=self.activation)
            inner.build(inputs.shape)
            inner.set_weights([w.numpy() for w in self.weights])
            return inner(inputs)

    with pytest.raises(CheckFailed, match="built-in fully connected layer"):
        checks.check_dense_matches_keras(Dense)


def test_counting_with_keras_is_refused():
    with pytest.raises(CheckFailed, match="Keras's own parameter count"):
        checks.check_dense_params(_keras_dense_count)
    with pytest.raises(CheckFailed, match="Keras's own parameter count"):
        checks.check_conv2d_params(_keras_conv_count)


def test_built_in_toeplitz_and_convolution_are_refused():
    from scipy.linalg import toeplitz

    def with_toeplitz(kernel, n, padding="valid"):
        k = len(kernel)
        n_out, left = _layout(k, n, padding)
        column = np.zeros(n_out)
        column[: left + 1] = np.asarray(kernel)[left::-1][:n_out]
        row = np.zeros(n)
        row[: k - left] = kernel[left:]
        return toeplitz(column, row)

    def with_convolve(kernel, n, padding="valid"):
        n_out, left = _layout(len(kernel), n, padding)
        columns = [np.convolve(np.eye(n)[j], kernel[::-1], mode="full") for j in range(n)]
        return np.array(columns).T[len(kernel) - 1 - left :][:n_out]

    for fn in (with_toeplitz, with_convolve):
        with pytest.raises(CheckFailed, match="built-in convolution or Toeplitz"):
            checks.check_conv1d_matrix(fn)


# --- stubs and broken output -------------------------------------------------------------------


def test_untouched_stubs_fail_with_advice():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    class Dense(ReferenceDense):
        def build(self, input_shape):
            raise NotImplementedError()

        def call(self, inputs):
            raise NotImplementedError()

        def compute_output_shape(self, input_shape):
            raise NotImplementedError()

    for check in (
        checks.check_dense_params,
        checks.check_mlp_params,
        checks.check_conv2d_params,
        checks.check_conv1d_matrix_example,
        checks.check_conv1d_matrix,
        checks.check_conv1d_matrix_sparsity,
    ):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(stub)
    for check in (
        checks.check_dense_contract,
        checks.check_dense_matches_keras,
        checks.check_dense_trains,
    ):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(Dense)


def test_a_count_that_is_not_an_int_is_named():
    """The notebook says an int: a float, even a whole one (an independent review's
    `units * (n_in + 1.0)`), is refused as lesson 05 refuses one for a size."""
    with pytest.raises(CheckFailed, match="expected an int"):
        checks.check_dense_params(lambda n_in, units, use_bias=True: n_in * units + 0.5)
    with pytest.raises(CheckFailed, match="expected an int"):
        checks.check_dense_params(lambda n_in, units, use_bias=True: f"{n_in * units}")
    with pytest.raises(CheckFailed, match=r"returned 30\.0; expected an int"):
        checks.check_dense_params(lambda n_in, units, use_bias=True: units * (n_in + 1.0))
    checks.check_dense_params(
        lambda n_in, units, use_bias=True: np.int64((n_in + use_bias) * units)
    )


def test_nan_matrix_is_named():
    def nan_matrix(kernel, n, padding="valid"):
        matrix = matrix_loops(kernel, n, padding)
        matrix[0, 0] = np.nan
        return matrix

    with pytest.raises(CheckFailed, match="NaN"):
        checks.check_conv1d_matrix(nan_matrix)


def test_dense_for_matrices_only_gets_the_any_rank_hint():
    class Unpacks(ReferenceDense):
        def call(self, inputs):
            batch, n_in = inputs.shape
            out = ops.matmul(inputs, self.kernel)
            return self.activation(out + self.bias if self.use_bias else out)

    class Flattens(ReferenceDense):
        def call(self, inputs):
            out = ops.matmul(ops.reshape(inputs, (-1, inputs.shape[-1])), self.kernel)
            return self.activation(out + self.bias if self.use_bias else out)

    for cls in (Unpacks, Flattens):
        cls.__name__ = "Dense"
        with pytest.raises(CheckFailed, match="any rank"):
            checks.check_dense_matches_keras(cls)


# --- fresh cases, as when grading --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["public", "hidden"])
def test_count_oracles_give_the_stored_counts(kind):
    for table, oracle in (
        (cases.DENSE_PARAMS_CASES, cases.dense_count),
        (cases.MLP_PARAMS_CASES, cases.mlp_count),
        (cases.CONV2D_PARAMS_CASES, cases.conv2d_count),
    ):
        for args, kwargs, expected in table[kind]:
            assert oracle(*args, **kwargs) == expected, (oracle.__name__, args, kwargs)


@pytest.mark.parametrize("seed", range(5))
def test_count_oracles_agree_with_keras_on_drawn_cases(seed):
    rng = np.random.default_rng(seed)
    for _ in range(3):
        n_in, units = cases.draw_dense_params(rng)
        assert cases.dense_count(n_in, units) == _keras_dense_count(n_in, units)
        size, channels, filters = cases.draw_conv2d_params(rng)
        expected = _keras_conv_count(size, channels, filters, use_bias=False)
        assert cases.conv2d_count(size, channels, filters, use_bias=False) == expected
    shape, units = (9, 7, 3), cases.draw_mlp_params(rng)[1]
    assert cases.mlp_count(shape, units) == _keras_mlp_count(shape, units)


@pytest.mark.parametrize("seed", range(20))
def test_drawn_counts_are_fresh_and_below_the_limit(seed):
    with fresh(seed):
        for hidden in (False, True):
            kind = "hidden" if hidden else "public"
            for table, redraw, draw, oracle in (
                (
                    cases.DENSE_PARAMS_CASES,
                    cases.redraw_dense_params,
                    cases.draw_dense_params,
                    cases.dense_count,
                ),
                (
                    cases.MLP_PARAMS_CASES,
                    cases.redraw_mlp_params,
                    cases.draw_mlp_params,
                    cases.mlp_count,
                ),
                (
                    cases.CONV2D_PARAMS_CASES,
                    cases.redraw_conv2d_params,
                    cases.draw_conv2d_params,
                    cases.conv2d_count,
                ),
            ):
                drawn = cases.count_cases(table[kind], redraw, draw, oracle, hidden)
                stored = table[kind]
                assert len(drawn) == len(stored) + (cases.EXTRA_HIDDEN if hidden else 0)
                assert [kw for _, kw, _ in drawn[: len(stored)]] == [kw for _, kw, _ in stored]
                for args, kwargs, count in drawn:
                    assert count == oracle(*args, **kwargs) <= cases.COUNT_LIMIT
                assert {repr(args) for args, _, _ in drawn} != {repr(a) for a, _, _ in stored}


@pytest.mark.parametrize("seed", range(20))
def test_count_checks_pass_correct_code_on_fresh_cases(seed):
    with fresh(seed):
        for hidden in (False, True):
            checks.check_dense_params(dense_params_loop, hidden=hidden)
            checks.check_mlp_params(mlp_params_numpy, hidden=hidden)
            checks.check_mlp_params(mlp_params_float, hidden=hidden)
            checks.check_conv2d_params(conv2d_params_fan_in, hidden=hidden)


def test_units_come_as_a_tuple_and_list_only_code_is_shown_its_line():
    """The notebook says units may be a list or a tuple; the cases pass tuples, so code that
    works for lists only is told what raised, and where."""

    def mlp_params_lists_only(input_shape, units, use_bias=True):
        sizes = [math.prod(input_shape)] + units
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        return sum(a * b + (b if use_bias else 0) for a, b in pairs)

    assert mlp_params_lists_only((28, 28), [100, 10]) == cases.mlp_count((28, 28), (100, 10))
    with pytest.raises(CheckFailed, match=r"(?s)concatenate list.*\[math.prod\(input_shape\)\]"):
        checks.check_mlp_params(mlp_params_lists_only)


def test_a_dense_that_reads_the_batch_size_fails_in_model_fit():
    """inputs.shape[0] is None when model.fit's last batch is smaller: the check's fit has one,
    as the notebook's experiment has."""

    class StaticBatchDense(ReferenceDense):
        def call(self, inputs):
            flat = ops.reshape(inputs, (-1, inputs.shape[-1]))
            out = ops.matmul(flat, self.kernel)
            out = out + self.bias if self.use_bias else out
            return self.activation(ops.reshape(out, (*inputs.shape[:-1], self.units)))

    StaticBatchDense.__name__ = "Dense"
    checks.check_dense_matches_keras(StaticBatchDense, hidden=True)
    with pytest.raises(CheckFailed, match="batch size is None") as failure:
        checks.check_dense_trains(StaticBatchDense)
    assert "inputs.shape[:-1]" in failure.value.hint


def _lookup_table(table):
    answers = {
        (args, tuple(sorted(kwargs.items()))): n
        for kind in table
        for args, kwargs, n in table[kind]
    }

    def lookup(*args, **kwargs):
        return answers.get((args, tuple(sorted(kwargs.items()))), 0)

    return lookup


def test_a_lookup_table_of_the_stored_counts_fails_when_grading():
    lookup = _lookup_table(cases.DENSE_PARAMS_CASES)
    checks.check_dense_params(lookup)
    checks.check_dense_params(lookup, hidden=True)
    for hidden in (False, True):
        with fresh(3), pytest.raises(CheckFailed, match="expected"):
            checks.check_dense_params(lookup, hidden=hidden)


@pytest.mark.parametrize("seed", range(20))
def test_wrong_counts_fail_on_fresh_cases(seed):
    from solutions.mistakes import mlp_limits as wrong

    with fresh(seed):
        for check, fn in (
            (checks.check_dense_params, wrong.dense_params_no_bias),
            (checks.check_dense_params, wrong.dense_params_always_bias),
            (checks.check_mlp_params, wrong.mlp_params_height_only),
            (checks.check_mlp_params, wrong.mlp_params_no_channels),
            (checks.check_conv2d_params, wrong.conv2d_params_no_bias),
            (checks.check_conv2d_params, wrong.conv2d_params_no_channels),
        ):
            with pytest.raises(CheckFailed, match="Likely mistake"):
                check(fn)


@pytest.mark.parametrize("seed", range(20))
def test_the_disguised_example_is_the_band_matrix_of_its_kernel(seed):
    with fresh(seed):
        kernel, expected, case = cases.example()
    assert "lecture's example" in case
    np.testing.assert_array_equal(expected, cases.expected_matrix(kernel, 5, "same"))


@pytest.mark.parametrize("seed", range(10))
def test_conv1d_matrix_checks_pass_correct_code_on_fresh_cases(seed):
    with fresh(seed):
        for fn in MATRICES:
            checks.check_conv1d_matrix_example(fn)
            checks.check_conv1d_matrix(fn, hidden=True)
            checks.check_conv1d_matrix_sparsity(fn)


@pytest.mark.parametrize("seed", range(10))
def test_wrong_matrices_fail_on_fresh_cases(seed):
    from solutions.mistakes import mlp_limits as wrong

    with fresh(seed):
        for fn, failing in (
            (wrong.conv1d_matrix_flipped, ("example", "values")),
            (wrong.conv1d_matrix_shifted, ("example", "values", "sparsity")),
            (wrong.conv1d_matrix_transposed, ("example", "values", "sparsity")),
        ):
            for name, check in (
                ("example", checks.check_conv1d_matrix_example),
                ("values", checks.check_conv1d_matrix),
                ("sparsity", checks.check_conv1d_matrix_sparsity),
            ):
                if name in failing:
                    with pytest.raises(CheckFailed, match="Likely mistake"):
                        check(fn)
                else:
                    check(fn)


@pytest.mark.parametrize("seed", range(3))
def test_dense_checks_pass_correct_code_on_fresh_cases(seed):
    with fresh(seed):
        for cls in DENSES:
            checks.check_dense_matches_keras(cls)
            checks.check_dense_matches_keras(cls, hidden=True)


@pytest.mark.parametrize("seed", range(3))
def test_an_mlp_of_the_reference_dense_learns_on_fresh_data(seed):
    with fresh(seed):
        checks.check_dense_trains(ReferenceDense)


def mlp_params_tuple_joined(input_shape, units, use_bias=True):
    widths = (int(np.prod(input_shape)),) + units
    return sum(a * b + b * use_bias for a, b in zip(widths, widths[1:], strict=False))


def conv2d_params_tuple_typed(kernel_size, channels, filters, use_bias=True):
    kh, kw = kernel_size if type(kernel_size) is tuple else (kernel_size,) * 2
    return filters * (kh * kw * channels + int(use_bias))


def conv1d_matrix_by_shape(kernel, n, padding="valid"):
    k = kernel.shape[0]
    n_out, left = _layout(k, n, padding)
    return sum(kernel[m] * np.eye(n_out, n, k=m - left) for m in range(k))


def test_code_for_tuples_or_arrays_only_fails_on_the_notebook_s_lists():
    """The notebook's own cells pass lists (mlp_params((28, 28), [100, 100, 1]),
    conv1d_matrix([1.0, 2.0, 3.0], 12, padding="same")), and Keras takes a kernel size as a
    list; code that works on tuples or arrays only kept full marks and crashed in those cells."""
    assert mlp_params_tuple_joined((28, 28), (64, 4)) == 50_500
    assert conv2d_params_tuple_typed((3, 2), 3, 5) == 95
    checks.check_conv1d_matrix(conv1d_matrix_by_shape)
    for check, fn, line in (
        (checks.check_mlp_params, mlp_params_tuple_joined, "units is a list here, [64, 4]"),
        (checks.check_conv2d_params, conv2d_params_tuple_typed, "kernel_size is a list here"),
        (checks.check_conv1d_matrix_example, conv1d_matrix_by_shape, "the kernel is a list"),
    ):
        with pytest.raises(CheckFailed) as failure:
            check(fn)
        assert " raised " in failure.value.headline
        assert failure.value.details[-1].startswith(line), failure.value.details


def test_code_that_raises_on_tuples_too_is_not_told_about_lists():
    """The note about lists comes only when the same call with tuples runs."""

    def conv2d_params_square_only(kernel_size, channels, filters, use_bias=True):
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        if kh != kw:
            raise ValueError("only square kernels")
        return (kh * kw * channels + use_bias) * filters

    with pytest.raises(CheckFailed) as failure:
        checks.check_conv2d_params(conv2d_params_square_only)
    assert failure.value.headline == (
        "conv2d_params([3, 2], 3, 5) raised ValueError: only square kernels"
    )
    assert not any("is a list here" in line for line in failure.value.details)


def test_a_wrong_default_padding_fails_the_matrix_check():
    """Every case passed its padding, so a default of "same" instead of "valid" kept full
    marks; a stored case now leaves it out."""

    def conv1d_matrix_same_by_default(kernel, n, padding="same"):
        return matrix_loops(kernel, n, padding)

    checks.check_conv1d_matrix_example(conv1d_matrix_same_by_default)
    checks.check_conv1d_matrix_sparsity(conv1d_matrix_same_by_default)
    with pytest.raises(CheckFailed) as failure:
        checks.check_conv1d_matrix(conv1d_matrix_same_by_default)
    assert failure.value.headline.endswith(", 7) has the wrong shape.")
    assert failure.value.details[:2] == [
        "matrix has shape (7, 7); expected (n - k + 1, n) = (7 - 4 + 1, 7) = (4, 7)",
        "padding is not given here: it defaults to 'valid', as the docstring says",
    ]


def test_a_dense_that_computes_in_float64_is_told_to_cast_back():
    """Right values in float64, where keras.layers.Dense (and the layer's own symbolic output)
    give float32: a model of it mixes dtypes."""

    class Float64Dense(ReferenceDense):
        def call(self, inputs):
            x = np.asarray(inputs, np.float64)
            out = np.tensordot(x, np.asarray(self.kernel, np.float64), axes=1)
            if self.use_bias:
                out = out + np.asarray(self.bias, np.float64)
            return self.activation(ops.convert_to_tensor(out))

    Float64Dense.__name__ = "Dense"
    with pytest.raises(CheckFailed) as failure:
        checks.check_dense_matches_keras(Float64Dense)
    assert failure.value.headline == "Dense returns float64; Keras's Dense returns float32."
    assert failure.value.hint == "cast back with ops.cast(..., self.compute_dtype)"

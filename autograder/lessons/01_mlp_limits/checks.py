"""Checks of lesson 01 (limits of fully connected layers), called from the notebook's test cells.

Every check raises `CheckFailed` with feedback in the lesson's terms, or prints one OK line.
Parameter counts are exact integers. Tolerances of the array checks are stated next to them;
tests/autograder prove that correct implementations written in several styles pass them over
20 seeds. When grading, every check draws fresh cases (`harness.cases`).
"""

import math
import numbers

import numpy as np

from ...builtin_ops import CONVOLUTION_OPS
from ...compare import Tolerance, compare, to_numpy
from ...contract import (
    assign_weights,
    build_layer,
    check_config_roundtrip,
    check_output_shape,
    check_signature,
    describe_call,
    expect_weights,
    make_layer,
)
from ...diagnosis import first_match
from ...feedback import CheckFailed, passed
from ...guard import ForbiddenOps
from ...harness import cases, ops
from ...student import label, perform, run
from ...training import fit_losses, require_learning
from . import mistakes as catalogue

ASSIGNMENT = "01_mlp_limits"

# Built-in fully connected layers: the student's Dense must compute inputs @ kernel itself.
DENSE = ForbiddenOps(
    "a built-in fully connected layer",
    (
        "keras.layers.Dense.__init__",
        "keras.layers.Dense.build",
        "keras.layers.Dense.call",
        "keras.layers.EinsumDense.__init__",
        "keras.layers.EinsumDense.build",
        "keras.layers.EinsumDense.call",
        "tensorflow.compat.v1.nn.xw_plus_b",
    ),
    "compute the layer yourself: create kernel and bias with self.add_weight in build(), then "
    "ops.matmul(inputs, self.kernel) + self.bias in call()",
)
# Parameter counts must come from the formula, not from building Keras layers and asking them.
COUNTING = ForbiddenOps(
    "Keras's own parameter count",
    (
        "keras.layers.Layer.count_params",
        "keras.layers.Dense.build",
        "keras.layers.Conv2D.__init__",
        "keras.src.layers.convolutional.base_conv.BaseConv.build",
    ),
    "count with the formula: one weight per (input, unit) pair, one bias per unit",
)
# The banded matrix must be built from the kernel, not produced by a built-in.
BANDED = ForbiddenOps(
    "a built-in convolution or Toeplitz matrix",
    (*CONVOLUTION_OPS, "scipy.linalg.toeplitz", "scipy.linalg.convolution_matrix"),
    "fill the matrix yourself: row i holds the kernel starting at column i - left (a loop over "
    "rows, or one np.eye(n_out, n, k=...) per kernel tap)",
)

# --- parameter counts: (arguments, keyword arguments, exact count) --------------------------------
# The 640x480 and 2048x1536 numbers without biases are the lecture's (30,730,100 and
# 314,582,900); the LWLS digit network gives 104, 808, 1,548, 117,800 and 2,010. Every other
# count equals keras count_params() of the same layers (tests/autograder/checks prove it).
DENSE_PARAMS_CASES = {
    "public": [
        ((5, 5), {}, 30),
        ((784, 100), {}, 78_500),
        ((784, 100), {"use_bias": False}, 78_400),
        ((588, 200), {}, 117_800),
        ((200, 10), {}, 2_010),
    ],
    "hidden": [
        ((1, 1), {}, 2),
        ((1, 1), {"use_bias": False}, 1),
        ((3072, 100), {}, 307_300),
        ((100, 1), {"use_bias": True}, 101),
        ((64, 32), {"use_bias": False}, 2_048),
    ],
}
MLP_PARAMS_CASES = {
    "public": [
        (((480, 640), (100, 100, 1)), {"use_bias": False}, 30_730_100),
        (((480, 640), (100, 100, 1)), {}, 30_730_301),
        (((32, 32, 3), (100, 100, 1)), {}, 317_501),
        (((28, 28), (64, 4)), {}, 50_500),
    ],
    "hidden": [
        (((1536, 2048), (100, 100, 1)), {"use_bias": False}, 314_582_900),
        (((1536, 2048), (100, 100, 1)), {}, 314_583_101),
        (((32, 32, 3), (100, 100, 1)), {"use_bias": False}, 317_300),
        (((8, 5, 2), (7,)), {}, 567),
        (((28, 28, 1), (200, 10)), {}, 159_010),
        (((6, 4, 3), (10, 8, 6, 4)), {}, 900),
    ],
}
CONV2D_PARAMS_CASES = {
    "public": [
        ((5, 1, 4), {}, 104),
        ((5, 4, 8), {}, 808),
        (((4, 4), 8, 12), {}, 1_548),
        ((3, 3, 16), {"use_bias": False}, 432),
        (((3, 2), 3, 5), {}, 95),
    ],
    "hidden": [
        ((1, 1, 1), {}, 2),
        ((3, 1, 100), {}, 1_000),
        (((1, 7), 6, 2), {"use_bias": False}, 84),
        ((7, 3, 64), {}, 9_472),
        (((2, 5), 4, 3), {"use_bias": True}, 123),
    ],
}

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 4
# Drawn counts stay below 2**31 as the stored ones do: 32-bit integer arithmetic stays exact.
COUNT_LIMIT = 2**31 - 1

# --- Dense: (input shape, units, use_bias, activation, seed), compared with Keras live ---------
DENSE_CASES = {
    "public": [
        ((4, 5), 3, True, None, 1),
        ((8, 16), 10, True, "relu", 2),
        ((5, 9), 2, False, None, 3),
        ((2, 7, 6), 4, True, "tanh", 4),
    ],
    "hidden": [
        ((1, 1), 1, True, None, 5),
        ((3, 64), 32, True, "sigmoid", 6),
        ((6, 12), 1, False, "relu", 7),
        ((2, 3, 4, 5), 6, True, "softmax", 8),
        ((4, 2, 10), 7, False, "tanh", 9),
    ],
}
DENSE_TOL = Tolerance(
    1e-4, 1e-4, "float32 sums of up to 64 products, possibly in another order than Keras"
)
GRADIENT_TOL = Tolerance(1e-4, 1e-3, "float32 gradients summed over at most 24 rows")

# --- conv1d_matrix: (kernel length, n, padding, seed) ------------------------------------------
# The lecture's same-size example: a 3-tap kernel [w1, w2, w3] = [1, 2, 3] on 5 inputs.
EXAMPLE_KERNEL = np.array([1.0, 2.0, 3.0])
EXAMPLE_MATRIX = np.array(
    [
        [2, 3, 0, 0, 0],
        [1, 2, 3, 0, 0],
        [0, 1, 2, 3, 0],
        [0, 0, 1, 2, 3],
        [0, 0, 0, 1, 2],
    ],
    dtype=float,
)
CONV1D_CASES = {
    "public": [(3, 8, "valid", 1), (3, 8, "same", 2), (4, 9, "same", 3), (5, 5, "valid", 4)],
    "hidden": [
        (1, 6, "valid", 5),
        (1, 6, "same", 6),
        (2, 7, "same", 7),
        (6, 10, "same", 8),
        (7, 12, "valid", 9),
        (5, 16, "same", 10),
        (8, 8, "same", 11),
    ],
}
SPARSITY_CASES = [
    (np.array([2.0, -1.0, 3.0]), 8, "valid"),
    (np.array([1.0, 4.0, -2.0, 5.0]), 7, "same"),
]
EXACT_MATRIX_TOL = Tolerance(1e-9, 0.0, "the matrix only holds copies of the kernel's taps")
CONV1D_TOL = Tolerance(
    1e-5, 1e-5, "a float32 or float64 matrix times random signals, at most k products per value"
)


def _fail_with_diagnosis(headline, details, mistake, hint=""):
    details = list(details)
    if mistake is not None:
        details.append(mistake.feedback())
    raise CheckFailed(headline, details, hint)


# --- parameter counts --------------------------------------------------------------------------


def _as_count(value, call):
    """The student's count as an int, or feedback saying why it is not one."""
    try:
        array = to_numpy(value)
    except Exception:
        array = None
    if array is not None and array.shape == () and np.issubdtype(array.dtype, np.number):
        number = array.item()
        if isinstance(number, numbers.Real) and float(number).is_integer():
            return int(number)
    raise CheckFailed(
        f"{call} returned {value!r}; expected a whole number of parameters.",
        [],
        "return an int, e.g. n_in * units + units",
    )


def dense_count(n_in, units, use_bias=True) -> int:
    """Parameters of a Dense layer, by the formula (the checks' own answer when grading)."""
    return n_in * units + (units if use_bias else 0)


def mlp_count(input_shape, units, use_bias=True) -> int:
    """Parameters of Flatten + one Dense layer per entry of `units`, by the formula."""
    sizes = [math.prod(input_shape), *units]
    return sum(dense_count(a, b, use_bias) for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def conv2d_count(kernel_size, channels, filters, use_bias=True) -> int:
    """Parameters of a Conv2D layer, by the formula."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return (kh * kw * channels + (1 if use_bias else 0)) * filters


def _wide(rng, low, high) -> int:
    """A whole number in [low, high], log-uniform, so that small and large sizes both come up."""
    return min(high, max(low, int(np.exp(rng.uniform(np.log(low), np.log(high + 1))))))


def _like(rng, stored, high) -> int:
    """A fresh size for a stored one: 1 stays 1 (a case about a single unit or channel)."""
    return 1 if stored == 1 else _wide(rng, 2, high)


def _redraw_dense_params(rng, args):
    n_in, units = args
    return _like(rng, n_in, 100_000), _like(rng, units, 10_000)


def _draw_dense_params(rng):
    return _wide(rng, 1, 100_000), _wide(rng, 1, 10_000)


def _redraw_mlp_params(rng, args):
    shape, units = args
    return tuple(_like(rng, n, 4096) for n in shape), tuple(_like(rng, u, 1024) for u in units)


def _draw_mlp_params(rng):
    shape = tuple(_wide(rng, 1, 4096) for _ in range(2))
    if rng.integers(2):
        shape = (*shape, _wide(rng, 1, 16))
    return shape, tuple(_wide(rng, 1, 1024) for _ in range(int(rng.integers(1, 5))))


def _redraw_conv2d_params(rng, args):
    size, channels, filters = args
    size = _like(rng, size, 11) if isinstance(size, int) else tuple(_like(rng, k, 11) for k in size)
    return size, _like(rng, channels, 1024), _like(rng, filters, 1024)


def _draw_conv2d_params(rng):
    size = tuple(_wide(rng, 1, 11) for _ in range(2))
    return size[0] if rng.integers(2) else size, _wide(rng, 1, 1024), _wide(rng, 1, 1024)


BIAS_ARGUMENTS = ({}, {"use_bias": False}, {"use_bias": True})


def _count_cases(table, redraw, draw, oracle, hidden):
    """(args, kwargs, count) to check: the stored cases; when grading, the same cases with fresh
    arguments (a size of 1 stays 1, use_bias stays) and, for hidden checks, EXTRA_HIDDEN cases
    drawn at random, every count by `oracle` and below COUNT_LIMIT."""
    if not cases.drawing():
        return list(table)
    rng = cases.generator()

    def fresh(make):
        while True:
            args, kwargs = make()
            count = oracle(*args, **kwargs)
            if count <= COUNT_LIMIT:
                return args, kwargs, count

    found = [fresh(lambda a=args, k=kwargs: (redraw(rng, a), k)) for args, kwargs, _ in table]
    for _ in range(EXTRA_HIDDEN if hidden else 0):
        bias = BIAS_ARGUMENTS[int(rng.integers(len(BIAS_ARGUMENTS)))]
        found.append(fresh(lambda b=bias: (draw(rng), b)))
    return found


def _check_counts(what, fn, table, probes, variants, hint):
    for args, kwargs, expected in table:
        call = describe_call(what, args, kwargs)
        got = _as_count(run(call, fn, *args, forbidden=COUNTING, **kwargs), call)
        if got != expected:
            mistake = _diagnose_counts(what, fn, probes, variants)
            details = [f"off by {got - expected:+,}"]
            _fail_with_diagnosis(
                f"{call} returned {got:,}; expected {expected:,}.", details, mistake, hint
            )
    return len(table)


def _diagnose_counts(what, fn, probes, variants):
    outputs = []
    try:
        for p in probes:
            *args, use_bias = p.values()
            outputs.append(run(what, fn, *args, use_bias=use_bias, forbidden=COUNTING))
    except CheckFailed:
        return None
    return first_match(outputs, probes, variants)


def check_dense_params(dense_params, hidden=False):
    """Exact counts of single Dense layers, with and without biases."""
    kind = "hidden" if hidden else "public"
    table = _count_cases(
        DENSE_PARAMS_CASES[kind], _redraw_dense_params, _draw_dense_params, dense_count, hidden
    )
    count = _check_counts(
        "dense_params",
        dense_params,
        table,
        catalogue.dense_params_probes(),
        catalogue.DENSE_PARAMS_VARIANTS,
        "a Dense layer has one weight per (input, unit) pair and, with use_bias, one bias per unit",
    )
    passed(f"dense_params gives the exact count on {count} layers")


def check_mlp_params(mlp_params, hidden=False):
    """Exact counts of Flatten + Dense stacks on images, including the lecture's 640x480 case."""
    kind = "hidden" if hidden else "public"
    table = _count_cases(
        MLP_PARAMS_CASES[kind], _redraw_mlp_params, _draw_mlp_params, mlp_count, hidden
    )
    count = _check_counts(
        "mlp_params",
        mlp_params,
        table,
        catalogue.mlp_params_probes(),
        catalogue.MLP_PARAMS_VARIANTS,
        "Flatten gives H * W * C inputs; then add dense_params of each consecutive pair of sizes",
    )
    passed(f"mlp_params gives the exact count on {count} networks")


def check_conv2d_params(conv2d_params, hidden=False):
    """Exact counts of Conv2D layers: (kh * kw * channels + 1) * filters, whatever the image."""
    kind = "hidden" if hidden else "public"
    table = _count_cases(
        CONV2D_PARAMS_CASES[kind], _redraw_conv2d_params, _draw_conv2d_params, conv2d_count, hidden
    )
    count = _check_counts(
        "conv2d_params",
        conv2d_params,
        table,
        catalogue.conv2d_params_probes(),
        catalogue.CONV2D_PARAMS_VARIANTS,
        "each filter holds kh * kw * channels weights and, with use_bias, one bias",
    )
    passed(f"conv2d_params gives the exact count on {count} layers")


# --- Dense -------------------------------------------------------------------------------------

SUPPORTED_ARGUMENTS = (
    "units",
    "activation",
    "use_bias",
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
)
KERNEL_FORMULA = "(input_dim, units)"
WEIGHT_FORMULAS = {"kernel": KERNEL_FORMULA, "bias": "(units,)"}
ANY_RANK_HINT = (
    "Dense works on the last axis of inputs of any rank >= 2: (batch, ..., input_dim) -> "
    "(batch, ..., units). ops.matmul(inputs, self.kernel) does that; so does "
    "ops.einsum('...i,ij->...j', inputs, self.kernel)"
)


def _kernel_shape_mistake(key, found, expected):
    return catalogue.kernel_shape_mistake(found, expected) if key == "kernel" else None


def _student_dense(
    Dense, input_shape, units, use_bias=True, activation=None, kernel=None, bias=None
):
    """Instantiate and build the student's layer; copy `kernel` and `bias` into it."""
    kwargs = {"use_bias": use_bias, "activation": activation}
    layer = make_layer(Dense, (units,), kwargs, forbidden=DENSE)
    build_layer(layer, (None, *input_shape[1:]), forbidden=DENSE)
    if kernel is not None:
        values = {"kernel": kernel} if bias is None else {"kernel": kernel, "bias": bias}
        assign_weights(
            layer, values, how=WEIGHT_FORMULAS, shape_mistake=_kernel_shape_mistake, forbidden=DENSE
        )
    return layer


def _keras_dense(input_shape, units, use_bias, activation, kernel, bias):
    import keras

    layer = keras.layers.Dense(units, use_bias=use_bias, activation=activation)
    layer.build((None, *input_shape[1:]))
    layer.set_weights([kernel, bias] if use_bias else [kernel])
    return layer


def _random_case(input_shape, units, seed):
    rng = np.random.default_rng(cases.seed(seed))
    x = rng.normal(size=input_shape).astype("float32")
    kernel = rng.normal(scale=0.5, size=(input_shape[-1], units)).astype("float32")
    bias = rng.normal(size=(units,)).astype("float32")
    return x, kernel, bias


def _diagnose_dense(Dense):
    probes = catalogue.dense_probes()
    outputs = []
    try:
        for p in probes:
            units = p["kernel"].shape[1]
            layer = _student_dense(
                Dense, p["x"].shape, units, True, p["activation"], p["kernel"], p["bias"]
            )
            outputs.append(run("Dense", layer, p["x"], forbidden=DENSE))
    except CheckFailed:
        return None
    return first_match(outputs, probes, catalogue.DENSE_VARIANTS)


def _draw_dense_case(rng):
    """A fresh (input shape, units, use_bias, activation, seed) for grading, within the
    shapes DENSE_TOL is proven for (rank 2-4, input_dim <= 64)."""
    rank = int(rng.integers(2, 5))
    shape = (*(int(n) for n in rng.integers(1, 5, size=rank - 1)), int(rng.integers(1, 65)))
    activation = [None, "relu", "tanh", "sigmoid", "softmax"][int(rng.integers(5))]
    return shape, int(rng.integers(1, 33)), bool(rng.integers(4)), activation, 0


WEIGHT_ARGUMENTS_CASE = (
    "Dense(3, kernel_initializer='ones', bias_initializer=Constant(2.0), "
    "kernel_regularizer=L2(0.5), bias_regularizer=L1(0.25), kernel_constraint='non_neg', "
    "bias_constraint='non_neg') built for inputs (None, 2)"
)


def _check_weight_arguments(Dense):
    """Initializers, regularizers and constraints given to the constructor reach the weights."""
    import keras

    kwargs = {
        "kernel_initializer": "ones",
        "bias_initializer": keras.initializers.Constant(2.0),
        "kernel_regularizer": keras.regularizers.L2(0.5),
        "bias_regularizer": keras.regularizers.L1(0.25),
        "kernel_constraint": "non_neg",
        "bias_constraint": "non_neg",
    }
    layer = make_layer(Dense, (3,), kwargs, forbidden=DENSE)
    build_layer(layer, (None, 2), forbidden=DENSE)
    expect_weights(layer, {"kernel": (2, 3), "bias": (3,)}, how=WEIGHT_FORMULAS, forbidden=DENSE)
    name = label(layer)
    values = perform(f"{name}.weights", "weight_values", layer, forbidden=DENSE)
    constraints = perform(f"{name}.weights", "weight_constraints", layer, forbidden=DENSE)
    problems = []
    for key, value in (("kernel", 1.0), ("bias", 2.0)):
        if not np.allclose(values[key], value):
            problems.append(f"{key}_initializer is ignored: {key} does not start at {value:g}")
        if constraints[key] is None:
            problems.append(f"{key}_constraint is ignored: {key} has no constraint")
    losses = perform("Dense.losses", "value", layer.losses, forbidden=DENSE)
    if len(losses) != 2:
        problems.append(
            f"kernel_regularizer and bias_regularizer should add 2 losses; the layer has "
            f"{len(losses)}"
        )
    if problems:
        _fail_with_diagnosis(
            "Dense does not create its weights with the arguments it was given.",
            [f"case: {WEIGHT_ARGUMENTS_CASE}", *problems],
            catalogue.INITIALIZERS_IGNORED,
        )


def check_dense_contract(Dense):
    """Constructor, weights, output shape and config behave like keras.layers.Dense."""
    import keras

    check_signature(Dense, keras.layers.Dense, SUPPORTED_ARGUMENTS, forbidden=DENSE)
    layer = make_layer(Dense, (4,), {"activation": "relu"}, forbidden=DENSE)
    build_layer(layer, (None, 6), forbidden=DENSE)
    expect_weights(
        layer,
        {"kernel": (6, 4), "bias": (4,)},
        how=WEIGHT_FORMULAS,
        shape_mistake=_kernel_shape_mistake,
        forbidden=DENSE,
    )
    no_bias = make_layer(Dense, (4,), {"use_bias": False}, forbidden=DENSE)
    build_layer(no_bias, (None, 6), forbidden=DENSE)
    expect_weights(no_bias, {"kernel": (6, 4)}, how=WEIGHT_FORMULAS, forbidden=DENSE)
    _check_weight_arguments(Dense)
    formula = "(batch, ..., units): only the last axis changes"
    check_output_shape(layer, (2, 6), (2, 4), formula, forbidden=DENSE)
    check_output_shape(layer, (None, 5, 6), (None, 5, 4), formula, forbidden=DENSE)
    check_output_shape(layer, (None, None, 3, 6), (None, None, 3, 4), formula, forbidden=DENSE)
    check_config_roundtrip(layer, ("units", "activation", "use_bias"), forbidden=DENSE)
    symbolic = perform(
        "Dense on a symbolic keras.Input((5, 6))",
        "symbolic_output",
        Dense,
        (None, 5, 6),
        (4,),
        forbidden=DENSE,
    )
    if tuple(symbolic.shape) != (None, 5, 4):
        raise CheckFailed(
            f"Dense(4) on keras.Input((5, 6)) gives shape {tuple(symbolic.shape)}; expected "
            "(None, 5, 4).",
            [f"formula: {formula}"],
            ANY_RANK_HINT,
        )
    passed("Dense has Keras's arguments, weights, output shape and config")


def check_dense_matches_keras(Dense, hidden=False):
    """Outputs equal keras.layers.Dense's with the same (copied) weights, on inputs of rank 2-4."""
    kind = "hidden" if hidden else "public"
    dense_cases = cases.pick(DENSE_CASES[kind], _draw_dense_case, EXTRA_HIDDEN if hidden else 0)
    for input_shape, units, use_bias, activation, seed in dense_cases:
        x, kernel, bias = _random_case(input_shape, units, seed)
        call = describe_call("Dense", (units,), {"use_bias": use_bias, "activation": activation})
        case = f"{call} on inputs {input_shape}"
        layer = _student_dense(
            Dense, input_shape, units, use_bias, activation, kernel, bias if use_bias else None
        )
        expected = _keras_dense(input_shape, units, use_bias, activation, kernel, bias)(x)
        try:
            out = run("Dense", layer, x, case=case, forbidden=DENSE)
        except CheckFailed as failure:
            if len(input_shape) > 2 and "not implemented" not in failure.headline:
                raise CheckFailed(failure.headline, failure.details, ANY_RANK_HINT) from failure
            raise
        mismatch = compare(out, np.asarray(expected), DENSE_TOL)
        if mismatch:
            hint = ANY_RANK_HINT if mismatch.kind == "shape" else ""
            _fail_with_diagnosis(
                "Dense does not match keras.layers.Dense with the same weights.",
                [f"case: {case}", *mismatch.lines],
                _diagnose_dense(Dense),
                hint,
            )
    passed(f"Dense matches keras.layers.Dense on {len(dense_cases)} cases")


def check_dense_trains(Dense):
    """Gradients equal Keras's, and an MLP of your Dense layers learns (its loss goes down)."""
    input_shape, units = (4, 6, 5), 3
    x, kernel, bias = _random_case(input_shape, units, seed=21)
    target = np.random.default_rng(cases.seed(22)).normal(size=(4, 6, 3)).astype("float32")
    ours = _student_dense(Dense, input_shape, units, True, "tanh", kernel, bias)
    theirs = _keras_dense(input_shape, units, True, "tanh", kernel, bias)

    ours_grads = perform(
        "the gradient of a loss through Dense", "gradients", ours, x, target=target, forbidden=DENSE
    )["weights"]
    for name, expected in ops.gradients(theirs, x, target=target)["weights"].items():
        got = ours_grads.get(name)
        if got is None:
            _fail_with_diagnosis(
                f"No gradient reaches Dense.{name}.",
                [
                    "the loss does not depend on this weight through operations TensorFlow can "
                    "differentiate"
                ],
                _diagnose_dense(Dense),
                "compute call() with keras.ops on the inputs and self.kernel / self.bias; "
                "converting to NumPy inside call() cuts the gradient",
            )
        mismatch = compare(got, np.asarray(expected), GRADIENT_TOL, name=f"d loss / d {name}")
        if mismatch:
            _fail_with_diagnosis(
                f"The gradient with respect to Dense.{name} differs from Keras's.",
                [
                    "case: mean squared error of a tanh Dense(3) on inputs (4, 6, 5)",
                    *mismatch.lines,
                ],
                _diagnose_dense(Dense),
            )

    rng = np.random.default_rng(cases.seed(23))
    inputs = rng.normal(size=(128, 8)).astype("float32")
    labels = (inputs[:, 0] * inputs[:, 1] > 0).astype("float32")
    spec = [(Dense, (16,), {"activation": "relu"}), (Dense, (1,), {"activation": "sigmoid"})]
    losses = fit_losses(
        "keras.Model.fit with your Dense",
        spec,
        (None, 8),
        inputs,
        labels,
        "binary_crossentropy",
        epochs=20,
        batch_size=32,
        forbidden=DENSE,
    )
    require_learning(losses, "A small MLP built from your Dense layers does not learn.")
    passed(f"Dense trains: gradients match Keras, loss {losses[0]:.3f} -> {losses[-1]:.3f}")


# --- conv1d_matrix -----------------------------------------------------------------------------


def _expected_matrix(kernel, n, padding):
    n_out, start = catalogue.layout(len(kernel), n, padding)
    return catalogue.matrix_of(kernel, n, n_out, start)


def _shape_formula(k, n, padding):
    if padding == "valid":
        return f"(n - k + 1, n) = ({n} - {k} + 1, {n}) = ({n - k + 1}, {n})"
    return f"(n, n) = ({n}, {n}) for padding='same'"


def _call_conv1d_matrix(fn, kernel, n, padding):
    taps = ", ".join(f"{v:.3g}" for v in kernel)
    call = f"conv1d_matrix([{taps}], {n}, padding={padding!r})"
    matrix = run(call, fn, kernel.copy(), n, padding=padding, forbidden=BANDED)
    return to_numpy(matrix), call


def _diagnose_conv1d_matrix(fn):
    probes = catalogue.conv1d_matrix_probes()
    try:
        outputs = [_call_conv1d_matrix(fn, p["kernel"], p["n"], p["padding"])[0] for p in probes]
    except CheckFailed:
        return None
    pairs = zip(outputs, probes, strict=True)
    if all(compare(out, p["expected"], EXACT_MATRIX_TOL) is None for out, p in pairs):
        return None
    return first_match(outputs, probes, catalogue.CONV1D_MATRIX_VARIANTS)


def _shape_problem(matrix, k, n, padding):
    n_out = n - k + 1 if padding == "valid" else n
    if matrix.shape == (n_out, n):
        return None
    return [f"matrix has shape {matrix.shape}; expected {_shape_formula(k, n, padding)}"]


def _example():
    """(kernel, matrix, case) of the lecture's example, or (when grading) the same example in
    disguise: the kernel times a whole number, maybe reversed, which scales the matrix and
    maybe turns it by 180 degrees (exact for an odd kernel with 'same' padding)."""
    if not cases.drawing():
        return EXAMPLE_KERNEL, EXAMPLE_MATRIX, ""
    rng = cases.generator()
    a = int(rng.integers(2, 10))
    kernel, matrix = a * EXAMPLE_KERNEL, a * EXAMPLE_MATRIX
    if rng.integers(2):
        case = f"the lecture's example, kernel reversed, times {a}"
        return kernel[::-1].copy(), matrix[::-1, ::-1].copy(), case
    return kernel, matrix, f"the lecture's example, times {a}"


def check_conv1d_matrix_example(conv1d_matrix):
    """The lecture's same-size 5x5 matrix of the 3-tap kernel [w1, w2, w3] = [1, 2, 3]."""
    kernel, expected, case = _example()
    matrix, call = _call_conv1d_matrix(conv1d_matrix, kernel, 5, "same")
    mismatch = compare(matrix, expected, EXACT_MATRIX_TOL, name="T")
    if mismatch:
        _fail_with_diagnosis(
            f"{call} is not the lecture's matrix.",
            [
                *([f"case: {case}"] if case else []),
                *mismatch.lines,
                f"expected rows: {expected.astype(int).tolist()}",
            ],
            _diagnose_conv1d_matrix(conv1d_matrix),
            "row 0 is [w2, w3, 0, 0, 0]: output 0 is centred on input 0, whose left neighbour "
            "is the zero padding",
        )
    passed("conv1d_matrix reproduces the lecture's 5x5 same-size matrix")


def _draw_conv1d_case(rng):
    """A fresh (kernel length, n, padding, seed) for grading."""
    k = int(rng.integers(1, 9))
    return k, k + int(rng.integers(0, 12)), ("valid", "same")[int(rng.integers(2))], 0


def check_conv1d_matrix(conv1d_matrix, hidden=False):
    """T @ x equals the cross-correlation of x with the kernel, for random kernels and signals."""
    kind = "hidden" if hidden else "public"
    conv1d_cases = cases.pick(CONV1D_CASES[kind], _draw_conv1d_case, EXTRA_HIDDEN if hidden else 0)
    for k, n, padding, seed in conv1d_cases:
        rng = np.random.default_rng(cases.seed(500 + seed))
        kernel, signals = rng.normal(size=k), rng.normal(size=(n, 4))
        matrix, call = _call_conv1d_matrix(conv1d_matrix, kernel, n, padding)
        problem = _shape_problem(matrix, k, n, padding)
        if problem:
            _fail_with_diagnosis(
                f"{call} has the wrong shape.",
                problem,
                _diagnose_conv1d_matrix(conv1d_matrix),
                "one row per output, one column per input",
            )
        n_out, start = catalogue.layout(k, n, padding)
        expected = catalogue.correlate1d(signals, kernel, n_out, start)
        mismatch = compare(matrix @ signals, expected, CONV1D_TOL, name="T @ x")
        if mismatch:
            _fail_with_diagnosis(
                "T @ x is not the cross-correlation of x with the kernel.",
                [f"case: T = {call}, x = 4 random signals of length {n}", *mismatch.lines],
                _diagnose_conv1d_matrix(conv1d_matrix),
                "output i is sum over m of kernel[m] * x[i + m - left] (x is zero outside "
                "0..n-1), so T[i, i + m - left] = kernel[m]",
            )
    passed(
        f"T @ x is the cross-correlation on {len(conv1d_cases)} cases "
        "(kernels, lengths and paddings)"
    )


def _sparsity_cases():
    """SPARSITY_CASES; when grading, the same kernel lengths and paddings with fresh lengths n
    and fresh distinct, non-zero whole-number taps."""
    if not cases.drawing():
        return SPARSITY_CASES
    rng = cases.generator()
    taps = np.array([*range(-9, 0), *range(1, 10)], dtype=float)
    return [
        (
            rng.choice(taps, size=len(kernel), replace=False),
            int(rng.integers(len(kernel) + 1, 17)),
            padding,
        )
        for kernel, _, padding in SPARSITY_CASES
    ]


def check_conv1d_matrix_sparsity(conv1d_matrix):
    """Each row holds the k kernel taps in a band, and the matrix has only k distinct weights."""
    counts = []
    for kernel, n, padding in _sparsity_cases():
        k = len(kernel)
        matrix, call = _call_conv1d_matrix(conv1d_matrix, kernel, n, padding)
        problem = _shape_problem(matrix, k, n, padding)
        expected = _expected_matrix(kernel, n, padding)
        if problem is None:
            found, wanted = matrix != 0, expected != 0
            for i in range(len(wanted)):
                if (found[i] != wanted[i]).any():
                    problem = [
                        f"row {i} has non-zeros in columns {np.flatnonzero(found[i]).tolist()}; "
                        f"expected columns {np.flatnonzero(wanted[i]).tolist()}"
                    ]
                    break
        if problem is None:
            distinct = np.unique(matrix[matrix != 0])
            if len(distinct) != k or not np.allclose(np.sort(distinct), np.sort(kernel)):
                problem = [
                    f"the non-zeros take {len(distinct)} distinct values "
                    f"{np.round(distinct, 6).tolist()}; expected the {k} kernel taps "
                    f"{kernel.tolist()}, shared by every row"
                ]
        if problem:
            _fail_with_diagnosis(
                f"{call} does not have the band structure of a convolution.",
                problem,
                _diagnose_conv1d_matrix(conv1d_matrix),
                "output i sees only inputs i - left .. i - left + k - 1",
            )
        counts.append(
            f"{int(np.count_nonzero(matrix))} non-zeros of {matrix.size} ({k} distinct) for "
            f"k={k}, n={n}, {padding}"
        )
    passed("conv1d_matrix is banded with shared weights: " + "; ".join(counts))

"""Checks of lesson 01 (limits of fully connected layers), declared on the shared harness;
the cases and tolerances are in `cases.py`, the catalogue of mistakes in `mistakes.py`."""

from dataclasses import dataclass

import numpy as np

from ...builtin_ops import CONVOLUTION_OPS
from ...compare import EXACT, compare, to_numpy
from ...contract import Build, Contract, WeightArguments
from ...diagnosis import Diagnosis
from ...feedback import CheckFailed, fail, passed
from ...guard import ForbiddenOps
from ...harness import cases as drawn
from ...judge import Compare
from ...student import Raised, perform, run
from ...training import GradientFeedback, check_gradients, require_trains
from ...twin import Twin, matches_keras
from . import cases
from . import mistakes as catalogue

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

# --- parameter counts --------------------------------------------------------------------------


def _as_count(value, call):
    """The student's count as an int, or feedback saying why it is not one."""
    try:
        array = to_numpy(value)
    except Exception:
        array = None
    if array is not None and array.shape == () and np.issubdtype(array.dtype, np.integer):
        return int(array.item())
    raise CheckFailed(
        f"{call} returned {value!r}; expected an int, the number of parameters.",
        [],
        "return an int, e.g. n_in * units + units (/ and float() make a float: use // or none)",
    )


@dataclass(frozen=True)
class _Counts(Compare):
    """Exact counts: each call is named by its arguments, the answer must be a whole number,
    and the headline (formatted with the call and both counts) says how far off it is.
    `list_note` is (an argument's position, the line feedback adds when the code raises on
    that argument given as a list)."""

    list_note: tuple[int, str] = (0, "")

    def run(self, student, case):
        try:
            return run(case.text, student, *case.args, forbidden=self.forbidden, **case.kwargs)
        except Raised as failure:
            index, note = self.list_note
            if not note or not isinstance(case.args[index], list):
                raise
            # the same call with tuples: code that raises on them too is told so, as before
            tuples = [tuple(a) if isinstance(a, list) else a for a in case.args]
            run(case.text, student, *tuples, forbidden=self.forbidden, **case.kwargs)
            note = note.format(value=case.args[index])
            raise Raised(failure.headline, [*failure.details, note], failure.hint) from None

    def judge(self, student, case, output):
        got = _as_count(output, case.text)
        if got != case.expected:
            fail(
                self.headline.format(call=case.text, got=got, expected=case.expected),
                [f"off by {got - case.expected:+,}"],
                mistake=self.diagnosis(student),
                hint=self.hint,
            )


def _counts(what, hint, passed, list_note=(0, "")):
    """The check of the counting function `what`, diagnosed on the catalogue's `{what}_probes`
    (each asks with one use_bias) and `{WHAT}_VARIANTS`."""

    def on_probe(fn, probe):
        args = [v for k, v in probe.items() if k != "use_bias"]
        return run(what, fn, *args, use_bias=probe["use_bias"], forbidden=COUNTING)

    variants = getattr(catalogue, f"{what.upper()}_VARIANTS")
    return _Counts(
        what,
        getattr(cases, what),
        EXACT,
        COUNTING,
        "{call} returned {got:,}; expected {expected:,}.",
        passed,
        Diagnosis(getattr(catalogue, f"{what}_probes"), variants, on_probe),
        hint,
        list_note=list_note,
    )


check_dense_params = _counts(
    "dense_params",
    "a Dense layer has one weight per (input, unit) pair and, with use_bias, one bias per unit",
    "dense_params gives the exact count on {count} layers",
)
check_mlp_params = _counts(
    "mlp_params",
    "Flatten gives H * W * C inputs; then add dense_params of each consecutive pair of sizes",
    "mlp_params gives the exact count on {count} networks",
    (
        1,
        "units is a list here, {value}: it may be a list or a tuple, [100, 100, 1] or "
        "(100, 100, 1), as the notebook's own cells pass it",
    ),
)
check_conv2d_params = _counts(
    "conv2d_params",
    "each filter holds kh * kw * channels weights and, with use_bias, one bias",
    "conv2d_params gives the exact count on {count} layers",
    (
        0,
        "kernel_size is a list here, {value}: a pair (kh, kw) may be a list or a tuple, as "
        "Keras's Conv2D takes it",
    ),
)

# --- Dense -------------------------------------------------------------------------------------

DENSE_TWIN = Twin(
    "Dense",
    how={"kernel": "(input_dim, units)", "bias": "(units,)"},
    shape_mistake=lambda input_shape: catalogue.kernel_shape_mistake,
)


def _dense_on_probe(Dense, probe):
    values = {"kernel": probe["kernel"], "bias": probe["bias"]}
    kwargs = {"use_bias": True, "activation": probe["activation"]}
    units = (probe["kernel"].shape[1],)
    return DENSE_TWIN.output(Dense, units, kwargs, probe["x"], values, forbidden=DENSE)


DENSE_DIAGNOSIS = Diagnosis(catalogue.dense_probes, catalogue.DENSE_VARIANTS, _dense_on_probe)


def _check_bias_is_none(Dense):
    """Without a bias, build sets `self.bias = None`, as the lesson asks and Keras's Dense does."""
    layer = DENSE_TWIN.student(Dense, (4,), {"use_bias": False}, (None, 6), forbidden=DENSE)
    try:
        state = perform("Dense.bias", "value", layer.bias, forbidden=DENSE) is None or "set"
    except AttributeError:  # a local layer without the attribute
        state = "missing"
    if state is not True:
        fail(
            "Dense(4, use_bias=False).bias is not None after build.",
            [f"Dense.bias is {state}"],
            case="Dense(4, use_bias=False) built for inputs (None, 6)",
            hint="in build(), set self.bias = None when use_bias is False, as Keras's Dense "
            "does: code that reads layer.bias expects it",
        )


check_dense_contract = Contract(
    "Dense",
    "Dense",
    tuple(
        "units activation use_bias kernel_initializer bias_initializer kernel_regularizer "
        "bias_regularizer activity_regularizer kernel_constraint bias_constraint".split()
    ),
    DENSE,
    builds=(
        Build((4,), {"activation": "relu"}, (None, 6), {"kernel": (6, 4), "bias": (4,)}),
        Build((4,), {"use_bias": False}, (None, 6), {"kernel": (6, 4)}),
    ),
    how=DENSE_TWIN.how,
    shape_mistake=DENSE_TWIN.shape_mistake,
    weight_arguments=WeightArguments(
        (3,),
        (None, 2),
        {"kernel": (2, 3), "bias": (3,)},
        mistake=catalogue.INITIALIZERS_IGNORED,
    ),
    extra=_check_bias_is_none,
    output_shapes=(((4,), {"activation": "relu"}, ((2, 6), (None, 5, 6), (None, None, 3, 6))),),
    formula="(batch, ..., units): only the last axis changes",
    config=((4,), {"activation": "relu"}, ("units", "activation", "use_bias")),
    symbolic=((4,), {}, (None, 5, 6)),
    resized=((4,), {"activation": "relu"}, ((2, 3, 6), (5, 6))),
    symbolic_hint=cases.ANY_RANK_HINT,
)
check_dense_matches_keras = matches_keras(
    "Dense", DENSE_TWIN, cases.dense, cases.DENSE_TOL, DENSE, DENSE_DIAGNOSIS, same_dtype=True
)


def check_dense_trains(Dense):
    """Gradients equal Keras's, and an MLP of your Dense layers learns (its loss goes down)."""
    case = cases.dense_case((4, 6, 5), 3, True, "tanh", 21)
    built = (case.args, case.layer_kwargs, case.inputs.shape, case.weights)
    ours = DENSE_TWIN.student(Dense, *built, forbidden=DENSE)
    check_gradients(
        ours,
        DENSE_TWIN.reference(*built),
        case.inputs,
        drawn.normal((4, 6, 3), 22),
        cases.GRADIENT_TOL,
        "mean squared error of a tanh Dense(3) on inputs (4, 6, 5)",
        name="Dense",
        forbidden=DENSE,
        diagnose=lambda: DENSE_DIAGNOSIS(Dense),
        feedback=GradientFeedback(diagnose_missing=True),
    )

    # 120 rows in batches of 32: the last batch has 24, so model.fit runs call() on batches of
    # unknown size (None), as the notebook's experiment does; code that reads inputs.shape[0]
    # fails there, as it would in any model.
    inputs = drawn.normal((120, 8), 23)
    labels = (inputs[:, 0] * inputs[:, 1] > 0).astype("float32")
    spec = [(Dense, (16,), {"activation": "relu"}), (Dense, (1,), {"activation": "sigmoid"})]
    require_trains(
        "keras.Model.fit with your Dense (batches of 32, the last of 24, so the batch size is None "
        "inside call())",
        spec,
        (None, 8),
        inputs,
        labels,
        epochs=20,
        batch_size=32,
        forbidden=DENSE,
        headline="A small MLP built from your Dense layers does not learn.",
        name="Dense",
    )


# --- conv1d_matrix -----------------------------------------------------------------------------


def _matrix(fn, kernel, n, padding):
    """The student's matrix for `kernel`, `n` and `padding`, as a NumPy array."""
    call = cases.matrix_call(kernel, n, padding)
    kwargs = cases.padding_kwargs(padding)
    return to_numpy(run(call, fn, kernel.copy(), n, forbidden=BANDED, **kwargs))


CONV1D_MATRIX_DIAGNOSIS = Diagnosis(
    catalogue.conv1d_matrix_probes,
    catalogue.CONV1D_MATRIX_VARIANTS,
    lambda fn, p: _matrix(fn, p["kernel"], p["n"], p["padding"]),
)


def _shape_problem(matrix, k, n, padding):
    n_out = cases.layout(k, n, padding)[0]
    if matrix.shape == (n_out, n):
        return None
    formula = (
        f"(n - k + 1, n) = ({n} - {k} + 1, {n}) = ({n_out}, {n})"
        if (padding or cases.DEFAULT_PADDING) == "valid"
        else f"(n, n) = ({n}, {n}) for padding='same'"
    )
    lines = [f"matrix has shape {matrix.shape}; expected {formula}"]
    if padding is None:
        lines.append("padding is not given here: it defaults to 'valid', as the docstring says")
    return lines


def check_conv1d_matrix_example(conv1d_matrix):
    """The lecture's same-size 5x5 matrix of the 3-tap kernel [w1, w2, w3] = [1, 2, 3]."""
    kernel, expected, case = cases.example()
    try:  # the taps as a list, as the notebook's own cells give them
        matrix = _matrix(conv1d_matrix, kernel.tolist(), 5, "same")
    except Raised as failure:
        _matrix(conv1d_matrix, kernel, 5, "same")  # code that raises on an array is told so
        note = (
            f"the kernel is a list here, {kernel.tolist()}: your code works on the same taps as "
            "a 1-D array, but the notebook's own cells pass a list "
            "(conv1d_matrix([1.0, 2.0, 3.0], 12, padding='same'))"
        )
        raise Raised(failure.headline, [*failure.details, note], failure.hint) from None
    mismatch = compare(matrix, expected, cases.EXACT_MATRIX_TOL, name="T")
    if mismatch:
        fail(
            f"{cases.matrix_call(kernel, 5, 'same')} is not the lecture's matrix.",
            [*mismatch.lines, f"expected rows: {expected.astype(int).tolist()}"],
            case=case,
            mistake=CONV1D_MATRIX_DIAGNOSIS(conv1d_matrix),
            hint="row 0 is [w2, w3, 0, 0, 0]: output 0 is centred on input 0, whose left "
            "neighbour is the zero padding",
        )
    passed("conv1d_matrix reproduces the lecture's 5x5 same-size matrix")


def _product(fn, case):
    """T @ x of the student's matrix T, once T has the right shape."""
    kernel, n, signals = case.args
    padding = case.kwargs.get("padding")
    matrix = _matrix(fn, kernel, n, padding)
    problem = _shape_problem(matrix, len(kernel), n, padding)
    if problem:
        fail(
            f"{cases.matrix_call(kernel, n, padding)} has the wrong shape.",
            problem,
            mistake=CONV1D_MATRIX_DIAGNOSIS(fn),
            hint="one row per output, one column per input",
        )
    return matrix @ signals


check_conv1d_matrix = Compare(
    "conv1d_matrix",
    cases.conv1d_matrix,
    cases.CONV1D_TOL,
    BANDED,
    headline="T @ x is not the cross-correlation of x with the kernel.",
    passed="T @ x is the cross-correlation on {count} cases (kernels, lengths and paddings)",
    diagnosis=CONV1D_MATRIX_DIAGNOSIS,
    hint="output i is sum over m of kernel[m] * x[i + m - left] (x is zero outside 0..n-1), "
    "so T[i, i + m - left] = kernel[m]",
    call=_product,
    name="T @ x",
)


def _band_problem(matrix, kernel, n, padding):
    """What breaks the band structure of the student's matrix, if anything."""
    k = len(kernel)
    problem = _shape_problem(matrix, k, n, padding)
    if problem:
        return problem
    found, wanted = matrix != 0, cases.expected_matrix(kernel, n, padding) != 0
    for i in range(len(wanted)):
        if (found[i] != wanted[i]).any():
            return [
                f"row {i} has non-zeros in columns {np.flatnonzero(found[i]).tolist()}; "
                f"expected columns {np.flatnonzero(wanted[i]).tolist()}"
            ]
    distinct = np.unique(matrix[matrix != 0])
    if len(distinct) != k or not np.allclose(np.sort(distinct), np.sort(kernel)):
        return [
            f"the non-zeros take {len(distinct)} distinct values "
            f"{np.round(distinct, 6).tolist()}; expected the {k} kernel taps "
            f"{kernel.tolist()}, shared by every row"
        ]
    return None


def check_conv1d_matrix_sparsity(conv1d_matrix):
    """Each row holds the k kernel taps in a band, and the matrix has only k distinct weights."""
    counts = []
    for kernel, n, padding in cases.sparsity_cases():
        matrix = _matrix(conv1d_matrix, kernel, n, padding)
        problem = _band_problem(matrix, kernel, n, padding)
        if problem:
            fail(
                f"{cases.matrix_call(kernel, n, padding)} does not have the band structure of "
                "a convolution.",
                problem,
                mistake=CONV1D_MATRIX_DIAGNOSIS(conv1d_matrix),
                hint="output i sees only inputs i - left .. i - left + k - 1",
            )
        counts.append(
            f"{int(np.count_nonzero(matrix))} non-zeros of {matrix.size} ({len(kernel)} "
            f"distinct) for k={len(kernel)}, n={n}, {padding}"
        )
    passed("conv1d_matrix is banded with shared weights: " + "; ".join(counts))

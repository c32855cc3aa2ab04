"""Lesson 01's cases: parameter counts (exact integers), Dense cases compared with Keras live,
the lecture's banded matrix and the conv1d_matrix cases, their tolerances, and how fresh cases
are drawn when grading. tests/autograder prove that correct code in several styles passes
these tolerances over 20 seeds.
"""

import math

import numpy as np

from ...compare import Tolerance
from ...contract import describe_call
from ...harness import cases
from ...judge import Case
from ...keras_layers import layer_case
from ...twin import LayerCase

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
        (((28, 28), [64, 4]), {}, 50_500),  # a list, as the notebook's own cells pass
    ],
    "hidden": [
        (((1536, 2048), (100, 100, 1)), {"use_bias": False}, 314_582_900),
        (((1536, 2048), (100, 100, 1)), {}, 314_583_101),
        (((32, 32, 3), (100, 100, 1)), {"use_bias": False}, 317_300),
        (((8, 5, 2), (7,)), {}, 567),
        (((28, 28, 1), (200, 10)), {}, 159_010),
        (((6, 4, 3), [10, 8, 6, 4]), {}, 900),
    ],
}
CONV2D_PARAMS_CASES = {
    "public": [
        ((5, 1, 4), {}, 104),
        ((5, 4, 8), {}, 808),
        (((4, 4), 8, 12), {}, 1_548),
        ((3, 3, 16), {"use_bias": False}, 432),
        (([3, 2], 3, 5), {}, 95),  # a pair as a list, which Keras accepts too
    ],
    "hidden": [
        ((1, 1, 1), {}, 2),
        ((3, 1, 100), {}, 1_000),
        (((1, 7), 6, 2), {"use_bias": False}, 84),
        ((7, 3, 64), {}, 9_472),
        (([2, 5], 4, 3), {"use_bias": True}, 123),
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
ANY_RANK_HINT = (
    "Dense works on the last axis of inputs of any rank >= 2: (batch, ..., input_dim) -> "
    "(batch, ..., units). ops.matmul(inputs, self.kernel) does that; so does "
    "ops.einsum('...i,ij->...j', inputs, self.kernel)"
)

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
# A padding of None is not passed: the case relies on the default, "valid".
CONV1D_CASES = {
    "public": [
        (3, 8, "valid", 1),
        (3, 8, "same", 2),
        (4, 9, "same", 3),
        (5, 5, "valid", 4),
        (4, 7, None, 12),
    ],
    "hidden": [
        (1, 6, "valid", 5),
        (1, 6, "same", 6),
        (2, 7, "same", 7),
        (6, 10, "same", 8),
        (7, 12, "valid", 9),
        (5, 16, "same", 10),
        (8, 8, "same", 11),
        (6, 4, "same", 13),  # a kernel longer than the signal: 'same' still gives n outputs
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


# --- parameter counts --------------------------------------------------------------------------


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


def _like(rng, stored, high):
    """Fresh sizes for stored ones, a tuple of sizes staying a tuple and a list a list: 1 stays 1
    (a case about a single unit or channel), any other size is drawn in [2, high]."""
    if isinstance(stored, tuple | list):
        return type(stored)(_like(rng, size, high) for size in stored)
    return 1 if stored == 1 else _wide(rng, 2, high)


def _redraw(*highs):
    """Fresh arguments for stored ones: argument i's sizes up to highs[i]."""
    return lambda rng, args: tuple(_like(rng, a, h) for a, h in zip(args, highs, strict=True))


redraw_dense_params = _redraw(100_000, 10_000)
redraw_mlp_params = _redraw(4096, 1024)
redraw_conv2d_params = _redraw(11, 1024, 1024)


def draw_dense_params(rng):
    return _wide(rng, 1, 100_000), _wide(rng, 1, 10_000)


def draw_mlp_params(rng):
    shape = tuple(_wide(rng, 1, 4096) for _ in range(2))
    if rng.integers(2):
        shape = (*shape, _wide(rng, 1, 16))
    return shape, tuple(_wide(rng, 1, 1024) for _ in range(int(rng.integers(1, 5))))


def draw_conv2d_params(rng):
    size = tuple(_wide(rng, 1, 11) for _ in range(2))
    return size[0] if rng.integers(2) else size, _wide(rng, 1, 1024), _wide(rng, 1, 1024)


BIAS_ARGUMENTS = ({}, {"use_bias": False}, {"use_bias": True})


def count_cases(table, redraw, draw, oracle, hidden):
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


def _counts(what, table, redraw, draw, oracle):
    """The cases of the check of `what`: its arguments, the exact count, the call as text."""

    def provide(hidden: bool) -> list[Case]:
        stored = table["hidden" if hidden else "public"]
        rows = count_cases(stored, redraw, draw, oracle, hidden)
        return [Case(args, n, describe_call(what, args, kw), kwargs=kw) for args, kw, n in rows]

    return provide


dense_params = _counts(
    "dense_params", DENSE_PARAMS_CASES, redraw_dense_params, draw_dense_params, dense_count
)
mlp_params = _counts("mlp_params", MLP_PARAMS_CASES, redraw_mlp_params, draw_mlp_params, mlp_count)
conv2d_params = _counts(
    "conv2d_params", CONV2D_PARAMS_CASES, redraw_conv2d_params, draw_conv2d_params, conv2d_count
)

# --- Dense -------------------------------------------------------------------------------------


def random_dense(input_shape, units, seed):
    """(inputs, kernel, bias) of a case, drawn from `seed` (a fresh seed when grading)."""
    rng = np.random.default_rng(cases.seed(seed))
    x = rng.normal(size=input_shape).astype("float32")
    kernel = rng.normal(scale=0.5, size=(input_shape[-1], units)).astype("float32")
    bias = rng.normal(size=(units,)).astype("float32")
    return x, kernel, bias


def _draw_dense_case(rng):
    """A fresh (input shape, units, use_bias, activation, seed) for grading, within the
    shapes DENSE_TOL is proven for (rank 2-4, input_dim <= 64)."""
    rank = int(rng.integers(2, 5))
    shape = (*(int(n) for n in rng.integers(1, 5, size=rank - 1)), int(rng.integers(1, 65)))
    activation = [None, "relu", "tanh", "sigmoid", "softmax"][int(rng.integers(5))]
    return shape, int(rng.integers(1, 33)), bool(rng.integers(4)), activation, 0


def dense_case(input_shape, units, use_bias, activation, seed) -> LayerCase:
    """A Dense case: its constructor's arguments, inputs and weights (no bias without one). On
    inputs of rank > 2, code that raises is told that Dense works on inputs of any rank."""
    x, kernel, bias = random_dense(input_shape, units, seed)
    return layer_case(
        "Dense",
        (units,),
        {"use_bias": use_bias, "activation": activation},
        x,
        {"kernel": kernel, "bias": bias if use_bias else None},
        ANY_RANK_HINT,
        error_hint=ANY_RANK_HINT if len(input_shape) > 2 else "",
    )


def dense(hidden: bool) -> list[LayerCase]:
    """The stored Dense cases, with fresh values (and more shapes when hidden) when grading."""
    return [
        dense_case(*row) for row in cases.rows(DENSE_CASES, hidden, _draw_dense_case, EXTRA_HIDDEN)
    ]


# --- conv1d_matrix -----------------------------------------------------------------------------


DEFAULT_PADDING = "valid"  # conv1d_matrix's, as its docstring says


def matrix_call(kernel, n, padding) -> str:
    """`conv1d_matrix([1, 2, 3], 5, padding='same')`, for feedback (no padding: None)."""
    taps = ", ".join(f"{v:.3g}" for v in kernel)
    mode = "" if padding is None else f", padding={padding!r}"
    return f"conv1d_matrix([{taps}], {n}{mode})"


def padding_kwargs(padding) -> dict:
    """The keyword arguments that pass `padding` (none for None: the default)."""
    return {} if padding is None else {"padding": padding}


def correlate1d(x, kernel, n_out, start):
    """out[i] = sum over m of kernel[m] * x[i + m + start], with x zero outside [0, n); `x` may
    hold several signals as columns, shape (n, signals). `layout` gives Keras's n_out and start."""
    x = np.asarray(x, float)
    n, k = len(x), len(kernel)
    out = np.zeros((n_out, *x.shape[1:]))
    for m in range(k):
        for i in range(n_out):
            j = i + m + start
            if 0 <= j < n:
                out[i] += kernel[m] * x[j]
    return out


def layout(k, n, padding):
    """(n_out, start) of a Keras 1-D cross-correlation: output length and first input index
    (padding None: the default)."""
    if (padding or DEFAULT_PADDING) == "valid":
        return n - k + 1, 0
    return n, -((k - 1) // 2)


def expected_matrix(kernel, n, padding, shift=0):
    """The matrix of x -> correlate1d(x, kernel, ...) (its columns are the images of e_j); with
    `shift`, its band moved by that many columns."""
    n_out, start = layout(len(kernel), n, padding)
    return correlate1d(np.eye(n), kernel, n_out, start + shift)


def example():
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


def _draw_conv1d_case(rng):
    """A fresh (kernel length, n, padding, seed) for grading."""
    k, padding = int(rng.integers(1, 9)), ("valid", "same")[int(rng.integers(2))]
    shortest = 1 if padding == "same" else k  # 'same' takes a kernel longer than the signal
    return k, int(rng.integers(shortest, k + 12)), padding, 0


def conv1d_matrix(hidden: bool) -> list[Case]:
    """Cases of T @ x: a random kernel, n and padding, 4 random signals x, and their
    cross-correlation with the kernel."""
    found = []
    for k, n, padding, seed in cases.rows(CONV1D_CASES, hidden, _draw_conv1d_case, EXTRA_HIDDEN):
        rng = np.random.default_rng(cases.seed(500 + seed))
        kernel, signals = rng.normal(size=k), rng.normal(size=(n, 4))
        n_out, start = layout(k, n, padding)
        expected = correlate1d(signals, kernel, n_out, start)
        text = f"T = {matrix_call(kernel, n, padding)}, x = 4 random signals of length {n}"
        found.append(Case((kernel, n, signals), expected, text, kwargs=padding_kwargs(padding)))
    return found


def sparsity_cases():
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

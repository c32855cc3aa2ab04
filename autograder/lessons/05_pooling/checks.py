"""Checks of lesson 05 (pooling), called from the notebook's test cells.

Every check raises `CheckFailed` with feedback in the lesson's terms, or prints one OK line.
Tolerances are stated next to each check; tests/autograder prove that correct
implementations written in several styles pass them over 20 seeds. When grading, every check
draws fresh cases (`harness.cases`).
"""

from functools import partial

import numpy as np

from ... import references
from ...builtin_ops import POOLING_OPS
from ...compare import Tolerance, compare, to_numpy
from ...contract import (
    build_layer,
    check_config_roundtrip,
    check_output_shape,
    check_signature,
    describe_call,
    make_layer,
)
from ...diagnosis import first_match
from ...feedback import CheckFailed, passed
from ...guard import ForbiddenOps
from ...harness import cases, ops
from ...student import label, perform, run
from ...training import fit_losses, require_learning
from . import mistakes as catalogue

ASSIGNMENT = "05_pooling"


POOLING = ForbiddenOps(
    "a built-in pooling op",
    POOLING_OPS,
    "this lesson asks you to compute it yourself from slices, ops.pad, ops.stack and "
    "reductions such as ops.max, ops.sum and ops.mean",
)

# The worked example: a 4x4 image, 2x2 windows, stride 2 (the default: strides = pool_size).
HAND_X = np.array([[1, 3, 2, 4], [5, 6, 1, 2], [7, 2, 3, 0], [1, 0, 4, 8]])
HAND_MAX = np.array([[6, 4], [7, 8]])
HAND_AVERAGE = np.array([[3.75, 2.25], [2.5, 3.75]])
# 'same' padding on negative numbers: one padded row at the bottom, one column at the right.
NEGATIVE_X = -np.arange(1, 10).reshape(3, 3)
NEGATIVE_MAX = np.array([[-1, -3], [-7, -9]])
NEGATIVE_AVERAGE = np.array([[-3, -4.5], [-7.5, -9]])

# (size, pool_size, stride, padding) compared with Keras's output shapes.
OUTPUT_SIZE_CASES = {
    "public": [
        (8, 2, 2, "valid"),
        (7, 2, 2, "valid"),
        (7, 3, 2, "valid"),
        (10, 3, 1, "valid"),
        (7, 2, 2, "same"),
        (8, 3, 3, "same"),
        (5, 5, 5, "valid"),
        (5, 3, 1, "same"),
    ],
    "hidden": [
        (n, k, s, padding)
        for n in range(1, 13)
        for k in range(1, 5)
        for s in range(1, 5)
        for padding in ("valid", "same")
        if padding == "same" or k <= n
    ],
}
# (input shape, pool_size, strides, padding, pad_value, seed) of the stored pool_windows cases.
WINDOWS_CASES = {
    "public": [
        ((1, 4, 4, 1), (2, 2), (2, 2), "valid", 0.0, 1),
        ((2, 5, 7, 3), (3, 2), (3, 2), "same", 9.0, 2),
        ((2, 6, 5, 2), (3, 3), (1, 1), "same", -9.0, 3),
        ((1, 9, 8, 2), (2, 3), (2, 1), "valid", 0.0, 4),
    ],
    "hidden": [
        ((2, 7, 7, 4), (2, 2), (2, 2), "same", 9.0, 5),
        ((1, 3, 3, 1), (4, 4), (4, 4), "same", -9.0, 6),
        ((3, 10, 6, 2), (1, 3), (3, 2), "same", 9.0, 7),
        ((2, 8, 9, 3), (3, 1), (4, 2), "valid", 9.0, 8),
        ((1, 5, 5, 1), (5, 5), (1, 1), "valid", 0.0, 9),
        ((2, 11, 4, 2), (2, 4), (3, 1), "same", -9.0, 10),
    ],
}
# (input shape, pool_size, strides, padding, negative inputs, seed) compared with Keras live.
POOLING_CASES = {
    "public": [
        ((2, 8, 8, 3), 2, None, "valid", False, 1),
        ((2, 9, 7, 2), (3, 2), None, "same", False, 2),
        ((1, 10, 9, 4), 3, (2, 1), "valid", False, 3),
        ((3, 7, 8, 2), (2, 3), 2, "same", True, 4),
    ],
    "hidden": [
        ((1, 5, 5, 1), 5, None, "valid", False, 5),
        ((2, 6, 11, 3), (1, 3), (1, 2), "same", False, 6),
        ((2, 12, 12, 8), 4, 3, "same", True, 7),
        ((1, 13, 6, 2), (3, 1), (4, 1), "valid", False, 8),
        ((2, 4, 4, 5), 3, 1, "same", True, 9),
        ((2, 3, 3, 2), 4, None, "same", True, 10),
        ((4, 16, 16, 3), (2, 2), None, "same", False, 11),
        ((1, 7, 9, 1), (3, 3), (2, 2), "same", True, 12),
    ],
}
# (input shape, keepdims, seed) compared with keras.layers.GlobalAveragePooling2D live.
GLOBAL_CASES = {
    "public": [((2, 5, 6, 3), False, 1), ((1, 7, 7, 1), True, 2), ((3, 4, 9, 8), False, 3)],
    "hidden": [
        ((2, 16, 16, 16), True, 4),
        ((1, 1, 1, 5), False, 5),
        ((4, 3, 12, 2), True, 6),
        ((2, 28, 28, 4), False, 7),
    ],
}

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 4

HAND_TOL = Tolerance(1e-6, 0.0, "small example with exact answers")
WINDOWS_TOL = Tolerance(1e-6, 0.0, "pool_windows only copies values")
MAX_TOL = Tolerance(1e-6, 0.0, "a max picks one of the input values: no rounding")
AVERAGE_TOL = Tolerance(
    1e-5, 1e-5, "float32 means of at most 25 values, summed in another order than TensorFlow"
)
GLOBAL_TOL = Tolerance(1e-5, 1e-5, "float32 means of at most 784 values of size ~1")
GRADIENT_TOL = Tolerance(
    1e-5, 1e-5, "input gradients are sums of a few weights (max) or of weights / counts (average)"
)

SUPPORTED_ARGUMENTS = ("pool_size", "strides", "padding", "data_format", "name")
CONFIG_KEYS = ("pool_size", "strides", "padding", "data_format")
SHAPE_FORMULA = "out = floor((n - k) / s) + 1 for 'valid', ceil(n / s) for 'same'"


def reference_outputs(solution) -> dict[str, np.ndarray]:
    """Inputs and outputs of the stored pool_windows cases, from `solution`."""
    arrays = {}
    for kind, table in WINDOWS_CASES.items():
        for index, (shape, size, strides, padding, pad_value, seed) in enumerate(table):
            x = np.random.default_rng(5000 + seed).normal(size=shape).astype("float32")
            prefix = f"pool_windows/{kind}/{index}"
            arrays[f"{prefix}/x"] = x
            out = solution.pool_windows(x, size, strides, padding, pad_value)
            arrays[f"{prefix}/out"] = np.asarray(out)
    return arrays


def expected_windows(x, pool_size, strides, padding, pad_value) -> np.ndarray:
    """pool_windows of `x` computed here with NumPy: TensorFlow's 'same' padding (the extra
    row and column after the input), each window listed row by row."""
    (kh, kw), (sh, sw) = pool_size, strides
    x = np.asarray(x)
    widths = [(0, 0)] * 4
    if padding == "same":
        for axis, k, s in ((1, kh, sh), (2, kw, sw)):
            n = x.shape[axis]
            total = max((-(-n // s) - 1) * s + k - n, 0)
            widths[axis] = (total // 2, total - total // 2)
    padded = np.pad(x, widths, constant_values=pad_value)
    view = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))
    view = view[:, ::sh, ::sw]  # (b, out_h, out_w, C, kh, kw)
    b, out_h, out_w, c = view.shape[:4]
    return np.moveaxis(view.reshape(b, out_h, out_w, c, kh * kw), 3, 4)


def _wide(rng, low, high) -> int:
    """A whole number in [low, high], log-uniform, so that small and large sizes both come up."""
    return min(high, max(low, int(np.exp(rng.uniform(np.log(low), np.log(high + 1))))))


def _fail(headline, mismatch_lines, case, mistake, hint=""):
    details = [f"case: {case}", *mismatch_lines]
    if mistake is not None:
        details.append(mistake.feedback())
    raise CheckFailed(headline, details, hint)


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


# --- pool_output_size --------------------------------------------------------------------------


def _keras_output_size(n, k, s, padding):
    import keras

    layer = keras.layers.MaxPooling2D((k, 1), strides=(s, 1), padding=padding)
    return layer.compute_output_shape((1, n, 1, 1))[1]


def _output_size_formula(n, k, s, padding):
    if padding == "valid":
        return f"'valid': floor((n - k) / s) + 1 = floor(({n} - {k}) / {s}) + 1"
    return f"'same': ceil(n / s) = ceil({n} / {s})"


def _as_int(value):
    """The student's answer as an int, or None when it is not a single whole number."""
    try:
        number = to_numpy(value)
    except Exception:
        return None
    if number.shape != () or not np.issubdtype(number.dtype, np.number):
        return None
    number = float(number)
    return int(number) if number.is_integer() else None


def _diagnose_output_size(fn):
    probes = catalogue.output_size_probes()
    try:
        outputs = [
            np.array(
                [_as_int(run("pool_output_size", fn, *c, forbidden=POOLING)) for c in p["cases"]]
            )
            for p in probes
        ]
    except (CheckFailed, TypeError):
        return None
    if any(None in out.tolist() for out in outputs):
        return None
    return first_match(outputs, probes, catalogue.OUTPUT_SIZE_VARIANTS)


def _redraw_output_size(rng, case):
    """Fresh (n, k, s, padding) like a stored case, from a wide range: the same padding, a
    stride of 1 stays 1 and, for 'valid', k = n stays and (n - k) stays divisible by s or not."""
    n, k, s, padding = case
    stride = 1 if s == 1 else int(rng.integers(2, 17))
    size = int(rng.integers(1, 33))
    if padding == "same":
        return _wide(rng, 2, 10_000), size, stride, padding
    if n == k:
        return size, size, stride, padding
    rest = 0 if (n - k) % s == 0 else int(rng.integers(1, stride))
    return size + _wide(rng, 1, 1000) * stride + rest, size, stride, padding


def _draw_output_size(rng):
    """A fresh (n, k, s, padding) from a wide range, for hidden checks when grading."""
    padding = ("valid", "same")[int(rng.integers(2))]
    k, s = int(rng.integers(1, 33)), int(rng.integers(1, 17))
    n = _wide(rng, 1, 10_000)
    return (k + n - 1 if padding == "valid" else n), k, s, padding


def _output_size_cases(hidden):
    """The stored cases; when grading, the public ones redrawn from a wide range and, after the
    hidden grid of small cases, EXTRA_HIDDEN drawn ones, so a table of answers is worthless."""
    table = OUTPUT_SIZE_CASES["hidden" if hidden else "public"]
    if not cases.drawing():
        return table
    rng = cases.generator()
    if not hidden:
        return [_redraw_output_size(rng, case) for case in table]
    return [*table, *(_draw_output_size(rng) for _ in range(EXTRA_HIDDEN))]


def check_pool_output_size(pool_output_size, hidden=False):
    """The number of windows along an axis equals Keras's, for 'valid' and 'same'."""
    table = _output_size_cases(hidden)
    wrong = []
    for n, k, s, padding in table:
        call = f"pool_output_size({n}, {k}, {s}, {padding!r})"
        got = run(
            "pool_output_size", pool_output_size, n, k, s, padding, forbidden=POOLING, case=call
        )
        expected = _keras_output_size(n, k, s, padding)
        if _as_int(got) != expected:
            wrong.append((call, got, expected, _output_size_formula(n, k, s, padding)))
    if wrong:
        call, got, expected, formula = wrong[0]
        details = [
            f"{len(wrong)} of {len(table)} cases are wrong; first: {call} returned {got!r}, "
            f"expected {expected}",
            f"formula {formula} = {expected}",
        ]
        mistake = _diagnose_output_size(pool_output_size)
        if mistake is not None:
            details.append(mistake.feedback())
        raise CheckFailed("pool_output_size counts the windows wrongly.", details)
    passed(f"pool_output_size matches Keras on {len(table)} cases")


# --- pool_windows ------------------------------------------------------------------------------


def _diagnose_windows(fn):
    probes = catalogue.windows_probes()
    try:
        outputs = [
            run(
                "pool_windows",
                fn,
                p["x"].copy(),
                p["pool_size"],
                p["strides"],
                p["padding"],
                p["pad_value"],
                forbidden=POOLING,
            )
            for p in probes
        ]
    except CheckFailed:
        return None
    return first_match(outputs, probes, catalogue.WINDOWS_VARIANTS)


def _draw_windows_case(rng):
    """A fresh (input shape, pool_size, strides, padding, pad_value, seed) for grading."""
    padding = ("valid", "same")[int(rng.integers(2))]
    height, width = (int(n) for n in rng.integers(1, 12, size=2))
    limits = (height, width) if padding == "valid" else (5, 5)
    size = tuple(int(rng.integers(1, min(limit, 5) + 1)) for limit in limits)
    strides = tuple(int(s) for s in rng.integers(1, 5, size=2))
    shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 5)))
    return shape, size, strides, padding, (0.0, 9.0, -9.0)[int(rng.integers(3))], 0


def _windows_cases(kind):
    """(x, pool_size, strides, padding, pad_value, expected) of the stored cases; when grading,
    fresh inputs (and, hidden, EXTRA_HIDDEN drawn cases) with `expected_windows`."""
    if not cases.drawing():
        data = references.load(ASSIGNMENT)
        for index, (_, size, strides, padding, pad_value, _) in enumerate(WINDOWS_CASES[kind]):
            prefix = f"pool_windows/{kind}/{index}"
            yield data[f"{prefix}/x"], size, strides, padding, pad_value, data[f"{prefix}/out"]
        return
    rng = cases.generator()
    extra = EXTRA_HIDDEN if kind == "hidden" else 0
    for shape, size, strides, padding, pad_value, _ in cases.pick(
        WINDOWS_CASES[kind], _draw_windows_case, extra
    ):
        x = rng.normal(size=shape).astype("float32")
        expected = expected_windows(x, size, strides, padding, pad_value)
        yield x, size, strides, padding, pad_value, expected


def check_pool_windows(pool_windows, hidden=False):
    """Windows equal the stored references (any order within a window), padding included."""
    kind = "hidden" if hidden else "public"
    count = 0
    for x, size, strides, padding, pad_value, expected in _windows_cases(kind):
        count += 1
        shape = x.shape
        case = f"pool_windows(x, {size}, {strides}, {padding!r}, pad_value={pad_value}), x {shape}"
        out = run(
            "pool_windows",
            pool_windows,
            x.copy(),
            size,
            strides,
            padding,
            pad_value,
            forbidden=POOLING,
            case=case,
        )
        mismatch = compare(out, expected, WINDOWS_TOL)
        if mismatch and mismatch.kind != "shape":
            mismatch = compare(
                catalogue.sorted_windows(out), catalogue.sorted_windows(expected), WINDOWS_TOL
            )
        if mismatch:
            hint = ""
            if mismatch.kind == "shape":
                b, _, _, c = shape
                _, out_h, out_w, k, _ = expected.shape
                hint = (
                    f"shape = (batch, out_h, out_w, kh * kw, C) = ({b}, {out_h}, {out_w}, {k}, {c})"
                    f"; {SHAPE_FORMULA}"
                )
            _fail(
                "pool_windows gives the wrong windows.",
                mismatch.lines,
                case,
                _diagnose_windows(pool_windows),
                hint,
            )
    passed(f"pool_windows matches the reference on {count} cases")


# --- MaxPooling2D and AveragePooling2D ---------------------------------------------------------


def _layer_kwargs(strides, padding):
    kwargs = {} if strides is None else {"strides": strides}
    if padding != "valid":
        kwargs["padding"] = padding
    return kwargs


def _diagnose_layer(cls, mode):
    probes = catalogue.layer_probes(mode)
    outputs = []
    try:
        for p in probes:
            layer = make_layer(
                cls,
                (p["pool_size"],),
                _layer_kwargs(p["strides"], p["padding"]),
                forbidden=POOLING,
            )
            outputs.append(run(label(cls), layer, p["x"], forbidden=POOLING))
    except CheckFailed:
        return None
    variants = catalogue.MAX_VARIANTS if mode == "max" else catalogue.AVERAGE_VARIANTS
    return first_match(outputs, probes, variants)


def _keras_layer(mode, *args, **kwargs):
    import keras

    cls = keras.layers.MaxPooling2D if mode == "max" else keras.layers.AveragePooling2D
    return cls(*args, **kwargs)


def _shape_mistake(pool_size, strides, padding, input_shape, expected, found):
    """Name the output-size mistake that gives the shape `found` instead of `expected`."""
    (kh, kw), (sh, sw) = _pair(pool_size), _pair(strides or pool_size)
    batch, height, width, channels = input_shape
    for mistake, flags in (
        (catalogue.VALID_CEIL, {"ceil_valid": True}),
        (catalogue.SAME_KEEPS_SIZE, {"same_keeps_size": True}),
    ):
        sizes = [
            None if n is None else catalogue.output_size(n, k, s, padding, **flags)
            for n, k, s in ((height, kh, sh), (width, kw, sw))
        ]
        wrong = (batch, *sizes, channels)
        if wrong != tuple(expected) and found == wrong:
            return mistake
    return None


def _shape_or_none(layer, input_shape):
    """What the layer's compute_output_shape gives, as a tuple, or None if it fails."""
    try:
        shape = run(
            f"{label(layer)}.compute_output_shape",
            layer.compute_output_shape,
            tuple(input_shape),
            forbidden=POOLING,
        )
        return tuple(shape)
    except (CheckFailed, TypeError):
        return None


CONTRACT_SETUPS = (
    ((3, 2), {}),
    (2, {"strides": 1, "padding": "same"}),
    ((2, 3), {"strides": (2, 1)}),
    (3, {"padding": "same"}),
)
CONTRACT_SHAPES = ((2, 9, 8, 3), (None, 7, 10, 1), (None, None, 8, 4))


def _check_layer_contract(cls, mode):
    import keras

    keras_cls = keras.layers.MaxPooling2D if mode == "max" else keras.layers.AveragePooling2D
    name = keras_cls.__name__
    check_signature(cls, keras_cls, SUPPORTED_ARGUMENTS, forbidden=POOLING)
    for pool_size, kwargs in CONTRACT_SETUPS:
        call = describe_call(name, (pool_size,), kwargs)
        layer = make_layer(cls, (pool_size,), kwargs, forbidden=POOLING)
        theirs = keras_cls(pool_size, **kwargs)
        config = run(f"{call}.get_config()", layer.get_config, forbidden=POOLING)
        keras_config = theirs.get_config()
        for key in CONFIG_KEYS:
            ours = config.get(key)
            if (tuple(ours) if isinstance(ours, list) else ours) != keras_config[key]:
                details = [f"yours: {key}={ours!r}; Keras: {key}={keras_config[key]!r}"]
                if key == "strides" and "strides" not in kwargs and ours in ((1, 1), [1, 1]):
                    details.append(catalogue.STRIDES_DEFAULT_ONE.feedback())
                raise CheckFailed(
                    f"{call}.get_config() differs from keras.layers.{call}'s.",
                    details,
                    "store every constructor argument as Keras does (pairs as tuples)",
                )
        for shape in CONTRACT_SHAPES:
            expected = theirs.compute_output_shape(shape)
            try:
                check_output_shape(layer, shape, expected, SHAPE_FORMULA, forbidden=POOLING)
            except CheckFailed as failure:
                found = _shape_or_none(layer, shape)
                mistake = _shape_mistake(
                    pool_size,
                    kwargs.get("strides"),
                    kwargs.get("padding", "valid"),
                    shape,
                    expected,
                    found,
                )
                details = [f"layer: {call}", *failure.details]
                if mistake is not None:
                    details.append(mistake.feedback())
                raise CheckFailed(failure.headline, details, failure.hint) from None
        check_config_roundtrip(layer, CONFIG_KEYS, forbidden=POOLING)
    symbolic = perform(
        f"{name}(3, strides=2, padding='same') on a symbolic keras.Input((9, 8, 3))",
        "symbolic_output",
        cls,
        (None, 9, 8, 3),
        (3,),
        {"strides": 2, "padding": "same"},
        forbidden=POOLING,
    )
    if tuple(symbolic.shape) != (None, 5, 4, 3):
        raise CheckFailed(
            f"{name}(3, strides=2, padding='same') on keras.Input((9, 8, 3)) gives shape "
            f"{tuple(symbolic.shape)}; expected (None, 5, 4, 3).",
            [f"formula: {SHAPE_FORMULA}"],
        )


def check_pooling_contract(MaxPooling2D, AveragePooling2D):
    """Constructors, strides default, output shapes and configs behave like Keras's layers."""
    _check_layer_contract(MaxPooling2D, "max")
    _check_layer_contract(AveragePooling2D, "average")
    passed("MaxPooling2D and AveragePooling2D have Keras's arguments, output shapes and config")


def _disguise(x, outputs, negative):
    """The example as it is, or (when grading) in disguise: maybe transposed, times a whole
    number a >= 2, plus a whole number b (b <= 0 for negative numbers, which stay negative).
    Max and average pooling commute with all three on these examples (square windows, the
    same padding on both axes). Returns (x, outputs, words for the case)."""
    if not cases.drawing():
        return x, outputs, ""
    rng = cases.generator()
    a, b = int(rng.integers(2, 6)), int(rng.integers(-9, 1 if negative else 10))
    x, outputs = a * x + b, [a * out + b for out in outputs]
    words = [f"times {a}", f"plus {b}" if b >= 0 else f"minus {-b}"]
    if rng.integers(2):
        x, outputs = x.T, [out.T for out in outputs]
        words.insert(0, "transposed")
    return x, outputs, ", " + ", ".join(words)


def _hand_examples():
    """(mode, kwargs, x, expected, what, disguise) of the worked examples, in disguise when
    grading."""
    examples = []
    for x, outputs, kwargs, what, negative in (
        (HAND_X, (HAND_MAX, HAND_AVERAGE), {}, "the worked 4x4 example", False),
        (
            NEGATIVE_X,
            (NEGATIVE_MAX, NEGATIVE_AVERAGE),
            {"padding": "same"},
            "the 3x3 image of negative numbers",
            True,
        ),
    ):
        x, (max_out, average_out), disguise = _disguise(x, outputs, negative)
        examples.append(("max", kwargs, x, max_out, what, disguise))
        examples.append(("average", kwargs, x, average_out, what, disguise))
    return examples


def check_hand_example(MaxPooling2D, AveragePooling2D):
    """The 4x4 example with 2x2 windows, and 'same' padding of a 3x3 image of negative numbers."""
    for mode, kwargs, x, expected, what, disguise in _hand_examples():
        cls = MaxPooling2D if mode == "max" else AveragePooling2D
        args = (2,)
        call = describe_call(label(cls), args, kwargs)
        case = f"{call} on {what}{disguise}: {x.tolist()}"
        layer = make_layer(cls, args, kwargs, forbidden=POOLING)
        inputs = x[None, :, :, None].astype("float32")
        out = run(call, layer, inputs, forbidden=POOLING, case=case)
        mismatch = compare(out, expected[None, :, :, None], HAND_TOL)
        if mismatch:
            if mode == "max":
                hint = f"expected {expected.tolist()}: each output is the largest of its window"
            else:
                hint = (
                    f"expected {expected.tolist()}: each output is the mean of the real cells of "
                    "its window"
                )
            _fail(
                f"{call} does not reproduce {what}.",
                mismatch.lines,
                case,
                _diagnose_layer(cls, mode),
                hint,
            )
    passed("both layers reproduce the worked examples, padding included")


def _pooling_input(shape, negative, seed):
    x = np.random.default_rng(cases.seed(seed)).normal(size=shape).astype("float32")
    return -np.abs(x) - 0.1 if negative else x


def _draw_pooling_case(rng):
    """A fresh (input shape, pool_size, strides, padding, negative, seed) for grading, within
    the set-ups the tolerances are proven for (windows of at most 5x5)."""
    padding = ("valid", "same")[int(rng.integers(2))]
    height, width = (int(n) for n in rng.integers(1, 14, size=2))
    limits = (height, width) if padding == "valid" else (5, 5)
    kh, kw = (int(rng.integers(1, min(limit, 5) + 1)) for limit in limits)
    pool_size = kh if kh == kw and rng.integers(2) else (kh, kw)
    strides = [None, int(rng.integers(1, 5)), tuple(int(s) for s in rng.integers(1, 5, size=2))][
        int(rng.integers(3))
    ]
    shape = (int(rng.integers(1, 4)), height, width, int(rng.integers(1, 9)))
    return shape, pool_size, strides, padding, bool(rng.integers(3) == 0), 0


def _check_matches_keras(cls, mode, tolerance, hidden):
    kind = "hidden" if hidden else "public"
    name = "MaxPooling2D" if mode == "max" else "AveragePooling2D"
    extra = EXTRA_HIDDEN if hidden else 0
    pooling_cases = cases.pick(POOLING_CASES[kind], _draw_pooling_case, extra)
    for shape, pool_size, strides, padding, negative, seed in pooling_cases:
        kwargs = _layer_kwargs(strides, padding)
        call = describe_call(name, (pool_size,), kwargs)
        case = f"{call} on {'negative ' if negative else ''}inputs {shape}"
        x = _pooling_input(shape, negative, seed)
        layer = make_layer(cls, (pool_size,), kwargs, forbidden=POOLING)
        out = run(call, layer, x, forbidden=POOLING, case=case)
        expected = np.asarray(_keras_layer(mode, pool_size, **kwargs)(x))
        mismatch = compare(out, expected, tolerance)
        if mismatch:
            hint = ""
            if mismatch.kind == "shape":
                b, h, w, c = shape
                (kh, kw), (sh, sw) = _pair(pool_size), _pair(strides or pool_size)
                hint = (
                    f"output shape = (batch, out_h, out_w, C) = {expected.shape} with "
                    f"{SHAPE_FORMULA}; here n = {h}, {w}, k = {kh}, {kw}, s = {sh}, {sw}"
                )
            _fail(
                f"{name} does not match keras.layers.{name}.",
                mismatch.lines,
                case,
                _diagnose_layer(cls, mode),
                hint,
            )
    return len(pooling_cases)


def check_max_pooling_matches_keras(MaxPooling2D, hidden=False):
    """Outputs equal keras.layers.MaxPooling2D's on random (some all-negative) inputs."""
    count = _check_matches_keras(MaxPooling2D, "max", MAX_TOL, hidden)
    passed(f"MaxPooling2D matches keras.layers.MaxPooling2D on {count} cases")


def check_average_pooling_matches_keras(AveragePooling2D, hidden=False):
    """Outputs equal keras.layers.AveragePooling2D's on random (some all-negative) inputs."""
    count = _check_matches_keras(AveragePooling2D, "average", AVERAGE_TOL, hidden)
    passed(f"AveragePooling2D matches keras.layers.AveragePooling2D on {count} cases")


def input_gradient(layer, x, weights):
    """d sum(layer(x) * weights) / dx of a layer here (Keras's), with TensorFlow's GradientTape."""
    return ops.gradients(layer, x, upstream=weights)["inputs"]


def _check_input_gradient(call, ours, theirs, x, weights, rule, diagnose):
    """The student's layer passes the same input gradient back as the Keras layer."""
    got = perform(
        f"the gradient through {call}", "gradients", ours, x, upstream=weights, forbidden=POOLING
    )["inputs"]
    if got is None:
        raise CheckFailed(
            f"No gradient flows back through {call}.",
            [
                "the output does not depend on the inputs through operations TensorFlow can "
                "differentiate"
            ],
            "compute call() with keras.ops; converting to NumPy inside call() cuts the gradient",
        )
    expected = input_gradient(theirs, x, weights)
    mismatch = compare(got, np.asarray(expected), GRADIENT_TOL, name="d loss / d inputs")
    if mismatch:
        _fail(
            f"The gradient through {call} differs from Keras's.",
            mismatch.lines,
            f"weighted sum of the outputs, inputs {x.shape}",
            diagnose(),
            rule,
        )


def check_pooling_trains(MaxPooling2D, AveragePooling2D):
    """Input gradients equal Keras's, and a model built on both layers learns."""
    rng = np.random.default_rng(cases.seed(31))
    x = rng.normal(size=(2, 9, 7, 3)).astype("float32")
    setups = (
        (MaxPooling2D, "max", (3,), {"strides": 2, "padding": "same"}, MAX_TOL),
        (AveragePooling2D, "average", ((2, 3),), {"padding": "same"}, AVERAGE_TOL),
    )
    for cls, mode, args, kwargs, tolerance in setups:
        call = describe_call(label(cls), args, kwargs)
        theirs = _keras_layer(mode, *args, **kwargs)
        expected_out = np.asarray(theirs(x))
        weights = rng.normal(size=expected_out.shape).astype("float32")
        ours = make_layer(cls, args, kwargs, forbidden=POOLING)
        case = f"{call} on inputs {x.shape}"
        mismatch = compare(
            run(call, ours, x, forbidden=POOLING, case=case), expected_out, tolerance
        )
        if mismatch:
            _fail(
                f"{call} does not match Keras's.", mismatch.lines, case, _diagnose_layer(cls, mode)
            )
        rule = (
            "the gradient of a max flows only to the input that won its window"
            if mode == "max"
            else "the gradient of an average is shared equally by the real cells of the window"
        )
        _check_input_gradient(
            call, ours, theirs, x, weights, rule, partial(_diagnose_layer, cls, mode)
        )

    data = np.random.default_rng(cases.seed(32))
    inputs = data.normal(size=(64, 12, 12, 1)).astype("float32")
    labels = inputs[:, :6, :, 0].mean(axis=(1, 2)) > inputs[:, 6:, :, 0].mean(axis=(1, 2))
    spec = [
        ("keras", "Conv2D", (4, 3), {"padding": "same", "activation": "relu"}),
        (MaxPooling2D, (2,), {}),
        (AveragePooling2D, (2,), {"padding": "same"}),
        ("keras", "Flatten", (), {}),
        ("keras", "Dense", (1,), {"activation": "sigmoid"}),
    ]
    losses = fit_losses(
        "keras.Model.fit with your pooling layers",
        spec,
        (None, 12, 12, 1),
        inputs,
        labels.astype("float32"),
        "binary_crossentropy",
        epochs=15,
        batch_size=16,
        forbidden=POOLING,
    )
    require_learning(losses, "A small model built on your pooling layers does not learn.")
    passed(f"pooling trains: gradients match Keras, loss {losses[0]:.3f} -> {losses[-1]:.3f}")


# --- GlobalAveragePooling2D --------------------------------------------------------------------


def _diagnose_global(cls):
    probes = catalogue.global_probes()
    outputs = []
    try:
        for p in probes:
            layer = make_layer(cls, (), {"keepdims": p["keepdims"]}, forbidden=POOLING)
            outputs.append(run("GlobalAveragePooling2D", layer, p["x"], forbidden=POOLING))
    except CheckFailed:
        return None
    return first_match(outputs, probes, catalogue.GLOBAL_VARIANTS)


def check_global_average_pooling_contract(GlobalAveragePooling2D):
    """Constructor, output shapes (with and without keepdims) and config behave like Keras's."""
    import keras

    keras_cls = keras.layers.GlobalAveragePooling2D
    check_signature(
        GlobalAveragePooling2D, keras_cls, ("data_format", "keepdims"), forbidden=POOLING
    )
    for keepdims in (False, True):
        layer = make_layer(GlobalAveragePooling2D, (), {"keepdims": keepdims}, forbidden=POOLING)
        build_layer(layer, (None, 7, 5, 3), forbidden=POOLING)
        for shape in ((2, 7, 5, 3), (None, None, None, 8)):
            expected = keras_cls(keepdims=keepdims).compute_output_shape(shape)
            formula = "(batch, 1, 1, C)" if keepdims else "(batch, C)"
            try:
                check_output_shape(layer, shape, expected, formula, forbidden=POOLING)
            except CheckFailed as failure:
                found = _shape_or_none(layer, shape)
                other = keras_cls(keepdims=not keepdims).compute_output_shape(shape)
                details = [f"layer: GlobalAveragePooling2D(keepdims={keepdims})", *failure.details]
                if found == tuple(other):
                    details.append(catalogue.KEEPDIMS_IGNORED.feedback())
                raise CheckFailed(failure.headline, details, failure.hint) from None
        check_config_roundtrip(layer, ("data_format", "keepdims"), forbidden=POOLING)
    symbolic = perform(
        "GlobalAveragePooling2D() on a symbolic keras.Input((9, 8, 3))",
        "symbolic_output",
        GlobalAveragePooling2D,
        (None, 9, 8, 3),
        forbidden=POOLING,
    )
    if tuple(symbolic.shape) != (None, 3):
        raise CheckFailed(
            f"GlobalAveragePooling2D() on keras.Input((9, 8, 3)) gives shape "
            f"{tuple(symbolic.shape)}; expected (None, 3).",
            ["formula: (batch, C)"],
        )
    passed("GlobalAveragePooling2D has Keras's arguments, output shapes and config")


def _draw_global_case(rng):
    """A fresh (input shape, keepdims, seed) for grading: at most 28x28 positions."""
    height, width = (int(n) for n in rng.integers(1, 29, size=2))
    shape = (int(rng.integers(1, 5)), height, width, int(rng.integers(1, 17)))
    return shape, bool(rng.integers(2)), 0


def check_global_average_pooling_matches_keras(GlobalAveragePooling2D, hidden=False):
    """Outputs equal keras.layers.GlobalAveragePooling2D's, with and without keepdims."""
    import keras

    kind = "hidden" if hidden else "public"
    extra = EXTRA_HIDDEN if hidden else 0
    global_cases = cases.pick(GLOBAL_CASES[kind], _draw_global_case, extra)
    for shape, keepdims, seed in global_cases:
        call = describe_call("GlobalAveragePooling2D", (), {"keepdims": keepdims})
        case = f"{call} on inputs {shape}"
        x = np.random.default_rng(cases.seed(seed)).normal(size=shape).astype("float32")
        layer = make_layer(GlobalAveragePooling2D, (), {"keepdims": keepdims}, forbidden=POOLING)
        out = run(call, layer, x, forbidden=POOLING, case=case)
        expected = np.asarray(keras.layers.GlobalAveragePooling2D(keepdims=keepdims)(x))
        mismatch = compare(out, expected, GLOBAL_TOL)
        if mismatch:
            hint = ""
            if mismatch.kind == "shape":
                hint = f"output shape = {'(batch, 1, 1, C)' if keepdims else '(batch, C)'}"
            _fail(
                "GlobalAveragePooling2D does not match keras.layers.GlobalAveragePooling2D.",
                mismatch.lines,
                case,
                _diagnose_global(GlobalAveragePooling2D),
                hint,
            )
    x = np.random.default_rng(cases.seed(41)).normal(size=(2, 5, 6, 3)).astype("float32")
    weights = np.random.default_rng(cases.seed(42)).normal(size=(2, 3)).astype("float32")
    _check_input_gradient(
        "GlobalAveragePooling2D()",
        make_layer(GlobalAveragePooling2D, forbidden=POOLING),
        keras.layers.GlobalAveragePooling2D(),
        x,
        weights,
        "each input cell receives its channel's output gradient divided by H * W",
        partial(_diagnose_global, GlobalAveragePooling2D),
    )
    passed(
        f"GlobalAveragePooling2D matches keras.layers.GlobalAveragePooling2D on "
        f"{len(global_cases)} cases"
    )

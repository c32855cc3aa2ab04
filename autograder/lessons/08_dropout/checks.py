"""Checks of lesson 08 (dropout), called from the notebook's test cells.

Every check raises `CheckFailed` with feedback in the lesson's terms, or prints one OK line.
Dropout is random, so the checks are of two kinds:

- exact ones, which hold for every draw: each value of an output is 0 or x / (1 - rate); the
  inputs come back unchanged at inference; the gradient is the mask's; a mask is constant
  along the axes where noise_shape has a 1; two layers with the same seed draw the same masks.
  Inputs never hold a zero (|x| in [0.5, 2]), so a zero in an output is a dropped value.
- statistical ones, which a correct layer fails with a probability that is stated and
  bounded: at most `statistics.FALSE_FAILURE` (1e-9) per check call, whatever the seed. The
  bands are exact binomial quantiles; events such as "two independent masks are identical"
  have their probability computed and kept far below the budget.

tests/autograder prove that correct implementations written in several styles pass them over
many seeds. When grading, every check draws fresh cases (`harness.cases`).
"""

import numpy as np

from ... import statistics
from ...compare import Tolerance, compare, to_numpy
from ...contract import (
    check_config_roundtrip,
    check_output_shape,
    check_signature,
    describe_call,
    make_layer,
)
from ...diagnosis import first_match
from ...feedback import CheckFailed, passed
from ...guard import ForbiddenOps
from ...harness import cases
from ...student import NOT_IMPLEMENTED_HINT, label, perform, run
from . import mistakes as catalogue

ASSIGNMENT = "08_dropout"

DROPOUT_OPS = (
    "keras.random.dropout",
    "keras.src.random.random.dropout",
    "keras.src.backend.tensorflow.random.dropout",
    "keras.src.layers.regularization.dropout.Dropout.call",
    "keras.src.layers.regularization.spatial_dropout.BaseSpatialDropout.call",
    "tensorflow.nn.dropout",
    "tensorflow.nn.experimental.stateless_dropout",
    "tensorflow.nn.experimental.general_dropout",
    "tensorflow.compat.v1.nn.dropout",
    "tensorflow.python.ops.nn_ops.dropout",
    "tensorflow.python.ops.nn_ops.dropout_v2",
    "tensorflow.python.ops.nn_ops._dropout",
    "tensorflow.python.ops.nn_ops.stateless_dropout",
    "tensorflow.python.ops.nn_ops.general_dropout",
)

DROPOUT = ForbiddenOps(
    "a built-in dropout",
    DROPOUT_OPS,
    "this lesson asks you to draw the mask yourself with keras.random (a uniform draw "
    "compared with the rate) and apply it with keras.ops",
)

# (input shape, noise_shape) -> expected mask shape, for mask_shape.
MASK_SHAPE_CASES = {
    "public": [
        ((4, 5, 6), None),
        ((4, 5, 6), (None, 1, None)),
        ((2, 3, 3, 8), (None, 1, 1, None)),
        ((7, 10), (1, None)),
        ((3, 4), (3, 1)),
    ],
    "hidden": [
        ((2, 8, 8, 3), (None, None, 1, 1)),
        ((5,), (None,)),
        ((1, 1, 1), (1, 1, 1)),
        ((6, 2, 9), (6, None, 9)),
        ((3, 4, 5, 6, 7), (None, 1, None, 1, None)),
        ((9, 1, 4), None),
    ],
}
# (input shape, rate, seed): every output value is 0 or x / (1 - rate).
KEPT_CASES = {
    "public": [((6, 200), 0.2, 1), ((4, 5, 6, 8), 0.5, 2), ((3, 150), 0.75, 3)],
    "hidden": [
        ((2, 7, 7, 16), 0.1, 4),
        ((5, 300), 0.9, 5),
        ((2, 3, 4, 5, 6), 0.35, 6),
        ((4, 50), 0.0, 7),
        ((4, 50), 1.0, 8),
        ((1, 1), 0.6, 9),
    ],
}
# (input shape, rate, seed): the number of kept values lies in its binomial band. Few samples
# with long rows, at rates where reading `rate` as the keep probability shows.
RATE_CASES = {
    "public": [((2, 10_000), 0.2, 11), ((1, 40, 250), 0.7, 12)],
    "hidden": [
        ((2, 8000), 0.1, 13),
        ((4, 3000), 0.85, 14),
        ((1, 100, 100), 0.35, 15),
        ((2, 6000), 0.6, 16),
    ],
}
# (input shape, noise_shape, rate, seed).
NOISE_CASES = {
    "public": [
        ((6, 20, 16), (None, 1, None), 0.3, 21),
        ((5, 4, 30), (5, 4, 1), 0.6, 22),
    ],
    "hidden": [
        ((8, 6, 6, 24), (None, 1, 1, None), 0.25, 23),
        ((10, 64), (1, None), 0.4, 24),
        ((6, 5, 7, 8), (None, 5, 1, None), 0.7, 25),
        ((24, 12, 40), (None, None, 1), 0.5, 26),
    ],
}
# (input shape, data_format or None for the default, rate, seed).
SPATIAL_CASES = {
    "public": [
        ((32, 4, 4, 64), None, 0.25, 31),
        ((32, 64, 3, 3), "channels_first", 0.6, 32),
    ],
    "hidden": [
        ((64, 2, 2, 40), "channels_last", 0.8, 33),
        ((20, 100, 2, 3), "channels_first", 0.15, 34),
        ((50, 5, 5, 50), None, 0.4, 35),
    ],
}

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 3

KEPT_TOL = Tolerance(
    0.0,
    1e-6,
    "a kept value is x / (1 - rate) in float32, computed as a division or as a product with "
    "1 / (1 - rate): a few units in the last place apart (float32's unit is 1.2e-7)",
)
IDENTITY_TOL = Tolerance(0.0, 1e-7, "at inference the inputs come back unchanged")
SEED_TOL = Tolerance(0.0, 0.0, "the same seed draws the same mask: the same numbers exactly")
GRADIENT_TOL = Tolerance(
    1e-7,
    1e-5,
    "d out / d x of a kept value is 1 / (1 - rate): float32 products of two numbers of size "
    "~1 (upstream times the scale), compared with the exact value in float64",
)

SHAPE_WORDS = "the mask's shape: mask_shape(input_shape, noise_shape)"


def _input(shape, seed) -> np.ndarray:
    """Inputs with random signs and |x| in [0.5, 2] (never 0), fresh when grading."""
    return catalogue.probe_input(shape, cases.seed(seed))


def _layer_seed(seed) -> int:
    return cases.seed(1000 + seed) % 2**31


def _fail(headline, details, mistake=None, hint=""):
    details = list(details)
    if mistake is not None:
        details.append(mistake.feedback())
    raise CheckFailed(headline, details, hint)


def _as_array(out, x, call, case):
    """The student's output as a float64 array of x's shape (else feedback), and a note on its
    NaNs or infs (None when it has none)."""
    array = to_numpy(out)
    if array.shape != x.shape:
        _fail(f"{call} changes the shape of its inputs.",
              [f"case: {case}", f"output has shape {array.shape}; expected {x.shape}"],
              hint="dropout returns an array of the inputs' shape")  # fmt: skip
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        _fail(f"{call} returns {array.dtype} values; expected numbers.", [f"case: {case}"])
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        return array, f"the output holds NaN or inf, first at output{list(where)}"
    return array, None


def _rate_kwargs(noise_shape=None, seed=None, data_format=None):
    kwargs = {}
    if noise_shape is not None:
        kwargs["noise_shape"] = noise_shape
    if data_format is not None:
        kwargs["data_format"] = data_format
    if seed is not None:
        kwargs["seed"] = seed
    return kwargs


# --- diagnosis -----------------------------------------------------------------------------------


def _stack(outputs):
    return np.stack([to_numpy(o).astype(np.float64) for o in outputs])


def _probe_output(cls, probe):
    """What the student's class gives on one probe (see `catalogue.dropout_probes`)."""
    kind = probe["kind"]
    if kind == "spatial_noise_shape":
        layer = make_layer(cls, (0.3,), {}, forbidden=DROPOUT)
        shape = perform("SpatialDropout2D.noise_shape", "value", layer.noise_shape,
                        forbidden=DROPOUT)  # fmt: skip
        if not isinstance(shape, tuple | list):
            return None
        return np.array([-1 if n is None else int(n) for n in shape])
    x, rate = probe["x"], probe["rate"]
    kwargs = _rate_kwargs(probe.get("noise_shape"), probe["seed"])
    if kind == "spatial_first":
        kwargs["data_format"] = "channels_first"
    layer = make_layer(cls, (rate,), kwargs, forbidden=DROPOUT)
    name = label(cls)

    def call(**kw):
        return run(name, layer, x, forbidden=DROPOUT, **kw)

    if kind == "train":
        return _stack([call(training=True), call(training=True)])
    if kind == "compiled":
        outs = perform(f"{name} in a tf.function", "repeated_calls", layer, x, times=2,
                       training=True, compiled=True, forbidden=DROPOUT)  # fmt: skip
        return _stack(outs)
    if kind in ("infer", "spatial_infer"):
        return _stack([call(), call(training=False)])
    if kind == "seed":
        twin = make_layer(cls, (rate,), kwargs, forbidden=DROPOUT)
        return _stack([call(training=True), run(name, twin, x, forbidden=DROPOUT, training=True)])
    if kind == "rate_one":  # NaN when the output or its gradient is
        try:
            result = perform(f"the gradient through {name}", "gradients", layer, x,
                             upstream=np.ones_like(x), training=True, forbidden=DROPOUT)  # fmt: skip
        except CheckFailed:  # a ZeroDivisionError, say: not zeros either
            return np.array([np.nan])
        out = to_numpy(result["output"]).astype(np.float64)
        gradient = result["inputs"]
        if gradient is not None and not np.isfinite(to_numpy(gradient)).all():
            return np.full_like(out, np.nan)
        return out
    return to_numpy(call(training=True)).astype(np.float64)  # noise, spatial, spatial_first


def _diagnose(cls, probes, variants):
    """The catalogued mistake the student's class shows on the probes, or None."""
    outputs, used = [], []
    for probe in probes:
        try:
            out = _probe_output(cls, probe)
        except Exception:  # a probe the code cannot run tells nothing
            out = None
        if out is not None:
            outputs.append(out)
            used.append(probe)
    kinds = [p["kind"] for p in used]
    return first_match(outputs, used, catalogue.usable(variants, kinds))


def _diagnose_dropout(cls):
    return _diagnose(cls, catalogue.dropout_probes(), catalogue.DROPOUT_VARIANTS)


def _diagnose_spatial(cls):
    return _diagnose(cls, catalogue.spatial_probes(), catalogue.SPATIAL_VARIANTS)


# --- mask_shape ----------------------------------------------------------------------------------


def expected_mask_shape(input_shape, noise_shape):
    if noise_shape is None:
        return tuple(input_shape)
    return tuple(n if m is None else m for n, m in zip(input_shape, noise_shape, strict=True))


def _as_shape(value):
    """The student's answer as a tuple of ints, or None when it is not a sequence of whole
    numbers."""
    try:
        items = list(value)
        numbers = [to_numpy(v) for v in items]
    except Exception:
        return None
    shape = []
    for number in numbers:
        if number.shape != () or not np.issubdtype(number.dtype, np.number):
            return None
        number = float(number)
        if not number.is_integer():
            return None
        shape.append(int(number))
    return tuple(shape)


def _redraw_mask_case(rng, case):
    """Fresh sizes for a stored case, with the same rank and the same pattern of None, 1 and
    explicit sizes in noise_shape."""
    shape, noise = case
    sizes = tuple(int(n) for n in rng.integers(2, 40, size=len(shape)))
    if noise is None:
        return sizes, None
    redrawn = []
    for size, old_size, entry in zip(sizes, shape, noise, strict=True):
        if entry is None or entry == 1:
            redrawn.append(entry)
        else:
            redrawn.append(size if entry == old_size else int(rng.integers(1, 40)))
    return sizes, tuple(redrawn)


def _draw_mask_case(rng):
    rank = int(rng.integers(1, 6))
    sizes = tuple(int(n) for n in rng.integers(1, 30, size=rank))
    if rng.integers(5) == 0:
        return sizes, None
    noise = tuple((None, 1, size)[int(rng.integers(3))] for size in sizes)
    return sizes, noise


def _mask_shape_cases(hidden):
    table = MASK_SHAPE_CASES["hidden" if hidden else "public"]
    if not cases.drawing():
        return table
    rng = cases.generator()
    if not hidden:
        return [_redraw_mask_case(rng, case) for case in table]
    return [*table, *(_draw_mask_case(rng) for _ in range(EXTRA_HIDDEN))]


def check_mask_shape(mask_shape, hidden=False):
    """The mask's shape: the input's shape, or noise_shape with None entries filled in."""
    table = _mask_shape_cases(hidden)
    wrong = []
    for shape, noise in table:
        call = f"mask_shape({shape}, {noise})"
        got = run("mask_shape", mask_shape, shape, noise, forbidden=DROPOUT, case=call)
        expected = expected_mask_shape(shape, noise)
        if _as_shape(got) != expected:
            wrong.append((call, got, expected, shape, noise))
    if wrong:
        call, got, expected, shape, noise = wrong[0]
        details = [
            f"{len(wrong)} of {len(table)} cases are wrong; first: {call} returned {got!r}, "
            f"expected {expected}",
            "rule: noise_shape None -> the input's shape; else noise_shape with each None "
            "replaced by the input's size on that axis",
        ]
        ignored = [c for c in wrong if c[4] is not None and _as_shape(c[1]) == tuple(c[3])]
        if ignored and len(ignored) == len(wrong):
            details.append(catalogue.NOISE_SHAPE_IGNORED.feedback())
        raise CheckFailed("mask_shape gives the wrong shape.", details)
    passed(f"mask_shape is right on {len(table)} cases")


# --- the Dropout contract ------------------------------------------------------------------------


CONTRACT_SETUPS = (
    ((0.3,), {}),
    ((0.5,), {"noise_shape": (None, 1, 4), "seed": 7}),
    ((0.0,), {}),
    ((1.0,), {"seed": 3}),
)
CONTRACT_SHAPES = ((2, 5, 4), (None, 7), (None, None, 3, 8))
INVALID_RATES = (1.5, -0.1)


def _compare_config(layer, call, keras_config, keys):
    config = run(f"{call}.get_config()", layer.get_config, forbidden=DROPOUT)
    if not isinstance(config, dict):
        _fail(f"{call}.get_config() returned {type(config).__name__}; expected a dict.", [])
    for key in keys:
        ours, theirs = config.get(key), keras_config[key]
        ours = tuple(ours) if isinstance(ours, list) else ours
        theirs = tuple(theirs) if isinstance(theirs, list) else theirs
        if ours != theirs:
            _fail(
                f"{call}.get_config() differs from keras.layers.{call}'s.",
                [f"yours: {key}={config.get(key)!r}; Keras: {key}={keras_config[key]!r}"],
                hint="store every constructor argument as Keras does",
            )


def _check_refuses_invalid_rates(cls):
    name = label(cls)
    for rate in INVALID_RATES:
        call = f"{name}(rate={rate})"
        result = perform(call, "outcome", cls, rate, forbidden=DROPOUT)
        if result["raised"] is None:
            _fail(f"{call} is accepted; Keras refuses it with a ValueError.", [],
                  catalogue.RATE_NOT_VALIDATED)  # fmt: skip
        if result.get("stub"):
            raise CheckFailed(f"{name} is not implemented yet.", [], NOT_IMPLEMENTED_HINT)
        if result["raised"] != "ValueError" or "rate" not in result["message"]:
            _fail(
                f"{call} raises {result['raised']}: {result['message']}",
                ["expected: ValueError whose message names the argument `rate`"],
                catalogue.RATE_NOT_VALIDATED,
            )


def _check_same_shape_out(cls, name):
    symbolic = perform(
        f"{name}(0.5) on a symbolic keras.Input((5, 3))",
        "symbolic_output",
        cls,
        (None, 5, 3) if name == "Dropout" else (None, 6, 6, 3),
        (0.5,),
        {},
        forbidden=DROPOUT,
    )
    wanted = (None, 5, 3) if name == "Dropout" else (None, 6, 6, 3)
    if tuple(symbolic.shape) != wanted:
        _fail(f"{name}(0.5) on keras.Input({wanted[1:]}) gives shape {tuple(symbolic.shape)}; "
              f"expected {wanted}.", ["dropout keeps the shape of its inputs"])  # fmt: skip


def check_dropout_contract(Dropout):
    """Constructor, refusal of invalid rates, config and output shapes behave like Keras's."""
    import keras

    check_signature(
        Dropout, keras.layers.Dropout, ("rate", "noise_shape", "seed"), forbidden=DROPOUT
    )
    for args, kwargs in CONTRACT_SETUPS:
        call = describe_call("Dropout", args, kwargs)
        layer = make_layer(Dropout, args, kwargs, forbidden=DROPOUT)
        keras_config = keras.layers.Dropout(*args, **kwargs).get_config()
        _compare_config(layer, call, keras_config, ("rate", "noise_shape", "seed"))
        for shape in CONTRACT_SHAPES:
            check_output_shape(layer, shape, shape, "dropout keeps the shape", forbidden=DROPOUT)
        check_config_roundtrip(layer, ("rate", "noise_shape", "seed"), forbidden=DROPOUT)
    _check_refuses_invalid_rates(Dropout)
    _check_same_shape_out(Dropout, "Dropout")
    passed("Dropout has Keras's arguments, refuses invalid rates, keeps shapes and config")


# --- inference -----------------------------------------------------------------------------------


def _check_identity(cls, x, rate, diagnose):
    name = label(cls)
    layer = make_layer(cls, (rate,), {"seed": _layer_seed(41)}, forbidden=DROPOUT)
    call = describe_call(name, (rate,))
    attempts = (
        (f"{call}(x)", {}),
        (f"{call}(x, training=False)", {"training": False}),
    )
    for how, kw in attempts:
        out = run(how, layer, x, forbidden=DROPOUT, case=f"inputs {x.shape}", **kw)
        _require_identity(out, x, how, diagnose)
    compiled = perform(
        f"{call}(x) inside a tf.function",
        "repeated_calls",
        layer,
        x,
        times=1,
        compiled=True,
        forbidden=DROPOUT,
    )
    _require_identity(compiled[0], x, f"{call}(x) inside a tf.function", diagnose)


def _require_identity(out, x, how, diagnose):
    mismatch = compare(out, x, IDENTITY_TOL)
    if mismatch:
        _fail(
            f"{how} changes its inputs: at inference dropout must return them unchanged.",
            [f"case: inputs {x.shape}, training not true", *mismatch.lines],
            diagnose(),
            "training=None (not given) and training=False both mean inference",
        )


def check_dropout_inference(Dropout):
    """With training False or not given (also inside a tf.function) the inputs come back
    unchanged."""
    x = _input((6, 50), 41)
    _check_identity(Dropout, x, 0.4, lambda: _diagnose_dropout(Dropout))
    passed("Dropout returns its inputs unchanged at inference (training None or False)")


# --- kept values ---------------------------------------------------------------------------------


def _draw_kept_case(rng):
    shape = tuple(int(n) for n in rng.integers(1, 12, size=int(rng.integers(1, 5))))
    rate = float(np.round(rng.uniform(0.05, 0.95), 2))
    return shape, rate, 0


def _kept_details(out, x, rate):
    mask = out != 0
    return f"{int(mask.sum())} of {mask.size} values kept (rate={rate})"


def check_dropout_kept_values(Dropout, hidden=False):
    """While training, every value is 0 or x / (1 - rate); rate=0 keeps everything unchanged
    and rate=1 gives zeros."""
    kind = "hidden" if hidden else "public"
    extra = EXTRA_HIDDEN if hidden else 0
    table = cases.pick(KEPT_CASES[kind], _draw_kept_case, extra)
    for index, (shape, rate, seed) in enumerate(table):
        seed = seed or 50 + index
        x = _input(shape, seed)
        call = describe_call("Dropout", (rate,), {"seed": _layer_seed(seed)})
        case = f"{call} on inputs {shape}, training=True"
        layer = make_layer(Dropout, (rate,), {"seed": _layer_seed(seed)}, forbidden=DROPOUT)
        out = run(call, layer, x, forbidden=DROPOUT, case=case, training=True)
        out, nonfinite = _as_array(out, x, call, case)
        if nonfinite:
            mistake = _diagnose_dropout(Dropout)
            _fail(f"{call} gives NaN or inf.", [f"case: {case}", nonfinite], mistake,
                  "rate=1 drops everything: return zeros")  # fmt: skip
        if rate == 1:
            expected, rule = np.zeros(shape), "rate=1 drops every value: all zeros"
        elif rate == 0:
            expected, rule = x.astype(np.float64), "rate=0 drops nothing: the inputs unchanged"
        else:
            expected = np.where(out != 0, x / (1 - rate), 0.0)
            rule = f"a kept value is x / (1 - rate) = x / {1 - rate:g}; a dropped one is 0"
        mismatch = compare(out, expected, KEPT_TOL)
        if mismatch:
            _fail(
                f"{call} gives values that are neither 0 nor x / (1 - rate).",
                [f"case: {case}", _kept_details(out, x, rate), *mismatch.lines],
                _diagnose_dropout(Dropout),
                rule,
            )
        _require_some_kept_and_dropped(out, x, rate, call, case)
    passed(f"Dropout keeps values as x / (1 - rate) and zeroes the others on {len(table)} cases")


def _require_some_kept_and_dropped(out, x, rate, call, case, decisions=None):
    """Nothing kept (or nothing dropped) fails when a correct layer does that with probability
    below 1e-12 (e.g. none of 200 values kept at rate 0.2: 0.2**200)."""
    n = out.size if decisions is None else decisions
    keep = 1 - rate
    kept = int((out != 0).sum())
    if kept == 0 and 0 < rate < 1 and statistics.none_kept(keep, n) < 1e-12:
        _fail(f"{call} drops every value.", [f"case: {case}"],
              hint=f"keep each value with probability 1 - rate = {keep:g}")  # fmt: skip
    if kept == out.size and 0 < rate < 1 and statistics.none_kept(rate, n) < 1e-12:
        _fail(f"{call} drops nothing while training.", [f"case: {case}"],
              hint=f"drop each value with probability rate = {rate:g}")  # fmt: skip


# --- keep rate -----------------------------------------------------------------------------------


def _draw_rate_case(rng):
    """A fresh (shape, rate, seed): 6,000 to 20,000 values in at most 3 samples, a rate at
    least 0.1 away from 0.5."""
    rate = float(np.round(rng.choice([rng.uniform(0.1, 0.4), rng.uniform(0.6, 0.9)]), 2))
    batch = int(rng.integers(1, 4))
    per_sample = int(rng.integers(6000, 20_001)) // batch
    return (batch, per_sample), rate, 0


def check_dropout_keep_rate(Dropout, hidden=False):
    """The fraction of kept values is 1 - rate, within an exact binomial band that a correct
    layer leaves with probability at most 1e-9 (for the whole check)."""
    kind = "hidden" if hidden else "public"
    extra = EXTRA_HIDDEN if hidden else 0
    table = cases.pick(RATE_CASES[kind], _draw_rate_case, extra)
    delta = statistics.FALSE_FAILURE / len(table)
    for index, (shape, rate, seed) in enumerate(table):
        seed = seed or 60 + index
        x = _input(shape, seed)
        call = describe_call("Dropout", (rate,), {"seed": _layer_seed(seed)})
        case = f"{call} on inputs {shape}, training=True"
        layer = make_layer(Dropout, (rate,), {"seed": _layer_seed(seed)}, forbidden=DROPOUT)
        out = run(call, layer, x, forbidden=DROPOUT, case=case, training=True)
        out, _ = _as_array(out, x, call, case)
        n, count = out.size, int(np.count_nonzero(out))
        low, high = statistics.count_band(n, 1 - rate, delta)
        if not low <= count <= high:
            _fail(
                f"{call} keeps {count / n:.1%} of the values; it should keep 1 - rate = "
                f"{1 - rate:.0%}.",
                [
                    f"case: {case}",
                    f"kept {count} of {n}; a correct layer keeps between {low} and {high} "
                    f"(it falls outside with probability below {delta:.0e}: exact binomial "
                    "tails)",
                ],
                _diagnose_dropout(Dropout),
                "keep a value when keras.random.uniform(...) >= rate",
            )
    passed(f"Dropout keeps a fraction 1 - rate of the values on {len(table)} cases "
           f"(false-failure probability below {statistics.FALSE_FAILURE:.0e})")  # fmt: skip


# --- fresh masks and seeds -----------------------------------------------------------------------


def _chance(probability):
    return f"{probability:.0e}" if probability > 0 else "below 1e-300"


def _agreement(p, n):
    """(p**2 + (1 - p)**2) ** n in words: the chance that two independent masks agree."""
    return statistics.power_words(p * p + (1 - p) ** 2, n)


def check_dropout_fresh_masks(Dropout):
    """Each call draws a new mask, and each sample of a batch gets its own."""
    rate, shape, calls = 0.3, (8, 300), 3
    x = _input(shape, 71)
    seed = _layer_seed(71)
    call = describe_call("Dropout", (rate,), {"seed": seed})
    case = f"{call} called {calls} times on the same inputs {shape}, training=True"
    layer = make_layer(Dropout, (rate,), {"seed": seed}, forbidden=DROPOUT)
    masks = []
    for _ in range(calls):
        out = run(call, layer, x, forbidden=DROPOUT, case=case, training=True)
        out, _ = _as_array(out, x, call, case)
        _require_some_kept_and_dropped(out, x, rate, call, case)
        masks.append(out != 0)
    # A correct layer fails below with probability <= 3 * 0.58**2400 (two calls alike) plus
    # 28 * 0.58**300 (two samples alike): far below 1e-9.
    for i in range(calls):
        for j in range(i + 1, calls):
            if np.array_equal(masks[i], masks[j]):
                _fail(
                    f"{call} drops the same values at calls {i + 1} and {j + 1}.",
                    [f"case: {case}",
                     f"two independent masks of {x.size} values agree with probability "
                     + _agreement(1 - rate, x.size)],
                    _diagnose_dropout(Dropout),
                    "every call must draw a new mask: keras.random.uniform(shape, "
                    "seed=self.seed_generator)",
                )  # fmt: skip
    first = masks[0]
    for i in range(shape[0]):
        for j in range(i + 1, shape[0]):
            if np.array_equal(first[i], first[j]):
                _fail(
                    f"{call} drops the same values in samples {i} and {j} of one batch.",
                    [f"case: {case}",
                     f"two independent masks of {shape[1]} values agree with probability "
                     + _agreement(1 - rate, shape[1])],
                    _diagnose_dropout(Dropout),
                    "draw one decision per value of the whole batch: the mask's first axis "
                    "is the batch size",
                )  # fmt: skip
    passed("Dropout draws a new mask at every call and for every sample")


def check_dropout_seed(Dropout):
    """Two layers with the same seed draw the same sequence of masks; another seed others."""
    rate, shape, calls = 0.4, (4, 250), 3
    x = _input(shape, 81)
    seed = _layer_seed(81)
    twins = [make_layer(Dropout, (rate,), {"seed": seed}, forbidden=DROPOUT) for _ in range(2)]
    other = make_layer(Dropout, (rate,), {"seed": seed + 1}, forbidden=DROPOUT)
    call = describe_call("Dropout", (rate,), {"seed": seed})
    case = f"two layers {call}, each called {calls} times on the same inputs {shape}"
    for step in range(1, calls + 1):
        first, second = (
            run(call, layer, x, forbidden=DROPOUT, case=case, training=True) for layer in twins
        )
        mismatch = compare(second, to_numpy(first), SEED_TOL)
        if mismatch:
            _fail(
                f"Two layers {call} draw different masks at call {step}.",
                [f"case: {case}", *mismatch.lines],
                _diagnose_dropout(Dropout),
                "create self.seed_generator = keras.random.SeedGenerator(seed) in __init__ "
                "and draw with seed=self.seed_generator",
            )
    mine = run(call, twins[0], x, forbidden=DROPOUT, case=case, training=True)
    theirs = run(f"Dropout({rate}, seed={seed + 1})", other, x, forbidden=DROPOUT, case=case,
                 training=True)  # fmt: skip
    # Different seeds agree on all 1000 decisions with probability 0.52**1000.
    if np.array_equal(to_numpy(mine) != 0, to_numpy(theirs) != 0):
        _fail(
            f"Dropout layers with seeds {seed} and {seed + 1} draw the same mask.",
            [f"case: {case}"],
            catalogue.SEED_IGNORED,
            "pass the constructor's seed to keras.random.SeedGenerator(seed)",
        )
    passed("the same seed gives the same sequence of masks; another seed gives others")


# --- noise_shape ---------------------------------------------------------------------------------


def _draw_noise_case(rng):
    """A fresh (shape, noise_shape, rate, seed) with a None batch entry and at least one 1."""
    rank = int(rng.integers(2, 5))
    shape = (int(rng.integers(4, 13)), *(int(n) for n in rng.integers(2, 13, size=rank - 1)))
    noise = [None]
    for size in shape[1:]:
        noise.append((None, 1, size)[int(rng.integers(3))])
    noise[1 + int(rng.integers(rank - 1))] = 1
    rate = float(np.round(rng.uniform(0.2, 0.8), 2))
    return shape, tuple(noise), rate, 0


def _vary_bound(p, mask_shape_, axis):
    """P(a correct mask of `mask_shape_` is the same across all slices along `axis`)."""
    copies = mask_shape_[axis]
    return statistics.all_equal(p, copies, int(np.prod(mask_shape_)) // copies)


def check_dropout_noise_shape(Dropout, hidden=False):
    """The mask is shared along the axes where noise_shape is 1 and drawn anew along the others
    (None entries take the input's size)."""
    kind = "hidden" if hidden else "public"
    extra = EXTRA_HIDDEN if hidden else 0
    table = cases.pick(NOISE_CASES[kind], _draw_noise_case, extra)
    delta = statistics.FALSE_FAILURE / (2 * len(table))
    for index, (shape, noise, rate, seed) in enumerate(table):
        seed = seed or 90 + index
        x = _input(shape, seed)
        kwargs = {"noise_shape": noise, "seed": _layer_seed(seed)}
        call = describe_call("Dropout", (rate,), kwargs)
        case = f"{call} on inputs {shape}, training=True"
        layer = make_layer(Dropout, (rate,), kwargs, forbidden=DROPOUT)
        out = run(call, layer, x, forbidden=DROPOUT, case=case, training=True)
        out, nonfinite = _as_array(out, x, call, case)
        if nonfinite:
            _fail(f"{call} gives NaN or inf.", [f"case: {case}", nonfinite])
        wanted = expected_mask_shape(shape, noise)
        decisions = int(np.prod(wanted))
        _require_some_kept_and_dropped(out, x, rate, call, case, decisions)
        mask = out != 0
        for axis, (size, entry) in enumerate(zip(shape, wanted, strict=True)):
            if size > 1 and entry == 1 and not catalogue.constant_along(mask, axis):
                _fail(
                    f"{call} drops different values along axis {axis}, where noise_shape "
                    "has 1.",
                    [f"case: {case}", f"mask shape: {wanted} = {SHAPE_WORDS}",
                     "a 1 in noise_shape shares one decision along the whole axis"],
                    _diagnose_dropout(Dropout),
                    "draw the mask with shape mask_shape(ops.shape(inputs), self.noise_shape) "
                    "and let ops.where or * broadcast it",
                )  # fmt: skip
            bound = _vary_bound(1 - rate, wanted, axis)
            if (
                size > 1
                and noise[axis] is None
                and bound <= delta
                and catalogue.constant_along(mask, axis)
            ):
                _fail(
                    f"{call} drops the same values all along axis {axis}, where noise_shape "
                    "has None.",
                    [f"case: {case}", f"mask shape: {wanted} = {SHAPE_WORDS}",
                     f"a correct layer does this with probability {_chance(bound)}"],
                    _diagnose_dropout(Dropout),
                    "None in noise_shape takes the input's size on that axis: one decision "
                    "per position along it",
                )  # fmt: skip
    passed(f"Dropout follows noise_shape on {len(table)} cases")


# --- gradient ------------------------------------------------------------------------------------


# (input shape, noise_shape, rate, seed). At rate=1 every value is dropped and the gradient is
# 0 everywhere (Keras's own layer gives no gradient at all, which is the same); dividing by
# 1 - rate = 0 inside the graph makes it NaN even where the output is a clean 0.
GRADIENT_CASES = (
    ((6, 120), None, 0.3, 101),
    ((4, 10, 12), (None, 1, None), 0.6, 102),
    ((4, 50), None, 1.0, 103),
)
RATE_ONE_HINT = "rate=1 drops everything: return zeros"


def check_dropout_gradient(Dropout):
    """While training, the gradient flows through the kept values only, scaled like them."""
    for shape, noise, rate, seed in GRADIENT_CASES:
        x = _input(shape, seed)
        upstream = np.random.default_rng(cases.seed(seed)).normal(size=shape).astype("float32")
        kwargs = _rate_kwargs(noise, _layer_seed(seed))
        call = describe_call("Dropout", (rate,), kwargs)
        case = f"{call} on inputs {shape}, training=True, loss sum(out * upstream)"
        layer = make_layer(Dropout, (rate,), kwargs, forbidden=DROPOUT)
        result = perform(f"the gradient through {call}", "gradients", layer, x,
                         upstream=upstream, training=True, forbidden=DROPOUT)  # fmt: skip
        gradient = result["inputs"]
        if gradient is None and rate == 1:  # the output does not depend on the inputs
            gradient = np.zeros(shape)
        if gradient is None:
            _fail(
                f"No gradient flows back through {call}.",
                ["the output does not depend on the inputs through operations TensorFlow can "
                 "differentiate"],
                hint="compute call() with keras.ops; converting to NumPy cuts the gradient",
            )  # fmt: skip
        out, nonfinite = _as_array(result["output"], x, call, case)
        if nonfinite:
            _fail(f"{call} gives NaN or inf.", [f"case: {case}", nonfinite],
                  _diagnose_dropout(Dropout), RATE_ONE_HINT if rate == 1 else "")  # fmt: skip
        kept = out != 0  # the inputs have no zeros: a kept value is never 0
        expected = upstream * np.where(kept, 1.0 / (1.0 - rate) if rate < 1 else 0.0, 0.0)
        mismatch = compare(gradient, expected, GRADIENT_TOL, name="d loss / d inputs")
        if mismatch:
            _fail(
                f"The gradient through {call} is not 1 / (1 - rate) where a value was kept "
                "and 0 where it was dropped.",
                [f"case: {case}", *mismatch.lines],
                _diagnose_dropout(Dropout),
                f"{RATE_ONE_HINT}, before any division by 1 - rate = 0 (ops.where's gradient "
                "still multiplies the branch it drops: 0 * inf is NaN)"
                if rate == 1
                else "scale the kept values by 1 / (1 - rate) and build the output from the "
                "inputs with keras.ops (ops.where, *), the mask a constant",
            )
    passed(
        "the gradient is 1 / (1 - rate) where your layer kept a value and 0 where it dropped one"
    )


# --- compiled ------------------------------------------------------------------------------------


def _masks_differ(outputs, x, rate, call, case, what, diagnose):
    masks = []
    for out in outputs:
        out, nonfinite = _as_array(out, x, call, case)
        if nonfinite:
            _fail(f"{call} gives NaN or inf {what}.", [f"case: {case}", nonfinite])
        _require_some_kept_and_dropped(out, x, rate, call, case)
        masks.append(out != 0)
    # Two independent masks of >= 1280 decisions at rate 0.35 agree with prob <= 0.545**1280.
    for i in range(len(masks)):
        for j in range(i + 1, len(masks)):
            if np.array_equal(masks[i], masks[j]):
                _fail(
                    f"{call} drops the same values at steps {i + 1} and {j + 1} {what}.",
                    [f"case: {case}"],
                    diagnose(),
                    "draw the mask with keras.random so that it is an op of the traced graph "
                    "and draws anew at every step",
                )


def check_dropout_compiled(Dropout):
    """Inside a tf.function traced for any batch size, and inside model.fit, every step
    draws a new mask."""
    rate = 0.35
    x = _input((8, 200), 111)
    seed = _layer_seed(111)
    call = describe_call("Dropout", (rate,), {"seed": seed})
    layer = make_layer(Dropout, (rate,), {"seed": seed}, forbidden=DROPOUT)
    case = f"{call} inside tf.function(input_signature=[TensorSpec((None, 200))]), 3 calls"

    def diagnose():
        return _diagnose_dropout(Dropout)

    try:
        outputs = perform(
            f"{call} inside a tf.function",
            "repeated_calls",
            layer,
            x,
            times=3,
            training=True,
            compiled=True,
            batch_known=False,
            forbidden=DROPOUT,
            case=case,
        )
    except CheckFailed as failure:
        _fail(failure.headline, [*failure.details, "the batch size is unknown while tracing"],
              diagnose(), failure.hint)  # fmt: skip
    _masks_differ(outputs, x, rate, call, case, "inside a tf.function", diagnose)

    data = _input((32, 40), 112)
    targets = np.random.default_rng(cases.seed(113)).normal(size=(32, 1)).astype("float32")
    spec = [(Dropout, (rate,), {"seed": seed}), ("keras", "Dense", (1,), {})]
    fit_case = f"keras.Model.fit of [{call}, Dense(1)] on inputs (32, 40), one step per epoch"
    try:
        result = perform(
            "keras.Model.fit with your Dropout",
            "fit_recording",
            spec,
            (None, 40),
            data,
            targets,
            "mse",
            watch=0,
            epochs=3,
            seed=cases.seed(0),
            forbidden=DROPOUT,
            case=fit_case,
        )
    except CheckFailed as failure:
        _fail(failure.headline, failure.details, diagnose(), failure.hint)
    if not np.isfinite(result["loss"]).all():
        _fail("The loss of a model with your Dropout is not finite.",
              [f"case: {fit_case}", f"losses: {result['loss']}"])  # fmt: skip
    _masks_differ(result["recorded"], data, rate, call, fit_case, "of model.fit", diagnose)
    passed("Dropout draws a new mask at every step of a tf.function and of model.fit")


# --- SpatialDropout2D ----------------------------------------------------------------------------


def check_spatial_dropout_contract(SpatialDropout2D):
    """Constructor, default data_format, refusal of invalid rates, config and output shapes
    behave like Keras's."""
    import keras

    keras_cls = keras.layers.SpatialDropout2D
    check_signature(SpatialDropout2D, keras_cls, ("rate", "data_format", "seed"), forbidden=DROPOUT)
    setups = (((0.3,), {}), ((0.5,), {"data_format": "channels_first", "seed": 4}))
    for args, kwargs in setups:
        call = describe_call("SpatialDropout2D", args, kwargs)
        layer = make_layer(SpatialDropout2D, args, kwargs, forbidden=DROPOUT)
        keras_config = keras_cls(*args, **kwargs).get_config()
        _compare_config(layer, call, keras_config, ("rate", "seed", "data_format"))
        for shape in ((2, 5, 5, 3), (None, 4, 6, 8)):
            check_output_shape(layer, shape, shape, "dropout keeps the shape", forbidden=DROPOUT)
        check_config_roundtrip(layer, ("rate", "seed", "data_format"), forbidden=DROPOUT)
    _check_refuses_invalid_rates(SpatialDropout2D)
    _check_same_shape_out(SpatialDropout2D, "SpatialDropout2D")
    passed("SpatialDropout2D has Keras's arguments, default data_format, shapes and config")


def _draw_spatial_case(rng):
    """A fresh (shape, data_format, rate, seed): 1,000 to 4,000 feature maps, a rate at
    least 0.1 away from 0.5."""
    data_format = (None, "channels_last", "channels_first")[int(rng.integers(3))]
    batch, channels = int(rng.integers(16, 49)), int(rng.integers(64, 84))
    height, width = (int(n) for n in rng.integers(1, 5, size=2))
    if data_format == "channels_first":
        shape = (batch, channels, height, width)
    else:
        shape = (batch, height, width, channels)
    rate = float(np.round(rng.choice([rng.uniform(0.1, 0.4), rng.uniform(0.6, 0.9)]), 2))
    return shape, data_format, rate, 0


def _map_axes(data_format):
    return (2, 3) if data_format == "channels_first" else (1, 2)


def check_spatial_dropout_maps(SpatialDropout2D, hidden=False):
    """While training, each feature map of each sample is kept whole (times 1 / (1 - rate)) or
    zeroed, a fraction 1 - rate of them is kept (exact binomial band, false-failure
    probability at most 1e-9 per check), samples differ; at inference the inputs come back."""
    kind = "hidden" if hidden else "public"
    extra = EXTRA_HIDDEN if hidden else 0
    table = cases.pick(SPATIAL_CASES[kind], _draw_spatial_case, extra)
    delta = statistics.FALSE_FAILURE / (2 * len(table))

    def diagnose():
        return _diagnose_spatial(SpatialDropout2D)

    for index, (shape, data_format, rate, seed) in enumerate(table):
        seed = seed or 120 + index
        x = _input(shape, seed)
        kwargs = _rate_kwargs(seed=_layer_seed(seed), data_format=data_format)
        call = describe_call("SpatialDropout2D", (rate,), kwargs)
        case = f"{call} on inputs {shape}, training=True"
        layer = make_layer(SpatialDropout2D, (rate,), kwargs, forbidden=DROPOUT)
        out = run(call, layer, x, forbidden=DROPOUT, case=case, training=True)
        out, nonfinite = _as_array(out, x, call, case)
        if nonfinite:
            _fail(f"{call} gives NaN or inf.", [f"case: {case}", nonfinite], diagnose())
        axes = _map_axes(data_format)
        mask = out != 0
        if not catalogue.constant_along(mask, axes):
            _fail(
                f"{call} drops single values inside a feature map.",
                [f"case: {case}", "one decision per sample and channel: a map is kept whole "
                 "or zeroed whole"],
                diagnose(),
                "the mask has shape (batch, 1, 1, channels) for channels_last inputs, "
                "(batch, channels, 1, 1) for channels_first",
            )  # fmt: skip
        mismatch = compare(out, np.where(mask, x / (1 - rate), 0.0), KEPT_TOL)
        if mismatch:
            _fail(
                f"{call} gives values that are neither 0 nor x / (1 - rate).",
                [f"case: {case}", *mismatch.lines],
                diagnose(),
                f"a kept map is x / (1 - rate) = x / {1 - rate:g}; a dropped one is 0",
            )
        maps = mask.any(axis=axes)  # (batch, channels): one decision each
        _require_some_kept_and_dropped(maps, maps, rate, call, case)
        low, high = statistics.count_band(maps.size, 1 - rate, delta)
        count = int(maps.sum())
        if not low <= count <= high:
            _fail(
                f"{call} keeps {count / maps.size:.1%} of the feature maps; it should keep "
                f"1 - rate = {1 - rate:.0%}.",
                [f"case: {case}",
                 f"kept {count} of {maps.size} maps; a correct layer keeps between {low} and "
                 f"{high} (it falls outside with probability below {delta:.0e})"],
                diagnose(),
            )  # fmt: skip
        bound = statistics.all_equal(1 - rate, maps.shape[0], maps.shape[1])
        if bound <= delta and catalogue.constant_along(maps, 0):
            _fail(
                f"{call} drops the same channels in every sample of the batch.",
                [f"case: {case}", f"a correct layer does this with probability {_chance(bound)}"],
                diagnose(),
                "one decision per sample and channel: the mask's first axis is the batch size",
            )
    first_shape = table[0][0]
    x = _input(first_shape, 129)
    _check_identity(SpatialDropout2D, x, 0.5, diagnose)
    passed(f"SpatialDropout2D drops whole feature maps on {len(table)} cases and passes "
           "its inputs through at inference")  # fmt: skip

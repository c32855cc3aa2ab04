"""Checks of lesson 07 (batch normalization), called from the notebook's test cells.

Every check raises `CheckFailed` with feedback in the lesson's terms, or prints one OK line.
The student's layer is compared with `keras.layers.BatchNormalization` holding the same
weights, step by step, in training mode, in inference mode, frozen, and inside `fit`; the
backward pass with TensorFlow's automatic differentiation of Keras's layer in float64.
Tolerances are stated next to each check; tests/autograder prove that correct
implementations written in several styles pass them over 20 seeds. When grading, every check
draws fresh cases (`harness.cases`).
"""

from functools import partial

import numpy as np

from ...compare import Mismatch, Tolerance, compare, to_numpy
from ...contract import (
    assign_weights,
    build_layer,
    check_config_roundtrip,
    check_output_shape,
    check_signature,
    describe_call,
    expect_weights,
    make_layer,
    weights_by_name,
)
from ...diagnosis import first_match
from ...feedback import CheckFailed, fail, passed
from ...guard import ForbiddenOps
from ...harness import cases, ops
from ...student import perform, run
from ...training import check_gradients, require_learning
from . import mistakes as catalogue
from . import ops as own_ops

ASSIGNMENT = "07_batchnorm"

BATCHNORM_OPS = (
    "keras.ops.batch_normalization",
    "keras.src.ops.nn.batch_normalization",
    "keras.src.backend.tensorflow.nn.batch_normalization",
    "keras.src.layers.normalization.batch_normalization.BatchNormalization.call",
    "tensorflow.nn.batch_normalization",
    "tensorflow.python.ops.nn_impl.batch_normalization",
    "tensorflow.python.ops.nn_impl.fused_batch_norm",
    "tensorflow.compat.v1.nn.fused_batch_norm",
    "tensorflow.python.ops.gen_nn_ops.fused_batch_norm",
    "tensorflow.python.ops.gen_nn_ops.fused_batch_norm_v2",
    "tensorflow.python.ops.gen_nn_ops.fused_batch_norm_v3",
    # other normalizations that standardize per channel
    "keras.src.layers.preprocessing.normalization.Normalization.call",
    "keras.src.layers.normalization.layer_normalization.LayerNormalization.call",
    "keras.src.layers.normalization.group_normalization.GroupNormalization.call",
    "keras.ops.layer_normalization",
    "scipy.stats.zscore",
    "sklearn.preprocessing.scale",
    "sklearn.preprocessing.StandardScaler.transform",
    "sklearn.preprocessing.StandardScaler.fit_transform",
)
# TensorFlow op types that only a built-in (fused) batch normalization creates.
FUSED_OP_TYPES = (
    "FusedBatchNorm",
    "FusedBatchNormV2",
    "FusedBatchNormV3",
    "FusedBatchNormGrad",
    "FusedBatchNormGradV2",
    "FusedBatchNormGradV3",
    "BatchNormWithGlobalNormalization",
    "BatchNormWithGlobalNormalizationGrad",
    "_FusedBatchNormEx",
)
AUTODIFF_OPS = (
    "tensorflow.GradientTape.gradient",
    "tensorflow.GradientTape.jacobian",
    "tensorflow.GradientTape.batch_jacobian",
    "tensorflow.gradients",
    "tensorflow.python.ops.gradients_impl.gradients",
)

BATCHNORM = ForbiddenOps(
    "a built-in batch normalization",
    BATCHNORM_OPS,
    "this lesson asks you to normalize yourself with keras.ops: ops.mean, ops.square, "
    "ops.sqrt, arithmetic, and variable.assign for the moving statistics",
    op_types=FUSED_OP_TYPES,
)
BACKWARD = ForbiddenOps(
    "a built-in batch normalization or automatic differentiation",
    BATCHNORM_OPS + AUTODIFF_OPS,
    "derive the gradient and compute it from x, gamma and grad_output with NumPy or "
    "keras.ops; tf.GradientTape is what the check compares you with",
    op_types=FUSED_OP_TYPES,
)

# The worked example: two channels of 8 values, mean (5, 2), biased variance (4, 1).
HAND_X = np.array([[2, 1], [4, 1], [4, 1], [4, 1], [5, 3], [5, 3], [7, 3], [9, 3]], dtype="float32")
HAND_MEAN = np.array([5.0, 2.0])
HAND_VARIANCE = np.array([4.0, 1.0])

# The dtype policy of the mixed-precision cases: Keras's layer keeps float32 weights, computes
# in float32 from float16 inputs and returns float16.
MIXED = "mixed_float16"
# (input shape, seed) of the batch_statistics cases, compared with NumPy in float64.
STATISTICS_CASES = {
    "public": [((32, 4), 1), ((4, 5, 5, 3), 2), ((2, 3, 7, 1), 3)],
    "hidden": [((2, 1), 4), ((1, 6, 6, 5), 5), ((64, 16), 6), ((3, 1, 1, 8), 7)],
}
# (input shape, constructor arguments, seed) of the training-mode cases.
TRAINING_CASES = {
    "public": [
        ((32, 5), {}, 11),
        ((4, 5, 5, 3), {}, 12),
        ((3, 6, 4, 4), {"epsilon": 0.1}, 13),
        ((8, 3, 3, 2), {"center": False}, 14),
        ((16, 6), {"scale": False, "epsilon": 0.01}, 15),
        ((8, 3, 3, 4), {"dtype": MIXED}, 81),
    ],
    "hidden": [
        ((2, 3), {}, 16),
        ((1, 7, 7, 4), {}, 17),
        ((5, 2, 9, 1), {"center": False, "scale": False}, 18),
        ((64, 10), {"epsilon": 1e-5}, 19),
        ((2, 16, 16, 8), {"epsilon": 0.5}, 20),
        ((16, 5), {"epsilon": 0.01, "dtype": MIXED}, 82),
    ],
}
# (input shape, constructor arguments, seed) of the training-mode cases called with a mask
# (about 60% of the positions kept, the others 0 as after `Masking`): Keras takes the batch
# statistics over the kept positions only.
MASKED_TRAINING_CASES = {
    "public": [((6, 4, 4, 3), {}, 91), ((12, 5), {"epsilon": 0.01}, 92)],
    "hidden": [((2, 5, 5, 4), {"center": False}, 93), ((16, 3), {"scale": False}, 94)],
}
# (input shape, constructor arguments, number of training steps, seed): moving statistics.
# The batches are small or the momentum low, so that n against n - 1 shows in the moving
# variance; no momentum is near 0.5, where the two momentum conventions meet.
MOVING_CASES = {
    "public": [
        ((16, 4), {"momentum": 0.9}, 4, 21),
        ((4, 4, 4, 3), {}, 3, 22),
        ((2, 5, 3, 2), {"momentum": 0.7, "epsilon": 0.05}, 5, 23),
        ((8, 3, 3, 4), {"momentum": 0.9, "dtype": MIXED}, 3, 83),
    ],
    "hidden": [
        ((3, 2), {"momentum": 0.0}, 3, 24),
        ((8, 6, 6, 5), {"momentum": 0.95, "center": False}, 4, 25),
        ((32, 3), {"momentum": 0.999}, 6, 26),
        ((1, 3, 3, 6), {"momentum": 0.8, "scale": False}, 3, 27),
    ],
}
# The moving-statistics cases called with a mask (the same mask at every step).
MASKED_MOVING_CASES = {
    "public": [((4, 3, 3, 2), {"momentum": 0.8}, 3, 95)],
    "hidden": [((10, 4), {"momentum": 0.9}, 2, 96)],
}
# (input shape, constructor arguments, seed) of the inference-mode cases.
INFERENCE_CASES = {
    "public": [
        ((8, 4), {}, 31),
        ((2, 5, 5, 3), {"epsilon": 0.1}, 32),
        ((1, 6), {}, 33),
        ((4, 3, 3, 2), {"dtype": MIXED}, 84),
    ],
    "hidden": [
        ((1, 4, 4, 2), {}, 34),
        ((16, 3, 3, 5), {"center": False, "epsilon": 1e-4}, 35),
        ((5, 7), {"scale": False}, 36),
    ],
}
# (input shape, seed) of the batchnorm_backward cases, compared with autodiff in float64.
BACKWARD_CASES = {
    "public": [((8, 3), 0.001, 41), ((2, 4, 4, 2), 0.01, 42), ((3, 5), 0.1, 43)],
    "hidden": [
        ((2, 1), 0.001, 44),
        ((1, 5, 5, 3), 0.001, 45),
        ((64, 8), 1e-5, 46),
        ((4, 3, 2, 6), 0.5, 47),
    ],
}

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 3

STATISTICS_TOL = Tolerance(
    1e-5,
    1e-4,
    "float32 means and variances of at most 1,024 values, summed in any order; the variance "
    "may be computed as mean(x^2) - mean(x)^2, as the inputs' means are at most 3 standard "
    "deviations from 0",
)
HAND_TOL = Tolerance(1e-5, 1e-6, "small whole numbers: exact up to float32 rounding")
OUTPUT_TOL = Tolerance(
    1e-4,
    1e-4,
    "float32 normalized values of size up to ~10; the statistics may be summed in any order "
    "and the division done as a multiplication by 1 / sqrt(variance + epsilon)",
)
MOVING_TOL = Tolerance(
    1e-5,
    1e-4,
    "float32 moving averages of a few batch statistics; each step adds a rounding error of "
    "about 1e-6 relative",
)
GRADIENT_TOL = Tolerance(
    1e-4,
    1e-4,
    "float32 gradients of a weighted sum of the outputs: sums over the batch of values of "
    "size up to ~100 for the channels of small variance",
)
BACKWARD_TOL = Tolerance(
    1e-5,
    1e-4,
    "gradients of size ~1 to ~100; a float32 computation stays within this bound, a float64 "
    "one far within it",
)
MIXED_TOL = Tolerance(
    1e-3,
    2e-3,
    "mixed precision: both layers compute in float32 from the same float16 inputs and round "
    "the output to float16, where a float32 result computed in another order may round to "
    "the neighbouring float16 (one unit in the last place, 2^-10 relative)",
)
FIT_TOL = Tolerance(
    1e-4,
    1e-3,
    "a few SGD steps from the same weights on the same batches: float32 rounding differences "
    "of each step carry over to the next",
)

SUPPORTED_ARGUMENTS = (
    "axis",
    "momentum",
    "epsilon",
    "center",
    "scale",
    "beta_initializer",
    "gamma_initializer",
    "moving_mean_initializer",
    "moving_variance_initializer",
    "beta_regularizer",
    "gamma_regularizer",
    "beta_constraint",
    "gamma_constraint",
)
CONFIG_KEYS = SUPPORTED_ARGUMENTS
WEIGHT_ORDER = ("gamma", "beta", "moving_mean", "moving_variance")
WEIGHT_FORMULAS = {name: "(channels,)" for name in WEIGHT_ORDER}
MODE_HINT = (
    "in training mode (training=True and self.trainable) normalize with the batch's mean "
    "and variance and move the moving statistics towards them; otherwise normalize with "
    "moving_mean and moving_variance and change nothing"
)


def _fail(headline, lines, case, mistake=None, hint=""):
    details = [f"case: {case}", *lines]
    if mistake is not None:
        details.append(mistake.feedback())
    raise CheckFailed(headline, details, hint)


def _wide(rng, low, high) -> float:
    """A number in [low, high], log-uniform."""
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


# --- inputs and weights --------------------------------------------------------------------------


def _channel_spread(rng, channels):
    """Per channel (scale, offset): scales from 0.05 to 3 (the first channel, when there are
    several, of scale 0.05, small next to epsilon), offsets within 3 scales of 0."""
    scales = np.exp(rng.uniform(np.log(0.05), np.log(3.0), channels))
    if channels > 1:
        scales[0] = 0.05
    return scales, scales * rng.uniform(-3.0, 3.0, channels)


def _batches(rng, shape, count, spread):
    """`count` batches of `shape` whose channel statistics drift from batch to batch."""
    scales, offsets = spread
    channels = shape[-1]
    batches = []
    for _ in range(count):
        stretch = rng.uniform(0.7, 1.4, channels)
        shift = scales * rng.uniform(-0.5, 0.5, channels)
        x = rng.normal(size=shape) * scales * stretch + offsets + shift
        batches.append(x.astype("float32"))
    return batches


def _weights(rng, channels, kwargs, spread):
    """Weights for a layer with `kwargs` (no gamma without scale, no beta without center):
    gamma of either sign, moving statistics near (not at) the inputs' statistics."""
    scales, offsets = spread
    values = {}
    if kwargs.get("scale", True):
        values["gamma"] = rng.uniform(0.5, 2.0, channels) * rng.choice([-1.0, 1.0], channels)
    if kwargs.get("center", True):
        values["beta"] = rng.normal(size=channels)
    values["moving_mean"] = offsets + scales * rng.normal(size=channels)
    values["moving_variance"] = scales**2 * rng.uniform(0.3, 3.0, channels)
    return {name: value.astype("float32") for name, value in values.items()}


def _case_data(shape, kwargs, seed, count):
    """(batches, weights) of a case, from a generator seeded by `cases.seed(seed)`."""
    rng = np.random.default_rng(cases.seed(seed))
    spread = _channel_spread(rng, shape[-1])
    return _batches(rng, shape, count, spread), _weights(rng, shape[-1], kwargs, spread)


def _mask(shape, seed, batches):
    """A mask for inputs `shape` (booleans shaped like them without the channel axis) that
    keeps about 60% of the positions, at least 2; the positions it drops are set to 0 in
    `batches`, as `Masking` pads. Returns (mask, words for the case)."""
    rng = np.random.default_rng(cases.seed(seed + 500))
    mask = rng.random(shape[:-1]) < 0.6
    mask.reshape(-1)[:2] = True
    for batch in batches:
        batch[~mask] = 0.0
    words = f" with a mask keeping {int(mask.sum())} of {mask.size} positions (the others 0)"
    return mask, words


def _draw_shape(rng):
    """(N, C) with 2 <= N <= 64, or (N, H, W, C) with N * H * W >= 2: at most 1,024 values a
    channel, within what the tolerances are proven for."""
    if rng.integers(2):
        return (int(rng.integers(2, 65)), int(rng.integers(1, 17)))
    while True:
        shape = tuple(int(n) for n in rng.integers(1, [5, 9, 9, 9]))
        if shape[0] * shape[1] * shape[2] >= 2:
            return shape


def _draw_kwargs(rng, momentum=False):
    kwargs = {}
    if rng.integers(2):
        kwargs["epsilon"] = round(_wide(rng, 1e-5, 0.5), 6)
    if rng.integers(4) == 0:
        kwargs["center"] = False
    if rng.integers(4) == 0:
        kwargs["scale"] = False
    if momentum:
        kwargs["momentum"] = (
            0.0 if rng.integers(4) == 0 else round(float(rng.uniform(0.7, 0.999)), 3)
        )
    return kwargs


# --- layers: the student's and Keras's -----------------------------------------------------------


def _call(kwargs):
    return describe_call("BatchNormalization", (), kwargs)


def _student_layer(cls, kwargs, shape, weights):
    """The student's layer made with `kwargs`, built for inputs like `shape`, holding `weights`."""
    layer = make_layer(cls, (), kwargs, forbidden=BATCHNORM)
    build_layer(layer, (None, *shape[1:]), forbidden=BATCHNORM)
    if kwargs.get("dtype") == MIXED:
        _check_weight_dtypes(layer, kwargs, shape)
    # Trainability is the contract's to check (and a frozen layer has no trainable weight).
    assign_weights(layer, weights, forbidden=BATCHNORM, how=WEIGHT_FORMULAS, non_trainable=None)
    return layer


def _check_weight_dtypes(layer, kwargs, shape):
    """Under mixed precision the weights keep Keras's dtype (float32)."""
    found = weights_by_name(layer, forbidden=BATCHNORM)
    wrong = [
        f"{name} is {found[name]['dtype']}; Keras keeps it in {variable.dtype}"
        for variable in _keras_layer(kwargs, shape, {}).weights
        if found.get(name := ops.short_name(variable), {}).get("dtype") != variable.dtype
    ]
    if wrong:
        fail(
            f"{_call(kwargs)} does not keep its weights in float32.",
            wrong,
            case=f"{_call(kwargs)} built for inputs {shape}",
            hint="create the weights with self.add_weight(..., autocast=False): under mixed "
            "precision they stay float32 while the layer computes in float16",
        )


def _keras_layer(kwargs, shape, weights):
    import keras

    layer = keras.layers.BatchNormalization(**kwargs)
    layer.build((None, *shape[1:]))
    ops.assign(layer, weights)
    return layer


def _steps(layer, batches, training, case, kwargs=None, mask=None):
    """The student's layer called on `batches` in turn: {"outputs": [...], "weights": [...]}."""
    mode = "no training argument" if training is None else f"training={training}"
    what = f"{_call(kwargs or {})} called with {mode}" + ("" if mask is None else " and a mask")
    given = {} if mask is None else {"mask": mask}
    try:
        return perform(
            what,
            "call_steps",
            layer,
            batches,
            training=training,
            forbidden=BATCHNORM,
            case=case,
            **given,
        )
    except CheckFailed as error:
        if (kwargs or {}).get("dtype") != MIXED:
            raise
        note = (
            "under mixed precision call() reads a weight made with add_weight(..., "
            "autocast=True), the default, as float16; Keras's weights use autocast=False"
        )
        raise CheckFailed(error.headline, [*error.details, note], error.hint) from None


def _diagnose_layer(cls):
    """The catalogued mistake the student's layer makes on the probes, or None."""
    outputs = []
    try:
        for probe in catalogue.layer_probes():
            kwargs = {"momentum": probe["momentum"], "epsilon": probe["epsilon"]}
            if not probe["trainable"]:
                kwargs["trainable"] = False
            x = probe["steps"][0][0]
            layer = _student_layer(cls, kwargs, x.shape, probe["weights"])
            results = []
            for batch, training in probe["steps"]:
                step = perform(
                    "BatchNormalization",
                    "call_steps",
                    layer,
                    [batch],
                    training=training,
                    forbidden=BATCHNORM,
                )
                state = step["weights"][0]
                results.append(
                    (step["outputs"][0], state.get("moving_mean"), state.get("moving_variance"))
                )
            outputs.append(catalogue.pack(results))
    except (CheckFailed, TypeError, ValueError):
        return None
    return first_match(outputs, catalogue.layer_probes(), catalogue.LAYER_VARIANTS)


def _compare_outputs(got, expected, case, cls, headline, hint=MODE_HINT):
    """The student's output equals Keras's within OUTPUT_TOL (MIXED_TOL, and the same dtype,
    when Keras's is float16)."""
    expected = to_numpy(expected)
    mixed = expected.dtype == np.float16
    mismatch = compare(got, expected, MIXED_TOL if mixed else OUTPUT_TOL)
    dtype = str(getattr(got, "dtype", ""))
    if mismatch is None and mixed and dtype != "float16":
        mismatch = Mismatch(
            "dtype", (f"output is {dtype or type(got).__name__}; Keras's is float16",)
        )
        hint = (
            "under mixed precision compute in float32 (cast the inputs up) and return the "
            "output in self.compute_dtype, as the given code around the exercise does"
        )
    if mismatch:
        shape_hint = "the output has the shape of the input" if mismatch.kind == "shape" else hint
        _fail(headline, mismatch.lines, case, _diagnose_layer(cls), shape_hint)


def _compare_state(got, expected, names, case, cls, headline, hint):
    for name in names:
        mismatch = compare(got.get(name), np.asarray(expected[name]), MOVING_TOL, name=name)
        if mismatch:
            _fail(headline, mismatch.lines, case, _diagnose_layer(cls), hint)


# --- batch_statistics ----------------------------------------------------------------------------


def _diagnose_statistics(fn):
    outputs = []
    try:
        for probe in catalogue.statistics_probes():
            mean, variance = run("batch_statistics", fn, probe["x"].copy(), forbidden=BATCHNORM)
            outputs.append(catalogue.packed_statistics(to_numpy(mean), to_numpy(variance)))
    except (CheckFailed, TypeError, ValueError):
        return None
    return first_match(outputs, catalogue.statistics_probes(), catalogue.STATISTICS_VARIANTS)


def _hand_example():
    """(x, mean, variance, words): the worked example; when grading, in disguise: its rows
    shuffled, each channel times a whole number and plus another, maybe as 2 images of 2x2."""
    if not cases.drawing():
        return HAND_X, HAND_MEAN, HAND_VARIANCE, ""
    rng = cases.generator()
    a = rng.integers(2, 6, size=2)
    b = rng.integers(-9, 10, size=2)
    x = HAND_X[rng.permutation(8)] * a + b
    words = f", rows shuffled, channels times {a.tolist()} plus {b.tolist()}"
    if rng.integers(2):
        x = x.reshape(2, 2, 2, 2)
        words += ", as 2 images of 2x2"
    return x.astype("float32"), HAND_MEAN * a + b, HAND_VARIANCE * a**2, words


def _statistics_cases(kind):
    extra = EXTRA_HIDDEN if kind == "hidden" else 0
    return cases.pick(STATISTICS_CASES[kind], lambda rng: (_draw_shape(rng), 0), extra)


def _as_pair(result, call):
    if isinstance(result, tuple | list) and len(result) == 2:
        mean, variance = result
    else:
        raise CheckFailed(
            f"{call} returned {type(result).__name__}; expected a pair (mean, variance).",
            [],
            "return mean, variance",
        )
    return mean, variance


def check_batch_statistics(batch_statistics, hidden=False):
    """Mean and biased variance of each channel, over every other axis, on 2-D and 4-D inputs."""
    kind = "hidden" if hidden else "public"
    x, mean, variance, words = _hand_example()
    examples = [(x, mean, variance, f"the worked example{words}: x = {x.tolist()}", HAND_TOL)]
    for shape, seed in _statistics_cases(kind):
        rng = np.random.default_rng(cases.seed(seed))
        batch = _batches(rng, shape, 1, _channel_spread(rng, shape[-1]))[0]
        wanted = catalogue.statistics(batch)
        examples.append((batch, *wanted, f"a random batch {shape}", STATISTICS_TOL))
    for x, mean, variance, case, tolerance in examples:
        call = f"batch_statistics(x of shape {x.shape})"
        result = run("batch_statistics", batch_statistics, x.copy(), forbidden=BATCHNORM, case=case)
        got_mean, got_variance = _as_pair(result, call)
        for name, got, wanted in (("mean", got_mean, mean), ("variance", got_variance, variance)):
            mismatch = compare(got, wanted, tolerance, name=name)
            if mismatch:
                hint = ""
                if mismatch.kind == "shape":
                    hint = (
                        f"one {name} per channel: shape (C,) = ({x.shape[-1]},), reduced over "
                        f"axes {tuple(range(x.ndim - 1))}"
                    )
                _fail(
                    f"batch_statistics gives the wrong {name}.",
                    mismatch.lines,
                    case,
                    _diagnose_statistics(batch_statistics),
                    hint,
                )
    passed(f"batch_statistics is right on {len(examples)} batches, the worked example included")


# --- BatchNormalization: the contract ------------------------------------------------------------

WEIGHT_ARGUMENTS = (
    "BatchNormalization(gamma_initializer=Constant(2.0), beta_initializer='ones', "
    "moving_mean_initializer=Constant(0.5), moving_variance_initializer=Constant(3.0), "
    "gamma_regularizer=L2(0.5), beta_regularizer=L1(0.25), gamma_constraint='non_neg', "
    "beta_constraint='non_neg') built for inputs (None, 4, 4, 2)"
)


def _check_weight_arguments(cls):
    """Initializers, regularizers and constraints given to the constructor reach the weights."""
    import keras

    kwargs = {
        "gamma_initializer": keras.initializers.Constant(2.0),
        "beta_initializer": "ones",
        "moving_mean_initializer": keras.initializers.Constant(0.5),
        "moving_variance_initializer": keras.initializers.Constant(3.0),
        "gamma_regularizer": keras.regularizers.L2(0.5),
        "beta_regularizer": keras.regularizers.L1(0.25),
        "gamma_constraint": "non_neg",
        "beta_constraint": "non_neg",
    }
    layer = make_layer(cls, (), kwargs, forbidden=BATCHNORM)
    build_layer(layer, (None, 4, 4, 2), forbidden=BATCHNORM)
    values = perform("BatchNormalization.weights", "weight_values", layer, forbidden=BATCHNORM)
    constraints = perform(
        "BatchNormalization.weights", "weight_constraints", layer, forbidden=BATCHNORM
    )
    problems = []
    for name, start in (
        ("gamma", 2.0),
        ("beta", 1.0),
        ("moving_mean", 0.5),
        ("moving_variance", 3.0),
    ):
        if name not in values or not np.allclose(values[name], start):
            problems.append(f"{name}_initializer is ignored: {name} does not start at {start:g}")
    for name in ("gamma", "beta"):
        if constraints.get(name) is None:
            problems.append(f"{name}_constraint is ignored: {name} has no constraint")
    losses = perform("BatchNormalization.losses", "value", layer.losses, forbidden=BATCHNORM)
    if len(losses) != 2:
        problems.append(
            f"gamma_regularizer and beta_regularizer should add 2 losses; the layer has "
            f"{len(losses)}"
        )
    if problems:
        raise CheckFailed(
            "BatchNormalization does not create its weights with the arguments it was given.",
            [f"case: {WEIGHT_ARGUMENTS}", *problems],
            "pass initializer=, regularizer= and constraint= to self.add_weight",
        )


def _check_weights(cls, kwargs, shape):
    """The layer made with `kwargs` and built for `shape` has Keras's weights, with Keras's
    trainability (checked by `expect_weights`), in Keras's order."""
    import keras

    layer = make_layer(cls, (), kwargs, forbidden=BATCHNORM)
    build_layer(layer, shape, forbidden=BATCHNORM)
    theirs = keras.layers.BatchNormalization(**kwargs)
    theirs.build(shape)
    expected = [(ops.short_name(w), bool(w.trainable)) for w in theirs.weights]
    expect_weights(
        layer,
        {name: (shape[-1],) for name, _ in expected},
        how=WEIGHT_FORMULAS,
        forbidden=BATCHNORM,
        non_trainable=[name for name, trainable in expected if not trainable],
    )
    found = perform("BatchNormalization.weights", "weights", layer, forbidden=BATCHNORM)
    ours = [(info["name"], info["trainable"]) for info in found]
    call = f"{_call(kwargs)} built for inputs {shape}"
    if [name for name, _ in ours] != [name for name, _ in expected]:
        raise CheckFailed(
            f"{call} creates its weights in another order than Keras.",
            [f"yours: {[n for n, _ in ours]}", f"Keras: {[n for n, _ in expected]}"],
            "create gamma, beta, moving_mean, moving_variance in that order (Keras's "
            "set_weights and saved weights depend on it)",
        )
    return layer


def _canonical(key, value):
    """A config value as Keras serializes it: a regularizer given as "l2" or as its config
    dict compares equal."""
    if key.endswith("_regularizer") and value is not None:
        import keras

        try:
            return keras.saving.serialize_keras_object(keras.regularizers.get(value))
        except Exception:
            return value
    return value


def check_batchnorm_contract(BatchNormalization):
    """Constructor, weights (names, order, trainability, initializers, regularizers,
    constraints), output shape and config behave like keras.layers.BatchNormalization."""
    import keras

    check_signature(
        BatchNormalization,
        keras.layers.BatchNormalization,
        SUPPORTED_ARGUMENTS,
        forbidden=BATCHNORM,
    )
    layer = _check_weights(BatchNormalization, {}, (None, 6, 6, 3))
    _check_weights(BatchNormalization, {}, (None, 5))
    _check_weights(BatchNormalization, {"center": False}, (None, 4, 4, 2))
    _check_weights(BatchNormalization, {"scale": False}, (None, 7))
    _check_weights(BatchNormalization, {"center": False, "scale": False}, (None, 3, 3, 4))
    _check_weight_arguments(BatchNormalization)
    formula = "the output has the shape of the input"
    for shape in ((2, 6, 6, 3), (None, None, None, 3)):
        check_output_shape(layer, shape, shape, formula, forbidden=BATCHNORM)
    two_d = make_layer(
        BatchNormalization, (), {"momentum": 0.9, "epsilon": 0.01}, forbidden=BATCHNORM
    )
    build_layer(two_d, (None, 5), forbidden=BATCHNORM)
    check_output_shape(two_d, (None, 5), (None, 5), formula, forbidden=BATCHNORM)
    kwargs = {"momentum": 0.9, "epsilon": 0.01, "center": False, "gamma_regularizer": "l2"}
    configured = make_layer(BatchNormalization, (), kwargs, forbidden=BATCHNORM)
    config = run("BatchNormalization.get_config()", configured.get_config, forbidden=BATCHNORM)
    keras_config = keras.layers.BatchNormalization(**kwargs).get_config()
    for key in ("axis", "momentum", "epsilon", "center", "scale", "gamma_regularizer"):
        if _canonical(key, config.get(key)) != _canonical(key, keras_config[key]):
            raise CheckFailed(
                f"{_call(kwargs)}.get_config() differs from Keras's.",
                [f"yours: {key}={config.get(key)!r}; Keras: {key}={keras_config[key]!r}"],
                "store every constructor argument, initializers and regularizers serialized",
            )
    check_config_roundtrip(configured, CONFIG_KEYS, forbidden=BATCHNORM)
    symbolic = perform(
        "BatchNormalization() on a symbolic keras.Input((7, 7, 3))",
        "symbolic_output",
        BatchNormalization,
        (None, 7, 7, 3),
        forbidden=BATCHNORM,
    )
    if tuple(symbolic.shape) != (None, 7, 7, 3):
        raise CheckFailed(
            f"BatchNormalization() on keras.Input((7, 7, 3)) gives shape "
            f"{tuple(symbolic.shape)}; expected (None, 7, 7, 3).",
            [f"formula: {formula}"],
        )
    passed("BatchNormalization has Keras's arguments, weights, output shape and config")


# --- BatchNormalization: training mode -----------------------------------------------------------


def _draw_training_case(rng):
    return _draw_shape(rng), _draw_kwargs(rng), 0


def check_training_mode(BatchNormalization, hidden=False):
    """With training=True the outputs equal keras.layers.BatchNormalization's (same weights):
    each channel normalized with the batch's own statistics, then scaled and shifted."""
    kind = "hidden" if hidden else "public"
    extra = EXTRA_HIDDEN if hidden else 0
    table = [
        *((*row, False) for row in cases.pick(TRAINING_CASES[kind], _draw_training_case, extra)),
        *((*row, True) for row in MASKED_TRAINING_CASES[kind]),
    ]
    for shape, kwargs, seed, masked in table:
        (x,), weights = _case_data(shape, kwargs, seed, 1)
        mask, words = _mask(shape, seed, [x]) if masked else (None, "")
        case = f"{_call(kwargs)} on inputs {shape}{words}, training=True"
        layer = _student_layer(BatchNormalization, kwargs, shape, weights)
        got = _steps(layer, [x], True, case, kwargs, mask)["outputs"][0]
        keras_layer = _keras_layer(kwargs, shape, weights)
        expected = own_ops.call_steps(keras_layer, [x], True, mask)["outputs"][0]
        _compare_outputs(
            got,
            expected,
            case,
            BatchNormalization,
            "In training mode BatchNormalization does not match keras.layers.BatchNormalization.",
            "y = gamma * (x - mean) / sqrt(variance + epsilon) + beta, with the mean and "
            "variance of each channel over this batch (every axis but the last)"
            + (", over the positions the mask keeps" if masked else ""),
        )
    passed(f"training mode matches keras.layers.BatchNormalization on {len(table)} cases")


# --- BatchNormalization: moving statistics -------------------------------------------------------


def _draw_moving_case(rng):
    return _draw_shape(rng), _draw_kwargs(rng, momentum=True), int(rng.integers(2, 6)), 0


def check_moving_statistics(BatchNormalization, hidden=False):
    """After each of several training steps, the outputs and the moving mean and variance
    equal Keras's: moving = moving * momentum + batch statistic * (1 - momentum)."""
    kind = "hidden" if hidden else "public"
    extra = EXTRA_HIDDEN if hidden else 0
    table = [
        *((*row, False) for row in cases.pick(MOVING_CASES[kind], _draw_moving_case, extra)),
        *((*row, True) for row in MASKED_MOVING_CASES[kind]),
    ]
    for shape, kwargs, count, seed, masked in table:
        batches, weights = _case_data(shape, kwargs, seed, count)
        mask, words = _mask(shape, seed, batches) if masked else (None, "")
        layer = _student_layer(BatchNormalization, kwargs, shape, weights)
        base = f"{_call(kwargs)}, {count} calls with training=True on batches {shape}{words}"
        ours = _steps(layer, batches, True, base, kwargs, mask)
        theirs = own_ops.call_steps(_keras_layer(kwargs, shape, weights), batches, True, mask)
        for step in range(count):
            case = f"{base}; after call {step + 1}"
            _compare_outputs(
                ours["outputs"][step],
                theirs["outputs"][step],
                case,
                BatchNormalization,
                "In training mode BatchNormalization does not match keras.layers."
                "BatchNormalization.",
            )
            _compare_state(
                ours["weights"][step],
                theirs["weights"][step],
                ("moving_mean", "moving_variance"),
                case,
                BatchNormalization,
                "The moving statistics differ from Keras's.",
                "after each training-mode call: moving = moving * momentum + batch statistic "
                "* (1 - momentum), with the batch's biased variance",
            )
    passed(f"moving statistics match Keras after every step of {len(table)} sequences")


# --- BatchNormalization: inference mode ----------------------------------------------------------


def _draw_inference_case(rng):
    shape = _draw_shape(rng)
    if rng.integers(3) == 0:
        shape = (1, *shape[1:])  # a batch of one
    return shape, _draw_kwargs(rng), 0


def check_inference_mode(BatchNormalization, hidden=False):
    """With training=False, or no training argument, the outputs use the moving statistics
    (equal to Keras's) and the weights do not change."""
    kind = "hidden" if hidden else "public"
    extra = EXTRA_HIDDEN if hidden else 0
    table = cases.pick(INFERENCE_CASES[kind], _draw_inference_case, extra)
    for shape, kwargs, seed in table:
        batches, weights = _case_data(shape, kwargs, seed, 2)
        keras_layer = _keras_layer(kwargs, shape, weights)
        for training in (False, None):
            layer = _student_layer(BatchNormalization, kwargs, shape, weights)
            mode = "training=False" if training is False else "no training argument"
            case = f"{_call(kwargs)}, 2 calls with {mode} on batches {shape}"
            ours = _steps(layer, batches, training, case, kwargs)
            theirs = own_ops.call_steps(keras_layer, batches, training)
            for step in range(2):
                _compare_outputs(
                    ours["outputs"][step],
                    theirs["outputs"][step],
                    f"{case}; call {step + 1}",
                    BatchNormalization,
                    "In inference mode BatchNormalization does not match keras.layers."
                    "BatchNormalization.",
                    "in inference mode y = gamma * (x - moving_mean) / sqrt(moving_variance + "
                    "epsilon) + beta, whatever the batch holds",
                )
                _compare_state(
                    ours["weights"][step],
                    weights,
                    tuple(weights),
                    f"{case}; after call {step + 1}",
                    BatchNormalization,
                    "BatchNormalization changes its weights in inference mode.",
                    "only training-mode calls update the moving statistics",
                )
    passed(f"inference mode matches Keras on {len(table)} cases and changes nothing")


# --- BatchNormalization: trainable=False ---------------------------------------------------------


def _fit_case(seed):
    """Data, labels and the starting weights of the small model of the fit checks."""
    rng = np.random.default_rng(cases.seed(seed))
    x = (rng.normal(size=(48, 6, 6, 2)) * [0.5, 2.0] + [1.0, -0.5]).astype("float32")
    y = x[:, :3, :, 0].mean(axis=(1, 2)) > x[:, 3:, :, 1].mean(axis=(1, 2)) - 1.5
    kernel = rng.normal(scale=0.4, size=(3, 3, 2, 4)).astype("float32")
    conv = {"kernel": kernel, "bias": rng.normal(scale=0.1, size=4).astype("float32")}
    norm = {
        "gamma": rng.uniform(0.5, 1.5, 4).astype("float32"),
        "beta": rng.normal(scale=0.2, size=4).astype("float32"),
        "moving_mean": rng.normal(size=4).astype("float32"),
        "moving_variance": rng.uniform(0.5, 4.0, 4).astype("float32"),
    }
    dense = {
        "kernel": rng.normal(scale=0.5, size=(4, 1)).astype("float32"),
        "bias": np.zeros(1, "float32"),
    }
    return x, y.astype("float32"), [conv, norm, None, None, dense]


def _fit_spec(norm):
    return [
        ("keras", "Conv2D", (4, 3), {"padding": "same"}),
        norm,
        ("keras", "Activation", ("relu",), {}),
        ("keras", "GlobalAveragePooling2D", (), {}),
        ("keras", "Dense", (1,), {"activation": "sigmoid"}),
    ]


FIT_SETTINGS = {"loss": "binary_crossentropy", "learning_rate": 0.1, "epochs": 4, "batch_size": 16}
LAYER_NAMES = ("Conv2D", "BatchNormalization", "Activation", "GlobalAveragePooling2D", "Dense")


def _fit_both(cls, kwargs, seed, what):
    """Train the small model with the student's layer and with Keras's, from the same weights
    on the same batches; return (ours, theirs, description)."""
    x, y, initial = _fit_case(seed)
    args = ((None, 6, 6, 2), x, y, FIT_SETTINGS["loss"])
    settings = {k: v for k, v in FIT_SETTINGS.items() if k != "loss"}
    ours = perform(
        what,
        "train_model",
        _fit_spec((cls, (), kwargs)),
        *args,
        initial=initial,
        evaluate=x[:8],
        seed=cases.seed(0),
        forbidden=BATCHNORM,
        **settings,
    )
    theirs = own_ops.train_model(
        _fit_spec(("keras", "BatchNormalization", (), kwargs)),
        *args,
        initial=initial,
        evaluate=x[:8],
        seed=cases.seed(0),
        **settings,
    )
    case = (
        f"Conv2D(4, 3) -> {_call(kwargs)} -> ReLU -> GlobalAveragePooling2D -> Dense(1), "
        f"{FIT_SETTINGS['epochs']} epochs of SGD(learning_rate={FIT_SETTINGS['learning_rate']}) "
        f"on 48 images (6, 6, 2) in batches of {FIT_SETTINGS['batch_size']}, not shuffled"
    )
    return ours, theirs, case


def _compare_fits(ours, theirs, case, cls, headline, hint):
    mismatch = compare(ours["loss"], theirs["loss"], FIT_TOL, name="loss per epoch")
    if mismatch is None:
        for index, expected in enumerate(theirs["layers"]):
            for name, value in expected.items():
                got = ours["layers"][index].get(name)
                if got is None:
                    mismatch = compare(np.zeros(0), value, FIT_TOL, name=name)
                else:
                    label_ = f"{LAYER_NAMES[index]}.{name}"
                    mismatch = compare(got, value, FIT_TOL, name=label_)
                if mismatch:
                    break
            if mismatch:
                break
    if mismatch is None:
        mismatch = compare(
            ours["predictions"], theirs["predictions"], FIT_TOL, name="predictions after fit"
        )
    if mismatch:
        lines = [
            *mismatch.lines,
            f"Keras's loss per epoch: {np.round(theirs['loss'], 4).tolist()}",
            f"yours: {np.round(ours['loss'], 4).tolist()}",
        ]
        _fail(headline, lines, case, _diagnose_layer(cls), hint)


def check_trainable_false(BatchNormalization):
    """A frozen layer (trainable=False, given to the constructor or set later) runs in
    inference mode even with training=True, changes nothing, and stays frozen inside fit."""
    kwargs, shape = {"momentum": 0.9}, (4, 3, 3, 3)
    batches, weights = _case_data(shape, kwargs, 51, 2)
    frozen = {"momentum": 0.9, "trainable": False}
    expected = own_ops.call_steps(_keras_layer(frozen, shape, weights), batches, True)
    for how in ("constructor", "attribute"):
        if how == "constructor":
            layer = _student_layer(BatchNormalization, frozen, shape, weights)
            case = f"{_call(frozen)}, 2 calls with training=True on batches {shape}"
        else:
            layer = _student_layer(BatchNormalization, kwargs, shape, weights)
            perform("layer.trainable = False", "set_trainable", layer, False, forbidden=BATCHNORM)
            case = (
                f"{_call(kwargs)} built, then layer.trainable = False; 2 calls with "
                f"training=True on batches {shape}"
            )
        ours = _steps(layer, batches, True, case, kwargs)
        for step in range(2):
            _compare_outputs(
                ours["outputs"][step],
                expected["outputs"][step],
                f"{case}; call {step + 1}",
                BatchNormalization,
                "A frozen BatchNormalization (trainable=False) does not run in inference mode.",
                "Keras runs a BatchNormalization layer with trainable=False in inference mode "
                "even when training=True: test `training and self.trainable`",
            )
            _compare_state(
                ours["weights"][step],
                weights,
                tuple(weights),
                f"{case}; after call {step + 1}",
                BatchNormalization,
                "A frozen BatchNormalization (trainable=False) changes its weights.",
                "a layer with trainable=False keeps its moving statistics as they are",
            )
    ours, theirs, case = _fit_both(
        BatchNormalization, frozen, 52, "keras.Model.fit with your frozen BatchNormalization"
    )
    _compare_fits(
        ours,
        theirs,
        case.replace("BatchNormalization(", "BatchNormalization(frozen: ", 1),
        BatchNormalization,
        "A model with your frozen BatchNormalization trains differently from Keras's.",
        "inside fit (training=True) a frozen layer must normalize with its moving statistics "
        "and keep all four weights as they are; the layers around it still learn",
    )
    passed("trainable=False freezes the layer as in Keras, alone and inside fit")


# --- BatchNormalization: gradients and fit -------------------------------------------------------


def _check_input_gradient(cls, kwargs, case, x, gamma, upstream, ours, theirs):
    """The gradient with respect to the inputs equals Keras's (it flows through the batch
    statistics too)."""
    if ours["inputs"] is None:
        fail(
            f"No gradient flows back through {_call(kwargs)}.",
            [
                "the output does not depend on the inputs through operations TensorFlow can "
                "differentiate"
            ],
            case=case,
            hint="compute call() with keras.ops; converting to NumPy cuts the gradient",
        )
    mismatch = compare(
        ours["inputs"], np.asarray(theirs["inputs"]), GRADIENT_TOL, name="d loss / d inputs"
    )
    if mismatch:
        mistake = None
        for candidate, wrong in catalogue.input_gradient_variants(
            x, gamma, upstream, kwargs.get("epsilon", 1e-3)
        ):
            if compare(ours["inputs"], wrong, Tolerance(1e-3, 1e-3)) is None:
                mistake = candidate
        fail(
            f"The gradient through {_call(kwargs)} differs from Keras's.",
            mismatch.lines,
            case=case,
            mistake=mistake or _diagnose_layer(cls),
            hint="in training mode the batch mean and variance depend on the inputs: let "
            "TensorFlow differentiate through them (no ops.stop_gradient, no NumPy)",
        )


def check_batchnorm_trains(BatchNormalization):
    """In training mode the gradients equal Keras's (through the batch statistics too), and a
    model with the layer trains under fit exactly like the same model with Keras's layer."""
    for shape, kwargs, seed in (((4, 3, 3, 3), {"epsilon": 0.01}, 61), ((12, 5), {}, 62)):
        (x,), weights = _case_data(shape, kwargs, seed, 1)
        upstream = np.random.default_rng(cases.seed(seed + 100)).normal(size=shape)
        upstream = upstream.astype("float32")
        case = f"{_call(kwargs)} on inputs {shape}, training=True, loss sum(output * u)"
        check_gradients(
            _student_layer(BatchNormalization, kwargs, shape, weights),
            _keras_layer(kwargs, shape, weights),
            x,
            None,
            GRADIENT_TOL,
            case,
            forbidden=BATCHNORM,
            name=_call(kwargs),
            upstream=upstream,
            training=True,
            inputs=partial(
                _check_input_gradient,
                BatchNormalization,
                kwargs,
                case,
                x,
                weights["gamma"],
                upstream,
            ),
            mistake=lambda: _diagnose_layer(BatchNormalization),
        )
    kwargs = {"momentum": 0.8}
    ours, theirs, case = _fit_both(
        BatchNormalization, kwargs, 63, "keras.Model.fit with your BatchNormalization"
    )
    _compare_fits(
        ours,
        theirs,
        case,
        BatchNormalization,
        "A model with your BatchNormalization trains differently from the same model with Keras's.",
        "fit calls the layer with training=True on every batch (batch statistics, moving "
        "statistics updated) and predict with training=False (moving statistics)",
    )
    require_learning(
        ours["loss"], "A small model with your BatchNormalization does not learn.", factor=0.95
    )
    losses = ours["loss"]
    passed(
        f"gradients match Keras and the model trains like Keras's, loss {losses[0]:.3f} -> "
        f"{losses[-1]:.3f}"
    )


# --- batchnorm_backward --------------------------------------------------------------------------


def autodiff_backward(x, gamma, grad_output, epsilon):
    """(grad_x, grad_gamma, grad_beta) of keras.layers.BatchNormalization in training mode,
    by TensorFlow's automatic differentiation in float64."""
    import keras
    import tensorflow as tf

    x = np.asarray(x, np.float64)
    layer = keras.layers.BatchNormalization(epsilon=epsilon, dtype="float64")
    layer.build(x.shape)
    layer.gamma.assign(np.asarray(gamma, np.float64))
    inputs = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        loss = tf.reduce_sum(layer(inputs, training=True) * np.asarray(grad_output, np.float64))
    grad_x, grad_gamma, grad_beta = tape.gradient(loss, [inputs, layer.gamma, layer.beta])
    return grad_x.numpy(), grad_gamma.numpy(), grad_beta.numpy()


def _backward_data(shape, seed):
    rng = np.random.default_rng(cases.seed(seed))
    scales, offsets = _channel_spread(rng, shape[-1])
    x = rng.normal(size=shape) * scales + offsets
    gamma = rng.uniform(0.5, 2.0, shape[-1]) * rng.choice([-1.0, 1.0], shape[-1])
    return x, gamma, rng.normal(size=shape)


def _diagnose_backward(fn):
    outputs = []
    try:
        for p in catalogue.backward_probes():
            result = run(
                "batchnorm_backward",
                fn,
                p["x"].copy(),
                p["gamma"].copy(),
                p["grad_output"].copy(),
                p["epsilon"],
                forbidden=BACKWARD,
            )
            outputs.append(catalogue.packed_gradients(tuple(to_numpy(r) for r in result)))
    except (CheckFailed, TypeError, ValueError):
        return None
    return first_match(outputs, catalogue.backward_probes(), catalogue.BACKWARD_VARIANTS)


def _draw_backward_case(rng):
    return _draw_shape(rng), round(_wide(rng, 1e-5, 0.5), 6), 0


def check_batchnorm_backward(batchnorm_backward, hidden=False):
    """grad_x, grad_gamma and grad_beta equal TensorFlow's autodiff of Keras's layer in
    training mode (float64), on 2-D and 4-D inputs."""
    kind = "hidden" if hidden else "public"
    extra = EXTRA_HIDDEN if hidden else 0
    table = cases.pick(BACKWARD_CASES[kind], _draw_backward_case, extra)
    for shape, epsilon, seed in table:
        x, gamma, grad_output = _backward_data(shape, seed)
        case = f"inputs {shape}, epsilon={epsilon}, a random grad_output"
        result = run(
            "batchnorm_backward",
            batchnorm_backward,
            x.copy(),
            gamma.copy(),
            grad_output.copy(),
            epsilon,
            forbidden=BACKWARD,
            case=case,
        )
        grads = tuple(result) if isinstance(result, tuple | list) else ()
        if len(grads) != 3:
            raise CheckFailed(
                f"batchnorm_backward returned {type(result).__name__}; expected a triple "
                "(grad_x, grad_gamma, grad_beta).",
                [f"case: {case}"],
                "return grad_x, grad_gamma, grad_beta",
            )
        expected = autodiff_backward(x, gamma, grad_output, epsilon)
        shapes = {"grad_x": shape, "grad_gamma": (shape[-1],), "grad_beta": (shape[-1],)}
        for name, got, wanted in zip(shapes, grads, expected, strict=True):
            mismatch = compare(got, wanted, BACKWARD_TOL, name=name)
            if mismatch:
                hint = ""
                if mismatch.kind == "shape":
                    hint = f"{name} has shape {shapes[name]}: summed over every axis but the last"
                elif name == "grad_x":
                    hint = (
                        "grad_x = gamma / sqrt(var + eps) * (g - mean(g) - x_hat * "
                        "mean(g * x_hat)), means over every axis but the last"
                    )
                _fail(
                    f"batchnorm_backward gives the wrong {name}.",
                    mismatch.lines,
                    case,
                    _diagnose_backward(batchnorm_backward),
                    hint,
                )
    passed(f"batchnorm_backward matches automatic differentiation on {len(table)} cases")

"""Checks of lesson 07 (batch normalization), called from the notebook's test cells.

Every check raises `CheckFailed` with feedback in the lesson's terms, or prints one OK line.
The student's layer is compared with `keras.layers.BatchNormalization` holding the same
weights, step by step, in training mode (with and without a mask), in inference mode, frozen,
under mixed precision and inside `fit`; the backward pass with TensorFlow's automatic
differentiation of Keras's layer in float64. The cases and their tolerances are in `cases.py`,
the catalogue that names a mistake in `mistakes.py`.
"""

from functools import partial

import numpy as np

from ...compare import Mismatch, Tolerance, compare, to_numpy
from ...contract import Build, Contract, build_layer, describe_call, make_layer, weights_by_name
from ...diagnosis import Diagnosis
from ...feedback import CheckFailed, fail, passed
from ...guard import ForbiddenOps
from ...harness import ops
from ...student import perform, run
from ...training import check_gradients, require_learning
from ...twin import Twin
from . import cases
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
# Trainability is the contract's to check (and a frozen layer has no trainable weight).
BATCH_NORMALIZATION = Twin("BatchNormalization", how=WEIGHT_FORMULAS, check_trainable=False)
MODE_HINT = (
    "in training mode (training=True and self.trainable) normalize with the batch's mean "
    "and variance and move the moving statistics towards them; otherwise normalize with "
    "moving_mean and moving_variance and change nothing"
)
MIXED_HINT = (
    "under mixed precision compute in float32 (cast the inputs up) and return the output in "
    "self.compute_dtype, as the given code around the exercise does"
)


# --- layers: the student's and Keras's -----------------------------------------------------------


def _call(kwargs):
    return describe_call("BatchNormalization", (), kwargs)


def _student_layer(cls, kwargs, shape, weights):
    """The student's layer made with `kwargs`, built for inputs like `shape`, holding `weights`
    (under mixed precision, in Keras's dtypes)."""
    layer = BATCH_NORMALIZATION.student(cls, (), kwargs, shape, weights, forbidden=BATCHNORM)
    if kwargs.get("dtype") == cases.MIXED:
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
    return layer


def _keras_layer(kwargs, shape, weights):
    return BATCH_NORMALIZATION.reference((), kwargs, shape, weights)


def _steps(layer, batches, training, case, kwargs=None, mask=None):
    """The student's layer called on `batches` in turn: {"outputs": [...], "weights": [...]}."""
    kwargs = kwargs or {}
    mode = "no training argument" if training is None else f"training={training}"
    what = f"{_call(kwargs)} called with {mode}" + ("" if mask is None else " and a mask")
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
        if kwargs.get("dtype") != cases.MIXED:
            raise
        note = (
            "under mixed precision call() reads a weight made with add_weight(..., "
            "autocast=True), the default, as float16; Keras's weights use autocast=False"
        )
        raise CheckFailed(error.headline, [*error.details, note], error.hint) from None


def _layer_on_probe(cls, probe):
    """The student's layer through a probe's steps, packed as `catalogue.pack` packs them."""
    kwargs = {"momentum": probe["momentum"], "epsilon": probe["epsilon"]}
    if not probe["trainable"]:
        kwargs["trainable"] = False
    layer = _student_layer(cls, kwargs, probe["steps"][0][0].shape, probe["weights"])
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
        results.append((step["outputs"][0], state.get("moving_mean"), state.get("moving_variance")))
    try:
        return catalogue.pack(results)
    except (TypeError, ValueError):
        return None


def _pair(packed, result):
    """`packed(*result)` for a result of the expected length; None for anything else."""
    try:
        return packed(tuple(to_numpy(r) for r in result))
    except (TypeError, ValueError):
        return None


LAYER_DIAGNOSIS = Diagnosis(catalogue.layer_probes, catalogue.LAYER_VARIANTS, _layer_on_probe)
STATISTICS_DIAGNOSIS = Diagnosis(
    catalogue.statistics_probes,
    catalogue.STATISTICS_VARIANTS,
    lambda fn, p: _pair(
        lambda r: catalogue.packed_statistics(*r),
        run("batch_statistics", fn, p["x"].copy(), forbidden=BATCHNORM),
    ),
)
BACKWARD_DIAGNOSIS = Diagnosis(
    catalogue.backward_probes,
    catalogue.BACKWARD_VARIANTS,
    lambda fn, p: _pair(
        catalogue.packed_gradients,
        run(
            "batchnorm_backward",
            fn,
            *(p[k].copy() for k in ("x", "gamma", "grad_output")),
            p["epsilon"],
            forbidden=BACKWARD,
        ),
    ),
)


def _compare_outputs(got, expected, case, cls, headline, hint=MODE_HINT):
    """The student's output equals Keras's within OUTPUT_TOL (MIXED_TOL, and the same dtype,
    when Keras's is float16)."""
    expected = to_numpy(expected)
    mixed = expected.dtype == np.float16
    mismatch = compare(got, expected, cases.MIXED_TOL if mixed else cases.OUTPUT_TOL)
    dtype = str(getattr(got, "dtype", ""))
    if mismatch is None and mixed and dtype != "float16":
        lines = (f"output is {dtype or type(got).__name__}; Keras's is float16",)
        mismatch, hint = Mismatch("dtype", lines), MIXED_HINT
    if mismatch:
        shape_hint = "the output has the shape of the input" if mismatch.kind == "shape" else hint
        fail(headline, mismatch.lines, case=case, mistake=LAYER_DIAGNOSIS(cls), hint=shape_hint)


def _compare_state(got, expected, names, case, cls, headline, hint):
    for name in names:
        mismatch = compare(got.get(name), np.asarray(expected[name]), cases.MOVING_TOL, name=name)
        if mismatch:
            fail(headline, mismatch.lines, case=case, mistake=LAYER_DIAGNOSIS(cls), hint=hint)


def _judge_steps(cls, ours, theirs, case, outputs, state, kept=None, label="call"):
    """After each step, the student's outputs and then weights equal Keras's (or `kept`, the
    weights the layer must keep); `outputs` and `state` are the (headline, hint) of each."""
    for step, expected in enumerate(theirs["outputs"]):
        where = f"{case}; after call {step + 1}"
        _compare_outputs(
            ours["outputs"][step], expected, f"{case}; {label} {step + 1}", cls, *outputs
        )
        wanted = theirs["weights"][step] if kept is None else kept
        names = ("moving_mean", "moving_variance") if kept is None else tuple(kept)
        _compare_state(ours["weights"][step], wanted, names, where, cls, *state)


# --- batch_statistics ----------------------------------------------------------------------------


def check_batch_statistics(batch_statistics, hidden=False):
    """Mean and biased variance of each channel, over every other axis, on 2-D and 4-D inputs."""
    x, mean, variance, words = cases.hand_example()
    examples = [(x, mean, variance, f"the worked example{words}: x = {x.tolist()}", cases.HAND_TOL)]
    for shape, seed in cases.statistics(hidden):
        rng = np.random.default_rng(cases.drawn.seed(seed))
        batch = cases.draw_batches(rng, shape, 1, cases.channel_spread(rng, shape[-1]))[0]
        examples.append(
            (batch, *catalogue.statistics(batch), f"a random batch {shape}", cases.STATISTICS_TOL)
        )
    for x, mean, variance, case, tolerance in examples:
        result = run("batch_statistics", batch_statistics, x.copy(), forbidden=BATCHNORM, case=case)
        if not (isinstance(result, tuple | list) and len(result) == 2):
            raise CheckFailed(
                f"batch_statistics(x of shape {x.shape}) returned {type(result).__name__}; "
                "expected a pair (mean, variance).",
                [],
                "return mean, variance",
            )
        for name, got, wanted in zip(("mean", "variance"), result, (mean, variance), strict=True):
            mismatch = compare(got, wanted, tolerance, name=name)
            if mismatch:
                hint = ""
                if mismatch.kind == "shape":
                    hint = (
                        f"one {name} per channel: shape (C,) = ({x.shape[-1]},), reduced over "
                        f"axes {tuple(range(x.ndim - 1))}"
                    )
                mistake = STATISTICS_DIAGNOSIS(batch_statistics)
                fail(
                    f"batch_statistics gives the wrong {name}.",
                    mismatch.lines,
                    case=case,
                    mistake=mistake,
                    hint=hint,
                )
    passed(f"batch_statistics is right on {len(examples)} batches, the worked example included")


# --- BatchNormalization: the contract ------------------------------------------------------------

# (constructor arguments, input shape) of the layers whose weights the contract checks.
BUILDS = (
    ({}, (None, 6, 6, 3)),
    ({}, (None, 5)),
    ({"center": False}, (None, 4, 4, 2)),
    ({"scale": False}, (None, 7)),
    ({"center": False, "scale": False}, (None, 3, 3, 4)),
)
WEIGHT_ARGUMENTS = (
    "BatchNormalization(gamma_initializer=Constant(2.0), beta_initializer='ones', "
    "moving_mean_initializer=Constant(0.5), moving_variance_initializer=Constant(3.0), "
    "gamma_regularizer=L2(0.5), beta_regularizer=L1(0.25), gamma_constraint='non_neg', "
    "beta_constraint='non_neg') built for inputs (None, 4, 4, 2)"
)
CONFIG = {"momentum": 0.9, "epsilon": 0.01, "center": False, "gamma_regularizer": "l2"}


def _weight_names(kwargs):
    """Keras's weights of a layer with `kwargs`, in Keras's order."""
    on = {"gamma": kwargs.get("scale", True), "beta": kwargs.get("center", True)}
    return [name for name in WEIGHT_ORDER if on.get(name, True)]


def _check_weight_order(cls, kwargs, shape):
    layer = make_layer(cls, (), kwargs, forbidden=BATCHNORM)
    build_layer(layer, shape, forbidden=BATCHNORM)
    found = perform("BatchNormalization.weights", "weights", layer, forbidden=BATCHNORM)
    ours, expected = [info["name"] for info in found], _weight_names(kwargs)
    if ours != expected:
        raise CheckFailed(
            f"{_call(kwargs)} built for inputs {shape} creates its weights in another order than "
            "Keras.",
            [f"yours: {ours}", f"Keras: {expected}"],
            "create gamma, beta, moving_mean, moving_variance in that order (Keras's "
            "set_weights and saved weights depend on it)",
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
    layer = build_layer(
        make_layer(cls, (), kwargs, forbidden=BATCHNORM), (None, 4, 4, 2), forbidden=BATCHNORM
    )
    values = perform("BatchNormalization.weights", "weight_values", layer, forbidden=BATCHNORM)
    constraints = perform(
        "BatchNormalization.weights", "weight_constraints", layer, forbidden=BATCHNORM
    )
    starts = {"gamma": 2.0, "beta": 1.0, "moving_mean": 0.5, "moving_variance": 3.0}
    problems = [
        f"{name}_initializer is ignored: {name} does not start at {start:g}"
        for name, start in starts.items()
        if name not in values or not np.allclose(values[name], start)
    ]
    problems += [
        f"{name}_constraint is ignored: {name} has no constraint"
        for name in ("gamma", "beta")
        if constraints.get(name) is None
    ]
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


def _check_config_values(cls):
    import keras

    layer = make_layer(cls, (), CONFIG, forbidden=BATCHNORM)
    config = run("BatchNormalization.get_config()", layer.get_config, forbidden=BATCHNORM)
    keras_config = keras.layers.BatchNormalization(**CONFIG).get_config()
    for key in ("axis", "momentum", "epsilon", "center", "scale", "gamma_regularizer"):
        if _canonical(key, config.get(key)) != _canonical(key, keras_config[key]):
            raise CheckFailed(
                f"{_call(CONFIG)}.get_config() differs from Keras's.",
                [f"yours: {key}={config.get(key)!r}; Keras: {key}={keras_config[key]!r}"],
                "store every constructor argument, initializers and regularizers serialized",
            )


def _contract_steps(cls):
    """Weights in Keras's order, built from the constructor's arguments; config values as
    Keras's."""
    for kwargs, shape in BUILDS:
        _check_weight_order(cls, kwargs, shape)
    _check_weight_arguments(cls)
    _check_config_values(cls)


check_batchnorm_contract = Contract(
    "BatchNormalization",
    "BatchNormalization",
    SUPPORTED_ARGUMENTS,
    BATCHNORM,
    builds=tuple(
        Build(
            (),
            kwargs,
            shape,
            dict.fromkeys(_weight_names(kwargs), (shape[-1],)),
            ("moving_mean", "moving_variance"),
        )
        for kwargs, shape in BUILDS
    ),
    how=WEIGHT_FORMULAS,
    extra=_contract_steps,
    output_shapes=(
        ((), {}, ((2, 6, 6, 3), (None, None, None, 3))),
        ((), {"momentum": 0.9, "epsilon": 0.01}, ((None, 5),)),
    ),
    formula="the output has the shape of the input",
    config=((), CONFIG, CONFIG_KEYS),
    symbolic=((), {}, (None, 7, 7, 3)),
)


# --- BatchNormalization: training mode, moving statistics, inference mode ----------------------


def check_training_mode(BatchNormalization, hidden=False):
    """With training=True the outputs equal keras.layers.BatchNormalization's (same weights):
    each channel normalized with the batch's own statistics, then scaled and shifted."""
    table = cases.training(hidden)
    for shape, kwargs, seed, masked in table:
        (x,), weights = cases.case_data(shape, kwargs, seed, 1)
        mask, words = cases.draw_mask(shape, seed, [x]) if masked else (None, "")
        case = f"{_call(kwargs)} on inputs {shape}{words}, training=True"
        layer = _student_layer(BatchNormalization, kwargs, shape, weights)
        got = _steps(layer, [x], True, case, kwargs, mask)["outputs"][0]
        theirs = own_ops.call_steps(_keras_layer(kwargs, shape, weights), [x], True, mask)
        _compare_outputs(
            got,
            theirs["outputs"][0],
            case,
            BatchNormalization,
            "In training mode BatchNormalization does not match keras.layers.BatchNormalization.",
            "y = gamma * (x - mean) / sqrt(variance + epsilon) + beta, with the mean and "
            "variance of each channel over this batch (every axis but the last)"
            + (", over the positions the mask keeps" if masked else ""),
        )
    passed(f"training mode matches keras.layers.BatchNormalization on {len(table)} cases")


def check_moving_statistics(BatchNormalization, hidden=False):
    """After each of several training steps, the outputs and the moving mean and variance
    equal Keras's: moving = moving * momentum + batch statistic * (1 - momentum)."""
    table = cases.moving(hidden)
    for shape, kwargs, count, seed, masked in table:
        batches, weights = cases.case_data(shape, kwargs, seed, count)
        mask, words = cases.draw_mask(shape, seed, batches) if masked else (None, "")
        layer = _student_layer(BatchNormalization, kwargs, shape, weights)
        base = f"{_call(kwargs)}, {count} calls with training=True on batches {shape}{words}"
        _judge_steps(
            BatchNormalization,
            _steps(layer, batches, True, base, kwargs, mask),
            own_ops.call_steps(_keras_layer(kwargs, shape, weights), batches, True, mask),
            base,
            (
                "In training mode BatchNormalization does not match keras.layers."
                "BatchNormalization.",
            ),
            (
                "The moving statistics differ from Keras's.",
                "after each training-mode call: moving = moving * momentum + batch statistic "
                "* (1 - momentum), with the batch's biased variance",
            ),
            label="after call",
        )
    passed(f"moving statistics match Keras after every step of {len(table)} sequences")


def check_inference_mode(BatchNormalization, hidden=False):
    """With training=False, or no training argument, the outputs use the moving statistics
    (equal to Keras's) and the weights do not change."""
    table = cases.inference(hidden)
    for shape, kwargs, seed in table:
        batches, weights = cases.case_data(shape, kwargs, seed, 2)
        keras_layer = _keras_layer(kwargs, shape, weights)
        for training in (False, None):
            layer = _student_layer(BatchNormalization, kwargs, shape, weights)
            mode = "training=False" if training is False else "no training argument"
            case = f"{_call(kwargs)}, 2 calls with {mode} on batches {shape}"
            _judge_steps(
                BatchNormalization,
                _steps(layer, batches, training, case, kwargs),
                own_ops.call_steps(keras_layer, batches, training),
                case,
                (
                    "In inference mode BatchNormalization does not match keras.layers."
                    "BatchNormalization.",
                    "in inference mode y = gamma * (x - moving_mean) / sqrt(moving_variance + "
                    "epsilon) + beta, whatever the batch holds",
                ),
                (
                    "BatchNormalization changes its weights in inference mode.",
                    "only training-mode calls update the moving statistics",
                ),
                kept=weights,
            )
    passed(f"inference mode matches Keras on {len(table)} cases and changes nothing")


# --- BatchNormalization: trainable=False, gradients and fit ------------------------------------

LAYER_NAMES = ("Conv2D", "BatchNormalization", "Activation", "GlobalAveragePooling2D", "Dense")


def _fit_both(cls, kwargs, seed, what):
    """Train the small model with the student's layer and with Keras's, from the same weights
    on the same batches; return (ours, theirs, description)."""
    x, y, initial = cases.fit_case(seed)
    settings = {k: v for k, v in cases.FIT_SETTINGS.items() if k != "loss"}
    common = ((None, 6, 6, 2), x, y, cases.FIT_SETTINGS["loss"])
    extra = {
        "initial": initial,
        "evaluate": cases.fit_evaluation(x),
        "seed": cases.drawn.seed(0),
        **settings,
    }
    ours = perform(
        what,
        "train_model",
        cases.fit_spec((cls, (), kwargs)),
        *common,
        forbidden=BATCHNORM,
        **extra,
    )
    theirs = own_ops.train_model(
        cases.fit_spec(("keras", "BatchNormalization", (), kwargs)), *common, **extra
    )
    case = (
        f"Conv2D(4, 3) -> {_call(kwargs)} -> ReLU -> GlobalAveragePooling2D -> Dense(1), "
        f"{settings['epochs']} epochs of SGD(learning_rate={settings['learning_rate']}) "
        f"on 48 images (6, 6, 2) in batches of {settings['batch_size']}, not shuffled"
    )
    return ours, theirs, case


def _compare_fits(ours, theirs, case, cls, headline, hint):
    """The losses, then every layer's weights, then the predictions equal Keras's."""
    pairs = [(ours["loss"], theirs["loss"], "loss per epoch")]
    for index, expected in enumerate(theirs["layers"]):
        for name, value in expected.items():
            got = ours["layers"][index].get(name)
            pairs.append(
                (np.zeros(0), value, name)
                if got is None
                else (got, value, f"{LAYER_NAMES[index]}.{name}")
            )
    pairs.append((ours["predictions"], theirs["predictions"], "predictions after fit"))
    for got, expected, name in pairs:
        mismatch = compare(got, expected, cases.FIT_TOL, name=name)
        if mismatch:
            lines = [
                *mismatch.lines,
                f"Keras's loss per epoch: {np.round(theirs['loss'], 4).tolist()}",
                f"yours: {np.round(ours['loss'], 4).tolist()}",
            ]
            fail(headline, lines, case=case, mistake=LAYER_DIAGNOSIS(cls), hint=hint)


def check_trainable_false(BatchNormalization):
    """A frozen layer (trainable=False, given to the constructor or set later) runs in
    inference mode even with training=True, changes nothing, and stays frozen inside fit."""
    kwargs, shape = {"momentum": 0.9}, (4, 3, 3, 3)
    batches, weights = cases.case_data(shape, kwargs, 51, 2)
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
        _judge_steps(
            BatchNormalization,
            _steps(layer, batches, True, case, kwargs),
            expected,
            case,
            (
                "A frozen BatchNormalization (trainable=False) does not run in inference mode.",
                "Keras runs a BatchNormalization layer with trainable=False in inference mode "
                "even when training=True: test `training and self.trainable`",
            ),
            (
                "A frozen BatchNormalization (trainable=False) changes its weights.",
                "a layer with trainable=False keeps its moving statistics as they are",
            ),
            kept=weights,
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
        ours["inputs"], np.asarray(theirs["inputs"]), cases.GRADIENT_TOL, name="d loss / d inputs"
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
            mistake=mistake or LAYER_DIAGNOSIS(cls),
            hint="in training mode the batch mean and variance depend on the inputs: let "
            "TensorFlow differentiate through them (no ops.stop_gradient, no NumPy)",
        )


def check_batchnorm_trains(BatchNormalization):
    """In training mode the gradients equal Keras's (through the batch statistics too), and a
    model with the layer trains under fit exactly like the same model with Keras's layer."""
    for shape, kwargs, seed in (((4, 3, 3, 3), {"epsilon": 0.01}, 61), ((12, 5), {}, 62)):
        (x,), weights = cases.case_data(shape, kwargs, seed, 1)
        upstream = np.random.default_rng(cases.drawn.seed(seed + 100)).normal(size=shape)
        upstream = upstream.astype("float32")
        case = f"{_call(kwargs)} on inputs {shape}, training=True, loss sum(output * u)"
        check_gradients(
            _student_layer(BatchNormalization, kwargs, shape, weights),
            _keras_layer(kwargs, shape, weights),
            x,
            None,
            cases.GRADIENT_TOL,
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
            mistake=lambda: LAYER_DIAGNOSIS(BatchNormalization),
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


def check_batchnorm_backward(batchnorm_backward, hidden=False):
    """grad_x, grad_gamma and grad_beta equal TensorFlow's autodiff of Keras's layer in
    training mode (float64), on 2-D and 4-D inputs."""
    table = cases.backward(hidden)
    for shape, epsilon, seed in table:
        x, gamma, grad_output = cases.backward_data(shape, seed)
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
        expected = cases.autodiff_backward(x, gamma, grad_output, epsilon)
        shapes = {"grad_x": shape, "grad_gamma": (shape[-1],), "grad_beta": (shape[-1],)}
        for name, got, wanted in zip(shapes, grads, expected, strict=True):
            mismatch = compare(got, wanted, cases.BACKWARD_TOL, name=name)
            if mismatch:
                hint = ""
                if mismatch.kind == "shape":
                    hint = f"{name} has shape {shapes[name]}: summed over every axis but the last"
                elif name == "grad_x":
                    hint = (
                        "grad_x = gamma / sqrt(var + eps) * (g - mean(g) - x_hat * "
                        "mean(g * x_hat)), means over every axis but the last"
                    )
                mistake = BACKWARD_DIAGNOSIS(batchnorm_backward)
                fail(
                    f"batchnorm_backward gives the wrong {name}.",
                    mismatch.lines,
                    case=case,
                    mistake=mistake,
                    hint=hint,
                )
    passed(f"batchnorm_backward matches automatic differentiation on {len(table)} cases")

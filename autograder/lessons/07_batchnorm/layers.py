"""Lesson 07's layer, side by side with Keras's: both built alike with the same weights, called
step by step (with a mask, under mixed precision), compared step by step, diagnosed with the
catalogue, trained inside a small model; and the contract's own steps (weight order, the
constructor's weight arguments, config values).
"""

import numpy as np

from ...compare import Mismatch, Tolerance, compare, to_numpy
from ...contract import build_layer, describe_call, make_layer, weights_by_name
from ...diagnosis import Diagnosis
from ...feedback import CheckFailed, fail
from ...harness import ops
from ...student import perform, run
from ...twin import Twin
from . import cases
from . import mistakes as catalogue
from . import ops as own_ops
from .forbidden import BACKWARD, BATCHNORM

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


def described(kwargs):
    return describe_call("BatchNormalization", (), kwargs)


def student_layer(cls, kwargs, shape, weights):
    """The student's layer made with `kwargs`, built for inputs like `shape`, holding `weights`
    (under mixed precision, in Keras's dtypes)."""
    layer = BATCH_NORMALIZATION.student(cls, (), kwargs, shape, weights, forbidden=BATCHNORM)
    if kwargs.get("dtype") == cases.MIXED:
        found = weights_by_name(layer, forbidden=BATCHNORM)
        wrong = [
            f"{name} is {found[name]['dtype']}; Keras keeps it in {variable.dtype}"
            for variable in keras_layer(kwargs, shape, {}).weights
            if found.get(name := ops.short_name(variable), {}).get("dtype") != variable.dtype
        ]
        if wrong:
            fail(
                f"{described(kwargs)} does not keep its weights in float32.",
                wrong,
                case=f"{described(kwargs)} built for inputs {shape}",
                hint="create the weights with self.add_weight(..., autocast=False): under mixed "
                "precision they stay float32 while the layer computes in float16",
            )
    return layer


def keras_layer(kwargs, shape, weights):
    return BATCH_NORMALIZATION.reference((), kwargs, shape, weights)


def steps(layer, batches, training, case, kwargs=None, mask=None):
    """The student's layer called on `batches` in turn: {"outputs": [...], "weights": [...]}."""
    kwargs = kwargs or {}
    mode = "no training argument" if training is None else f"training={training}"
    what = f"{described(kwargs)} called with {mode}" + ("" if mask is None else " and a mask")
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
    layer = student_layer(cls, kwargs, probe["steps"][0][0].shape, probe["weights"])
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


def compare_outputs(got, expected, case, cls, headline, hint=MODE_HINT):
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


def compare_state(got, expected, names, case, cls, headline, hint):
    for name in names:
        mismatch = compare(got.get(name), np.asarray(expected[name]), cases.MOVING_TOL, name=name)
        if mismatch:
            fail(headline, mismatch.lines, case=case, mistake=LAYER_DIAGNOSIS(cls), hint=hint)


def judge_steps(cls, ours, theirs, case, outputs, state, kept=None, label="call"):
    """After each step, the student's outputs and then weights equal Keras's (or `kept`, the
    weights the layer must keep); `outputs` and `state` are the (headline, hint) of each."""
    for step, expected in enumerate(theirs["outputs"]):
        where = f"{case}; after call {step + 1}"
        compare_outputs(
            ours["outputs"][step], expected, f"{case}; {label} {step + 1}", cls, *outputs
        )
        wanted = theirs["weights"][step] if kept is None else kept
        names = ("moving_mean", "moving_variance") if kept is None else tuple(kept)
        compare_state(ours["weights"][step], wanted, names, where, cls, *state)


def wrong(function, name, mismatch, case, hint, student):
    """Fail: `function` gives the wrong `name` (the mistake named by the function's catalogue)."""
    diagnosis = STATISTICS_DIAGNOSIS if function == "batch_statistics" else BACKWARD_DIAGNOSIS
    fail(
        f"{function} gives the wrong {name}.",
        mismatch.lines,
        case=case,
        mistake=diagnosis(student),
        hint=hint,
    )


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


def weight_names(kwargs):
    """Keras's weights of a layer with `kwargs`, in Keras's order."""
    on = {"gamma": kwargs.get("scale", True), "beta": kwargs.get("center", True)}
    return [name for name in WEIGHT_ORDER if on.get(name, True)]


def check_weight_order(cls, kwargs, shape):
    layer = make_layer(cls, (), kwargs, forbidden=BATCHNORM)
    build_layer(layer, shape, forbidden=BATCHNORM)
    found = perform("BatchNormalization.weights", "weights", layer, forbidden=BATCHNORM)
    ours, expected = [info["name"] for info in found], weight_names(kwargs)
    if ours != expected:
        raise CheckFailed(
            f"{described(kwargs)} built for inputs {shape} creates its weights in another order "
            "than Keras.",
            [f"yours: {ours}", f"Keras: {expected}"],
            "create gamma, beta, moving_mean, moving_variance in that order (Keras's "
            "set_weights and saved weights depend on it)",
        )


def check_weight_arguments(cls):
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


def check_config_values(cls):
    import keras

    layer = make_layer(cls, (), CONFIG, forbidden=BATCHNORM)
    config = run("BatchNormalization.get_config()", layer.get_config, forbidden=BATCHNORM)
    keras_config = keras.layers.BatchNormalization(**CONFIG).get_config()
    for key in ("axis", "momentum", "epsilon", "center", "scale", "gamma_regularizer"):
        if _canonical(key, config.get(key)) != _canonical(key, keras_config[key]):
            raise CheckFailed(
                f"{described(CONFIG)}.get_config() differs from Keras's.",
                [f"yours: {key}={config.get(key)!r}; Keras: {key}={keras_config[key]!r}"],
                "store every constructor argument, initializers and regularizers serialized",
            )


def contract_steps(cls):
    """Weights in Keras's order, built from the constructor's arguments; config values as
    Keras's."""
    for kwargs, shape in BUILDS:
        check_weight_order(cls, kwargs, shape)
    check_weight_arguments(cls)
    check_config_values(cls)


LAYER_NAMES = ("Conv2D", "BatchNormalization", "Activation", "GlobalAveragePooling2D", "Dense")


def fit_both(cls, kwargs, seed, what):
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
        f"Conv2D(4, 3) -> {described(kwargs)} -> ReLU -> GlobalAveragePooling2D -> Dense(1), "
        f"{settings['epochs']} epochs of SGD(learning_rate={settings['learning_rate']}) "
        f"on 48 images (6, 6, 2) in batches of {settings['batch_size']}, not shuffled"
    )
    return ours, theirs, case


def compare_fits(ours, theirs, case, cls, headline, hint):
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


def check_input_gradient(cls, kwargs, case, x, gamma, upstream, ours, theirs):
    """The gradient with respect to the inputs equals Keras's (it flows through the batch
    statistics too)."""
    if ours["inputs"] is None:
        fail(
            f"No gradient flows back through {described(kwargs)}.",
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
            f"The gradient through {described(kwargs)} differs from Keras's.",
            mismatch.lines,
            case=case,
            mistake=mistake or LAYER_DIAGNOSIS(cls),
            hint="in training mode the batch mean and variance depend on the inputs: let "
            "TensorFlow differentiate through them (no ops.stop_gradient, no NumPy)",
        )

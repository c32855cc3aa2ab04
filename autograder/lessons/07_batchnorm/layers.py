"""Lesson 07's layer beside Keras's: built alike with the same weights, called and compared
step by step, diagnosed with the catalogue, trained inside a small model."""

import numpy as np

from ...compare import Mismatch, compare, to_numpy
from ...contract import describe_call, weights_by_name
from ...diagnosis import DIAGNOSIS_TOLERANCE, Diagnosis
from ...feedback import CheckFailed, fail
from ...harness import ops
from ...student import perform, run
from ...twin import Twin
from . import cases
from . import mistakes as catalogue
from . import ops as own_ops
from .forbidden import BACKWARD, BATCHNORM

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
# TensorFlow's words when a float64 tensor meets a float32 one (a batch_statistics that
# computes in float64 and returns that, say): the line it names is where they met.
FLOAT64_NOTE = (
    "a float64 tensor met a float32 one: batch_statistics must return its statistics in the "
    "dtype of its input (ops.cast(mean, x.dtype), ops.cast(variance, x.dtype)), and call() "
    "computes in float32"
)
AUTOCAST_NOTE = (
    "under mixed precision call() reads a weight made with add_weight(..., autocast=True), the "
    "default, as float16; Keras's weights use autocast=False"
)


def noted_dtypes(error: CheckFailed, mixed: bool = False) -> CheckFailed:
    """`error` with FLOAT64_NOTE added when it is TensorFlow refusing to mix float64 with
    float32, and (as a CheckFailed) AUTOCAST_NOTE when `mixed`."""
    text = error.headline
    if "double tensor" in text or ("float64" in text and "float32" in text):
        error = type(error)(error.headline, [*error.details, FLOAT64_NOTE], error.hint)
    if mixed:
        error = CheckFailed(error.headline, [*error.details, AUTOCAST_NOTE], error.hint)
    return error


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


def both(cls, kwargs, shape, weights, batches, training, case, mask=None):
    """(the student's steps, Keras's) on `batches`, both layers made alike with `weights`."""
    ours = steps(student_layer(cls, kwargs, shape, weights), batches, training, case, kwargs, mask)
    return ours, own_ops.call_steps(keras_layer(kwargs, shape, weights), batches, training, mask)


def steps(layer, batches, training, case, kwargs=None, mask=None):
    """The student's layer called on `batches` in turn: {"outputs": [...], "weights": [...]}."""
    kwargs = kwargs or {}
    mode = "no training argument" if training is None else f"training={training}"
    what = f"{described(kwargs)} called with {mode}" + ("" if mask is None else " and a mask")
    options = {"training": training, "mask": mask, "forbidden": BATCHNORM, "case": case}
    try:
        return perform(what, "call_steps", layer, batches, **options)
    except CheckFailed as failure:
        raise noted_dtypes(failure, kwargs.get("dtype") == cases.MIXED) from None


def _layer_on_probe(cls, probe):
    """The student's layer through a probe's steps, packed as `catalogue.pack` packs them."""
    kwargs = {"momentum": probe["momentum"], "epsilon": probe["epsilon"]}
    if not probe["trainable"]:
        kwargs["trainable"] = False
    layer = student_layer(cls, kwargs, probe["steps"][0][0].shape, probe["weights"])
    results = []
    for batch, training in probe["steps"]:
        step = steps(layer, [batch], training, "", kwargs)
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
        fail(headline, mismatch, case=case, mistake=LAYER_DIAGNOSIS(cls), hint=shape_hint)


def judge_steps(
    cls, ours, theirs, case, outputs, state, kept=None, label="call", weights_first=False
):
    """After each step, the student's outputs and then weights equal Keras's (or `kept`, the
    weights the layer must keep); `outputs` and `state` are the (headline, hint) of each.
    `weights_first` compares the weights first: a layer that must keep them and does not is
    told so, even when its outputs differ because it reads the changed weights."""
    require_variables(ours, case)
    for step, expected in enumerate(theirs["outputs"]):
        where = f"{case}; after call {step + 1}"
        weights = (cls, ours["weights"][step], theirs["weights"][step], kept, where, state)
        if weights_first:
            _judge_weights(*weights)
        compare_outputs(
            ours["outputs"][step], expected, f"{case}; {label} {step + 1}", cls, *outputs
        )
        if not weights_first:
            _judge_weights(*weights)


def require_variables(ours, case):
    """Fail, naming the mistake, when the student's calls (`steps`) left an attribute of a
    weight holding a tensor: assigned with `=` instead of `.assign`."""
    if ours.get("replaced"):
        names = " and ".join(f"self.{name}" for name in ours["replaced"])
        fail(
            f"BatchNormalization replaces its variable {names} by a tensor.",
            [
                "after a training-mode call the attribute holds a tensor, not the layer's "
                "variable, which keeps its old value"
            ],
            case=case,
            mistake=catalogue.VARIABLE_REPLACED,
            hint=f"update a weight in place: self.{ours['replaced'][0]}.assign(new_value), "
            f"never self.{ours['replaced'][0]} = new_value",
        )


def _judge_weights(cls, got, keras_weights, kept, where, state):
    """The moving statistics equal Keras's after a step, or every weight in `kept` is kept."""
    wanted = keras_weights if kept is None else kept
    for name in ("moving_mean", "moving_variance") if kept is None else tuple(kept):
        mismatch = compare(got.get(name), np.asarray(wanted[name]), cases.MOVING_TOL, name=name)
        if mismatch:
            fail(state[0], mismatch, case=where, mistake=LAYER_DIAGNOSIS(cls), hint=state[1])


def wrong(function, name, mismatch, case, hint, student):
    """Fail: `function` gives the wrong `name` (the mistake named by the function's catalogue)."""
    diagnosis = STATISTICS_DIAGNOSIS if function == "batch_statistics" else BACKWARD_DIAGNOSIS
    headline = f"{function} gives the wrong {name}."
    fail(headline, mismatch, case=case, mistake=diagnosis(student), hint=hint)


LAYER_NAMES = ("Conv2D", "BatchNormalization", "Activation", "GlobalAveragePooling2D", "Dense")


def fit_both(cls, kwargs, seed, what):
    """(ours, theirs, case): the small model fitted with each layer from the same start."""
    x, y, initial = cases.fit_case(seed)
    settings, data = cases.FIT_SETTINGS, ((None, 6, 6, 2), x, y)
    extra = {"initial": initial, "evaluate": cases.fit_evaluation(x), "seed": cases.drawn.seed(0)}
    spec = cases.fit_spec((cls, (), kwargs))
    ours = perform(what, "train_model", spec, *data, forbidden=BATCHNORM, **extra, **settings)
    keras_spec = cases.fit_spec(("keras", "BatchNormalization", (), kwargs))
    theirs = own_ops.train_model(keras_spec, *data, **extra, **settings)
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
            label = name if got is None else f"{LAYER_NAMES[index]}.{name}"
            pairs.append((np.zeros(0) if got is None else got, value, label))
    pairs.append((ours["predictions"], theirs["predictions"], "predictions after fit"))
    for got, expected, name in pairs:
        mismatch = compare(got, expected, cases.FIT_TOL, name=name)
        if mismatch:
            lines = [
                *mismatch.lines,
                f"Keras's loss per epoch: {np.round(theirs['loss'], 4).tolist()}",
                f"yours: {np.round(ours['loss'], 4).tolist()}",
            ]
            fail(
                headline,
                lines,
                case=case,
                mistake=LAYER_DIAGNOSIS(cls),
                hint=hint,
                picture=mismatch.picture,
            )


# When the training-mode output itself is wrong, the gradient follows it.
FORWARD_FIRST = (
    "your training-mode output already differs from Keras's here: make check_training_mode "
    "pass first, then the gradient follows the output"
)


def check_input_gradient(cls, kwargs, case, x, gamma, upstream, ours, theirs):
    """The gradient with respect to the inputs (through the batch statistics too) is Keras's."""
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
        epsilon = kwargs.get("epsilon", 1e-3)
        variants = catalogue.input_gradient_variants(x, gamma, upstream, epsilon)
        found = [
            m for m, wrong in variants if not compare(ours["inputs"], wrong, DIAGNOSIS_TOLERANCE)
        ]
        fail(
            f"The gradient through {described(kwargs)} differs from Keras's.",
            mismatch,
            case=case,
            mistake=found[-1] if found else LAYER_DIAGNOSIS(cls),
            hint=FORWARD_FIRST
            if compare(ours["output"], to_numpy(theirs["output"]), cases.OUTPUT_TOL)
            else "in training mode the batch mean and variance depend on the inputs: let "
            "TensorFlow differentiate through them (no ops.stop_gradient, no NumPy)",
        )

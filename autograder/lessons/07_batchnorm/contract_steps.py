"""Lesson 07's layer contract: the shared `Contract` with the lesson's own steps, and a
training-mode call traced as model.fit traces it."""

import numpy as np

from ...contract import UNGUARDED, UNKNOWN_BATCH, Build, Contract, build_layer, make_layer
from ...feedback import CheckFailed
from ...student import Raised, perform, run
from .forbidden import BATCHNORM
from .layers import WEIGHT_FORMULAS, WEIGHT_ORDER, described

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
NON_TRAINABLE = ("moving_mean", "moving_variance")
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
    what = "BatchNormalization.weights"
    values = perform(what, "weight_values", layer, forbidden=BATCHNORM)
    constraints = perform(what, "weight_constraints", layer, forbidden=BATCHNORM)
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


# gamma and beta given constraints of different kinds: one weight created with the other's
# constraint (a copy-paste slip) has a constraint, only not its own.
OWN_CONSTRAINTS = {"gamma": "MaxNorm", "beta": "NonNeg"}
OWN_CONSTRAINTS_CASE = (
    "BatchNormalization(gamma_constraint=MaxNorm(2.0), beta_constraint='non_neg') built for "
    "inputs (None, 4, 4, 2)"
)


def check_own_constraints(cls):
    """gamma gets gamma_constraint and beta beta_constraint, not the other's."""
    import keras

    kwargs = {"gamma_constraint": keras.constraints.MaxNorm(2.0), "beta_constraint": "non_neg"}
    layer = build_layer(
        make_layer(cls, (), kwargs, forbidden=BATCHNORM), (None, 4, 4, 2), forbidden=BATCHNORM
    )
    found = perform("BatchNormalization.weights", "weight_constraints", layer, forbidden=BATCHNORM)
    problems = []
    for name, kind in OWN_CONSTRAINTS.items():
        other = "beta" if name == "gamma" else "gamma"
        got = found.get(name)
        if got == kind:
            continue
        has = "no constraint" if got is None else got
        has = f"{other}_constraint's {got}" if got == OWN_CONSTRAINTS[other] else has
        problems.append(f"{name}_constraint is ignored: {name} has {has} instead of {kind}")
    if problems:
        raise CheckFailed(
            "BatchNormalization does not give each weight its own constraint.",
            [f"case: {OWN_CONSTRAINTS_CASE}", *problems],
            "create gamma with constraint=self.gamma_constraint and beta with "
            "constraint=self.beta_constraint",
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
    """Weights in Keras's order, built from the constructor's arguments (each of gamma and
    beta with its own constraint); config values as Keras's."""
    for kwargs, shape in BUILDS:
        check_weight_order(cls, kwargs, shape)
    check_weight_arguments(cls)
    check_own_constraints(cls)
    check_config_values(cls)


CONTRACT = Contract(
    "BatchNormalization",
    "BatchNormalization",
    SUPPORTED_ARGUMENTS,
    BATCHNORM,
    builds=tuple(
        Build((), kwargs, shape, dict.fromkeys(weight_names(kwargs), (shape[-1],)), NON_TRAINABLE)
        for kwargs, shape in BUILDS
    ),
    how=WEIGHT_FORMULAS,
    extra=contract_steps,
    output_shapes=(
        ((), {}, ((2, 6, 6, 3), (None, None, None, 3))),
        ((), {"momentum": 0.9, "epsilon": 0.01}, ((None, 5),)),
    ),
    formula="the output has the shape of the input",
    config=((), CONFIG, SUPPORTED_ARGUMENTS),
    symbolic=((), {}, (None, 7, 7, 3)),
    passed=None,
)


# Input shapes of the training-mode calls traced with the batch size unknown.
TRACED_TRAINING = ((None, 7, 7, 3), (None, 5))
PARTIAL_BATCH = (
    "model.fit calls the layer with training=True, and so batch_statistics, on every batch; a "
    "last batch smaller than the others (1000 images in batches of 64 leave 40) makes it trace "
    "that call again with the batch size None: count the values of a channel with ops.mean, "
    "or from ops.shape(x), not from x.shape"
)


def check_traced_training(cls):
    """The layer runs in training mode when called as model.fit calls it: inside a tf.function
    traced with the batch size unknown (the shared contract traces inference mode only). A
    layer that fails in training mode when called directly too is left to the checks that
    compare its outputs."""
    for shape in TRACED_TRAINING:
        what = "BatchNormalization() called with training=True"
        case = f"{what} inside a tf.function traced for inputs of shape {shape}, as model.fit does"
        layer = make_layer(cls, (), {}, forbidden=BATCHNORM)
        traced = {"training": True, "forbidden": UNGUARDED, "case": case}
        try:
            perform(what, "traced_output_shape", layer, shape, **traced)
        except Raised as failure:
            batch = np.linspace(-2.0, 3.0, 2 * int(np.prod(shape[1:]))).astype("float32")
            batch = batch.reshape((2, *shape[1:]))
            eager = make_layer(cls, (), {}, forbidden=BATCHNORM)
            try:
                perform(what, "call_steps", eager, [batch], training=True, forbidden=UNGUARDED)
            except CheckFailed:
                return
            raise Raised(
                failure.headline,
                [
                    *failure.details,
                    "it runs when called directly on a batch of 2: the unknown batch size stops it",
                    PARTIAL_BATCH,
                    UNKNOWN_BATCH,
                ],
                failure.hint,
            ) from None

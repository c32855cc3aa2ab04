"""Checks of lesson 05 (pooling), called from the notebook's test cells: here the layers'
(MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D); the two functions' (pool_output_size,
pool_windows) are in `pool_functions.py` and re-exported.

Each check is declared on the shared harness (`judge.Compare`, `contract.Contract`,
`diagnosis.Diagnosis`); the cases and their tolerances are in `cases.py`, the catalogue that
names a mistake in `mistakes.py`, the guard in `forbidden.py`. A failing check raises
`CheckFailed` with feedback in the lesson's terms; a passing one prints one OK line.
"""

from functools import partial

import numpy as np

from ...compare import compare
from ...contract import (
    Contract,
    build_layer,
    check_config_roundtrip,
    check_output_shape,
    describe_call,
    make_layer,
)
from ...diagnosis import Diagnosis
from ...feedback import CheckFailed, fail, passed
from ...harness import cases as drawn
from ...judge import Compare
from ...student import label, run
from ...training import check_input_gradient, fit_losses, require_learning
from . import cases
from . import mistakes as catalogue
from .cases import reference_outputs  # noqa: F401  (`cnn-course references` reads it here)
from .forbidden import POOLING
from .pool_functions import check_pool_output_size, check_pool_windows  # noqa: F401  (notebook)


def _layer_on_probe(cls, probe):
    kwargs = cases.layer_kwargs(probe["strides"], probe["padding"])
    layer = make_layer(cls, (probe["pool_size"],), kwargs, forbidden=POOLING)
    return run(label(cls), layer, probe["x"], forbidden=POOLING)


def _global_on_probe(cls, probe):
    layer = make_layer(cls, (), {"keepdims": probe["keepdims"]}, forbidden=POOLING)
    return run("GlobalAveragePooling2D", layer, probe["x"], forbidden=POOLING)


LAYER_DIAGNOSIS = {
    mode: Diagnosis(lambda mode=mode: catalogue.layer_probes(mode), variants, _layer_on_probe)
    for mode, variants in (("max", catalogue.MAX_VARIANTS), ("average", catalogue.AVERAGE_VARIANTS))
}
GLOBAL_DIAGNOSIS = Diagnosis(catalogue.global_probes, catalogue.GLOBAL_VARIANTS, _global_on_probe)

# --- MaxPooling2D and AveragePooling2D ---------------------------------------------------------


def _check_output_shapes(call, layer, shapes, expected_of, formula, mistake_of):
    """compute_output_shape equals Keras's on `shapes`; a wrong one names the layer and the
    mistake `mistake_of(shape, expected, found)` finds, if any."""
    for shape in shapes:
        expected = expected_of(shape)
        try:
            check_output_shape(layer, shape, expected, formula, forbidden=POOLING)
        except CheckFailed as failure:
            try:
                found = run(
                    f"{label(layer)}.compute_output_shape",
                    layer.compute_output_shape,
                    tuple(shape),
                    forbidden=POOLING,
                )
                found = tuple(found)
            except (CheckFailed, TypeError):
                found = None
            mistake = mistake_of(shape, expected, found)
            details = [f"layer: {call}", *failure.details]
            details += [mistake.feedback()] if mistake is not None else []
            raise CheckFailed(failure.headline, details, failure.hint) from None


def _setups(mode):
    """The contract's own steps for each set-up: Keras's config, then output shapes."""

    def steps(cls):
        name = "MaxPooling2D" if mode == "max" else "AveragePooling2D"
        for pool_size, kwargs in cases.CONTRACT_SETUPS:
            call = describe_call(name, (pool_size,), kwargs)
            layer = make_layer(cls, (pool_size,), kwargs, forbidden=POOLING)
            theirs = cases.keras_layer(mode, pool_size, **kwargs)
            config = run(f"{call}.get_config()", layer.get_config, forbidden=POOLING)
            keras_config = theirs.get_config()
            for key in cases.CONFIG_KEYS:
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
            _check_output_shapes(
                call,
                layer,
                cases.CONTRACT_SHAPES,
                theirs.compute_output_shape,
                cases.SHAPE_FORMULA,
                partial(catalogue.output_shape_mistake, pool_size, kwargs),
            )
            check_config_roundtrip(layer, cases.CONFIG_KEYS, forbidden=POOLING)

    return steps


_LAYER_CONTRACTS = [
    Contract(
        name,
        name,
        cases.SUPPORTED_ARGUMENTS,
        POOLING,
        formula=cases.SHAPE_FORMULA,
        symbolic=((3,), {"strides": 2, "padding": "same"}, (None, 9, 8, 3)),
        extra=_setups(mode),
        passed=None,
    )
    for name, mode in (("MaxPooling2D", "max"), ("AveragePooling2D", "average"))
]


def check_pooling_contract(MaxPooling2D, AveragePooling2D):
    """Constructors, strides default, output shapes and configs behave like Keras's layers."""
    for contract, cls in zip(_LAYER_CONTRACTS, (MaxPooling2D, AveragePooling2D), strict=True):
        contract(cls)
    passed("MaxPooling2D and AveragePooling2D have Keras's arguments, output shapes and config")


def check_hand_example(MaxPooling2D, AveragePooling2D):
    """The 4x4 example with 2x2 windows, and 'same' padding of a 3x3 image of negative numbers."""
    for mode, kwargs, x, expected, what, disguise in cases.hand_examples():
        cls = MaxPooling2D if mode == "max" else AveragePooling2D
        call = describe_call(label(cls), (2,), kwargs)
        case = f"{call} on {what}{disguise}: {x.tolist()}"
        layer = make_layer(cls, (2,), kwargs, forbidden=POOLING)
        out = run(call, layer, x[None, :, :, None].astype("float32"), forbidden=POOLING, case=case)
        mismatch = compare(out, expected[None, :, :, None], cases.HAND_TOL)
        if mismatch:
            rule = (
                "each output is the largest of its window"
                if mode == "max"
                else "each output is the mean of the real cells of its window"
            )
            fail(
                f"{call} does not reproduce {what}.",
                mismatch.lines,
                case=case,
                mistake=LAYER_DIAGNOSIS[mode](cls),
                hint=f"expected {expected.tolist()}: {rule}",
            )
    passed("both layers reproduce the worked examples, padding included")


def _layer_call(name):
    """Run the student's layer class `name` on a case: construct it, call it on the inputs."""

    def call(cls, case):
        layer = make_layer(cls, case.args, case.layer_kwargs, forbidden=POOLING)
        what = describe_call(name, case.args, case.layer_kwargs)
        return run(what, layer, case.inputs, forbidden=POOLING, case=case.text)

    return call


def _matches_keras(name, mode, tolerance):
    """Outputs equal keras.layers.<name>'s on random (some all-negative) inputs."""
    return Compare(
        name,
        lambda hidden: cases.pooling(mode, hidden),
        tolerance,
        POOLING,
        headline=f"{name} does not match keras.layers.{name}.",
        passed=f"{name} matches keras.layers.{name} on {{count}} cases",
        diagnosis=LAYER_DIAGNOSIS[mode],
        call=_layer_call(name),
    )


check_max_pooling_matches_keras = _matches_keras("MaxPooling2D", "max", cases.MAX_TOL)
check_average_pooling_matches_keras = _matches_keras(
    "AveragePooling2D", "average", cases.AVERAGE_TOL
)


def check_pooling_trains(MaxPooling2D, AveragePooling2D):
    """Input gradients equal Keras's, and a model built on both layers learns."""
    rng = np.random.default_rng(drawn.seed(31))
    x = rng.normal(size=(2, 9, 7, 3)).astype("float32")
    # Max pooling on negative inputs, so that a padded cell filled with 0 always shows.
    setups = (
        (MaxPooling2D, "max", (3,), {"strides": 2, "padding": "same"}, -np.abs(x) - 0.1),
        (AveragePooling2D, "average", ((2, 3),), {"padding": "same"}, x),
    )
    for cls, mode, args, kwargs, inputs in setups:
        call = describe_call(label(cls), args, kwargs)
        theirs = cases.keras_layer(mode, *args, **kwargs)
        expected_out = np.asarray(theirs(inputs))
        weights = rng.normal(size=expected_out.shape).astype("float32")
        ours = make_layer(cls, args, kwargs, forbidden=POOLING)
        case = f"{call} on {'negative ' if mode == 'max' else ''}inputs {x.shape}"
        out = run(call, ours, inputs, forbidden=POOLING, case=case)
        tolerance = cases.MAX_TOL if mode == "max" else cases.AVERAGE_TOL
        mismatch = compare(out, expected_out, tolerance)
        if mismatch:
            mistake = LAYER_DIAGNOSIS[mode](cls)
            fail(f"{call} does not match Keras's.", mismatch.lines, case=case, mistake=mistake)
        rule = (
            "the gradient of a max flows only to the input that won its window"
            if mode == "max"
            else "the gradient of an average is shared equally by the real cells of the window"
        )
        diagnose = lambda cls=cls, mode=mode: LAYER_DIAGNOSIS[mode](cls)  # noqa: E731
        check_input_gradient(
            call,
            ours,
            theirs,
            inputs,
            weights,
            cases.GRADIENT_TOL,
            rule,
            diagnose,
            forbidden=POOLING,
        )

    data = np.random.default_rng(drawn.seed(32))
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


def _keepdims_ignored(keepdims, shape, expected, found):
    import keras

    other = keras.layers.GlobalAveragePooling2D(keepdims=not keepdims).compute_output_shape(shape)
    return catalogue.KEEPDIMS_IGNORED if found == tuple(other) else None


def _global_setups(cls):
    """With and without keepdims: output shapes (keepdims ignored is named), config."""
    import keras

    for keepdims in (False, True):
        kwargs = {"keepdims": keepdims}
        layer = make_layer(cls, (), kwargs, forbidden=POOLING)
        build_layer(layer, (None, 7, 5, 3), forbidden=POOLING)
        _check_output_shapes(
            describe_call("GlobalAveragePooling2D", (), kwargs),
            layer,
            ((2, 7, 5, 3), (None, None, None, 8)),
            keras.layers.GlobalAveragePooling2D(keepdims=keepdims).compute_output_shape,
            "(batch, 1, 1, C)" if keepdims else "(batch, C)",
            partial(_keepdims_ignored, keepdims),
        )
        check_config_roundtrip(layer, ("data_format", "keepdims"), forbidden=POOLING)


check_global_average_pooling_contract = Contract(
    "GlobalAveragePooling2D",
    "GlobalAveragePooling2D",
    ("data_format", "keepdims"),
    POOLING,
    formula="(batch, C)",
    symbolic=((), {}, (None, 9, 8, 3)),
    extra=_global_setups,
    passed="GlobalAveragePooling2D has Keras's arguments, output shapes and config",
)

_global_matches_keras = Compare(
    "GlobalAveragePooling2D",
    cases.global_pooling,
    cases.GLOBAL_TOL,
    POOLING,
    headline="GlobalAveragePooling2D does not match keras.layers.GlobalAveragePooling2D.",
    passed="GlobalAveragePooling2D matches keras.layers.GlobalAveragePooling2D on {count} cases",
    diagnosis=GLOBAL_DIAGNOSIS,
    call=_layer_call("GlobalAveragePooling2D"),
)


def check_global_average_pooling_matches_keras(GlobalAveragePooling2D, hidden=False):
    """Outputs equal keras.layers.GlobalAveragePooling2D's, with and without keepdims."""
    import keras

    check, table = _global_matches_keras, cases.global_pooling(hidden)
    for case in table:
        check.judge(GlobalAveragePooling2D, case, check.run(GlobalAveragePooling2D, case))
    x = np.random.default_rng(drawn.seed(41)).normal(size=(2, 5, 6, 3)).astype("float32")
    weights = np.random.default_rng(drawn.seed(42)).normal(size=(2, 3)).astype("float32")
    check_input_gradient(
        "GlobalAveragePooling2D()",
        make_layer(GlobalAveragePooling2D, forbidden=POOLING),
        keras.layers.GlobalAveragePooling2D(),
        x,
        weights,
        cases.GRADIENT_TOL,
        "each input cell receives its channel's output gradient divided by H * W",
        lambda: GLOBAL_DIAGNOSIS(GlobalAveragePooling2D),
        forbidden=POOLING,
    )
    passed(check.passed.format(count=len(table)))

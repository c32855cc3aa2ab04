"""Checks of lesson 05 (pooling), declared on the shared harness; the cases are in `cases.py`,
the catalogue of mistakes in `mistakes.py`. A built-in pooling op is refused in every check.
"""

from dataclasses import replace
from functools import partial

import numpy as np

from ...builtin_ops import POOLING_OPS
from ...compare import compare, to_numpy
from ...contract import (
    Contract,
    build_layer,
    check_config_roundtrip,
    check_output_shape,
    describe_call,
    make_layer,
)
from ...diagnosis import Diagnosis, calls_table
from ...feedback import CheckFailed, fail, passed
from ...guard import ForbiddenOps
from ...harness import cases as drawn
from ...judge import NOT_INTS, Compare, integer
from ...student import label, run
from ...training import check_input_gradient, require_trains
from . import cases
from . import mistakes as catalogue
from .cases import reference_outputs  # noqa: F401  (`cnn-course references` reads it here)

POOLING = ForbiddenOps(
    "a built-in pooling op",
    POOLING_OPS,
    "this lesson asks you to compute it yourself from slices, ops.pad, ops.stack and "
    "reductions such as ops.max, ops.sum and ops.mean",
)


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


def _windows_on_probe(fn, p):
    args = (p["pool_size"], p["strides"], p["padding"], p["pad_value"])
    return run("pool_windows", fn, p["x"].copy(), *args, forbidden=POOLING)


def _layer_on_probe(cls, probe):
    kwargs = cases.layer_kwargs(probe["strides"], probe["padding"])
    layer = make_layer(cls, (probe["pool_size"],), kwargs, forbidden=POOLING)
    return run(label(cls), layer, probe["x"], forbidden=POOLING)


def _global_on_probe(cls, probe):
    layer = make_layer(cls, (), {"keepdims": probe["keepdims"]}, forbidden=POOLING)
    return run("GlobalAveragePooling2D", layer, probe["x"], forbidden=POOLING)


OUTPUT_SIZE_DIAGNOSIS = Diagnosis(
    catalogue.output_size_probes,
    catalogue.OUTPUT_SIZE_VARIANTS,
    calls_table("pool_output_size", _as_int, POOLING, calls=lambda probe: probe["cases"]),
)
WINDOWS_DIAGNOSIS = Diagnosis(
    catalogue.windows_probes, catalogue.WINDOWS_VARIANTS, _windows_on_probe
)
LAYER_DIAGNOSIS = {
    mode: Diagnosis(lambda mode=mode: catalogue.layer_probes(mode), variants, _layer_on_probe)
    for mode, variants in (("max", catalogue.MAX_VARIANTS), ("average", catalogue.AVERAGE_VARIANTS))
}
GLOBAL_DIAGNOSIS = Diagnosis(catalogue.global_probes, catalogue.GLOBAL_VARIANTS, _global_on_probe)

# --- pool_output_size and pool_windows ------------------------------------------------------


def check_pool_output_size(pool_output_size, hidden=False):
    """The number of windows along an axis equals Keras's, for 'valid' and 'same'."""
    table = cases.output_sizes(hidden)
    wrong = []
    for n, k, s, padding in table:
        call = f"pool_output_size({n}, {k}, {s}, {padding!r})"
        got = run(
            "pool_output_size", pool_output_size, n, k, s, padding, forbidden=POOLING, case=call
        )
        expected = cases.keras_output_size(n, k, s, padding)
        if integer(got) != expected:
            wrong.append((call, got, expected, cases.output_size_formula(n, k, s, padding)))
    if wrong:
        call, got, expected, formula = wrong[0]
        lines = [
            f"{len(wrong)} of {len(table)} cases are wrong; first: {call} returned {got!r}, "
            f"expected {expected}",
            f"formula {formula} = {expected}",
            *([NOT_INTS] if all(_as_int(got) == expected for _, got, expected, _ in wrong) else []),
        ]
        mistake = OUTPUT_SIZE_DIAGNOSIS(pool_output_size)
        fail("pool_output_size counts the windows wrongly.", lines, mistake=mistake)
    passed(f"pool_output_size matches Keras on {len(table)} cases")


class _AnyOrderWithinWindow(Compare):
    """Windows compared as they are, or, if the values differ, with each window sorted."""

    def judge(self, student, case, output) -> None:
        mismatch = compare(output, case.expected, self.tolerance)
        if mismatch and mismatch.kind != "shape":
            output = catalogue.sorted_windows(output)
            case = replace(case, expected=catalogue.sorted_windows(case.expected))
        super().judge(student, case, output)


check_pool_windows = _AnyOrderWithinWindow(
    "pool_windows",
    cases.windows,
    cases.WINDOWS_TOL,
    POOLING,
    headline="pool_windows gives the wrong windows.",
    passed="pool_windows matches the reference on {count} cases",
    diagnosis=WINDOWS_DIAGNOSIS,
    axes="nhwec",  # (batch, out_h, out_w, window entry, channel): one map per entry
)


# --- MaxPooling2D and AveragePooling2D ---------------------------------------------------------


def _check_output_shapes(call, layer, shapes, expected_of, formula, mistake_of):
    """compute_output_shape equals Keras's on `shapes`; a wrong one names the layer and the
    mistake `mistake_of(shape, expected, found)` finds, if any."""
    for shape in shapes:
        expected = expected_of(shape)
        try:
            check_output_shape(layer, shape, expected, formula, forbidden=POOLING)
        except CheckFailed as failure:
            what = f"{label(layer)}.compute_output_shape"
            try:
                found = tuple(
                    run(what, layer.compute_output_shape, tuple(shape), forbidden=POOLING)
                )
            except (CheckFailed, TypeError):
                found = None
            mistake = mistake_of(shape, expected, found)
            details = [
                f"layer: {call}",
                *failure.details,
                *([mistake.feedback()] if mistake else []),
            ]
            raise CheckFailed(
                failure.headline, details, failure.hint, mistake=mistake, folds=failure.folds
            ) from None


def _setups(name, mode):
    """The contract's own steps for each set-up: Keras's config, then output shapes."""

    def steps(cls):
        for pool_size, kwargs in cases.CONTRACT_SETUPS:
            call = describe_call(name, (pool_size,), kwargs)
            layer = make_layer(cls, (pool_size,), kwargs, forbidden=POOLING)
            theirs = cases.keras_layer(mode, pool_size, **kwargs)
            config = run(f"{call}.get_config()", layer.get_config, forbidden=POOLING)
            for key in cases.CONFIG_KEYS:
                ours, keras_value = config.get(key), theirs.get_config()[key]
                if (tuple(ours) if isinstance(ours, list) else ours) != keras_value:
                    details = [f"yours: {key}={ours!r}; Keras: {key}={keras_value!r}"]
                    mistake = None
                    if key == "strides" and "strides" not in kwargs and ours in ((1, 1), [1, 1]):
                        mistake = catalogue.STRIDES_DEFAULT_ONE
                        details.append(mistake.feedback())
                    raise CheckFailed(
                        f"{call}.get_config() differs from keras.layers.{call}'s.",
                        details,
                        "store every constructor argument as Keras does (pairs as tuples)",
                        mistake=mistake,
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
        resized=((3,), {"strides": 2, "padding": "same"}, ((2, 6, 6, 3), (1, 5, 7, 3))),
        extra=_setups(name, mode),
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
                mismatch,
                case=case,
                mistake=LAYER_DIAGNOSIS[mode](cls),
                hint=f"expected {expected.tolist()}: {rule}",
            )
    passed("both layers reproduce the worked examples, padding included")


def _matches_keras(name, table, tolerance, diagnosis):
    """Outputs equal keras.layers.<name>'s: the student's class built with each case's arguments."""

    def call(cls, case):
        layer = make_layer(cls, case.args, case.layer_kwargs, forbidden=POOLING)
        what = describe_call(name, case.args, case.layer_kwargs)
        return run(what, layer, case.inputs, forbidden=POOLING, case=case.text)

    return Compare(
        name,
        table,
        tolerance,
        POOLING,
        headline=f"{name} does not match keras.layers.{name}.",
        passed=f"{name} matches keras.layers.{name} on {{count}} cases",
        diagnosis=diagnosis,
        call=call,
        same_dtype=True,
    )


# On random inputs, some all negative.
check_max_pooling_matches_keras = _matches_keras(
    "MaxPooling2D", partial(cases.pooling, "max"), cases.MAX_TOL, LAYER_DIAGNOSIS["max"]
)
check_average_pooling_matches_keras = _matches_keras(
    "AveragePooling2D",
    partial(cases.pooling, "average"),
    cases.AVERAGE_TOL,
    LAYER_DIAGNOSIS["average"],
)


def check_pooling_trains(MaxPooling2D, AveragePooling2D):
    """Input gradients equal Keras's, and a model built on both layers learns."""
    rng = np.random.default_rng(drawn.seed(31))
    x = rng.normal(size=(2, 9, 7, 3)).astype("float32")
    # Max pooling on negative inputs, so that a padded cell filled with 0 always shows.
    for cls, mode, args, kwargs in (
        (MaxPooling2D, "max", (3,), {"strides": 2, "padding": "same"}),
        (AveragePooling2D, "average", ((2, 3),), {"padding": "same"}),
    ):
        negative = "negative " if mode == "max" else ""
        inputs = -np.abs(x) - 0.1 if negative else x
        call = describe_call(label(cls), args, kwargs)
        diagnose = partial(LAYER_DIAGNOSIS[mode], cls)
        theirs = cases.keras_layer(mode, *args, **kwargs)
        expected_out = np.asarray(theirs(inputs))
        weights = rng.normal(size=expected_out.shape).astype("float32")
        ours = make_layer(cls, args, kwargs, forbidden=POOLING)
        case = f"{call} on {negative}inputs {x.shape}"
        out = run(call, ours, inputs, forbidden=POOLING, case=case)
        mismatch = compare(out, expected_out, cases.MAX_TOL if negative else cases.AVERAGE_TOL)
        if mismatch:
            fail(f"{call} does not match Keras's.", mismatch, case=case, mistake=diagnose())
        rule = (
            "the gradient of a max flows only to the input that won its window"
            if negative
            else "the gradient of an average is shared equally by the real cells of the window"
        )
        tolerance = cases.GRADIENT_TOL
        check_input_gradient(
            call, ours, theirs, inputs, weights, tolerance, rule, diagnose, forbidden=POOLING
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
    require_trains(
        "keras.Model.fit with your pooling layers",
        spec,
        (None, 12, 12, 1),
        inputs,
        labels.astype("float32"),
        epochs=15,
        batch_size=16,
        forbidden=POOLING,
        headline="A small model built on your pooling layers does not learn.",
        name="pooling",
    )


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
    traced=(((), {"keepdims": True}, (None, 9, 8, 3)),),
    resized=((), {}, ((2, 6, 6, 3), (1, 4, 9, 3))),
    extra=_global_setups,
    passed="GlobalAveragePooling2D has Keras's arguments, output shapes and config",
)

_global_matches_keras = _matches_keras(
    "GlobalAveragePooling2D", cases.global_pooling, cases.GLOBAL_TOL, GLOBAL_DIAGNOSIS
)


def check_global_average_pooling_matches_keras(GlobalAveragePooling2D, hidden=False):
    """Outputs equal keras.layers.GlobalAveragePooling2D's, with and without keepdims."""
    import keras

    check, table = _global_matches_keras, cases.global_pooling(hidden)
    for case in table:
        check.judge(GlobalAveragePooling2D, case, check.run(GlobalAveragePooling2D, case))
    x, weights = drawn.normal((2, 5, 6, 3), 41), drawn.normal((2, 3), 42)
    check_input_gradient(
        "GlobalAveragePooling2D()",
        make_layer(GlobalAveragePooling2D, forbidden=POOLING),
        keras.layers.GlobalAveragePooling2D(),
        x,
        weights,
        cases.GRADIENT_TOL,
        "each input cell receives its channel's output gradient divided by H * W",
        partial(GLOBAL_DIAGNOSIS, GlobalAveragePooling2D),
        forbidden=POOLING,
    )
    passed(check.passed.format(count=len(table)))

"""Checks of lesson 10 (convolution variants), called from the notebook's test cells.

Each check is declared on the shared harness (`judge.returns`/`Compare`, `twin.matches_keras`,
`contract.Contract`); the cases, their tolerances and how fresh ones are drawn are in
`cases.py`, the catalogue that names a mistake and the NumPy oracles in `mistakes.py`. The
adjoint identity of the transposed convolution is a hand-written judge on the same pieces.

Built-in convolutions of every kind (standard, depthwise, separable, transposed) and patch
extraction are refused inside the student's code; padding is allowed (lesson 04's `im2col`
and the given `spread` build on it).
"""

from fractions import Fraction

import numpy as np

from ...builtin_ops import CONVOLUTION_OPS
from ...compare import compare, to_numpy
from ...contract import (
    Build,
    Contract,
    WeightArguments,
    build_layer,
    expect_weights,
    make_layer,
)
from ...diagnosis import Diagnosis, calls_table
from ...feedback import fail, passed
from ...guard import ForbiddenOps
from ...judge import Compare, returns, whole_number
from ...student import label, perform, run
from ...twin import Twin, matches_keras
from . import cases
from . import mistakes as catalogue
from .cases import reference_outputs  # noqa: F401  (`cnn-course references` reads it here)

FORBIDDEN = ForbiddenOps(
    "a built-in convolution (standard, depthwise, separable or transposed) or patch extraction",
    CONVOLUTION_OPS,
    "build the windows with the given im2col and combine them with ops.einsum or ops.matmul",
)

DEPTHWISE = Twin(
    "DepthwiseConv2D",
    how={"kernel": "(kh, kw, input channels, depth_multiplier)", "bias": "(C * depth_multiplier,)"},
)
SEPARABLE = Twin(
    "SeparableConv2D",
    how={
        "depthwise_kernel": "(kh, kw, input channels, depth_multiplier)",
        "pointwise_kernel": "(1, 1, C * depth_multiplier, filters)",
        "bias": "(filters,)",
    },
)
TRANSPOSE = Twin(
    "Conv2DTranspose", how={"kernel": "(kh, kw, filters, input channels)", "bias": "(filters,)"}
)


# --- diagnoses -------------------------------------------------------------------------------


def _depthwise_probe(fn, p):
    args = (p[key] for key in cases.DEPTHWISE_ARGUMENTS)
    return run("depthwise_conv", fn, *args, forbidden=FORBIDDEN)


def _depthwise_layer_probe(cls, p):
    kwargs = {"strides": p["strides"], "padding": p["padding"], "depth_multiplier": 2}
    values = {"kernel": p["kernel"], "bias": p["bias"]}
    size = p["kernel"].shape[:2]
    return DEPTHWISE.output(cls, (size,), kwargs, p["x"], values, forbidden=FORBIDDEN)


def _separable_probe(cls, p):
    kwargs = {"strides": p["strides"], "padding": p["padding"], "depth_multiplier": 2}
    values = {
        "depthwise_kernel": p["kernel"],
        "pointwise_kernel": p["pointwise_kernel"],
        "bias": p["bias"],
    }
    args = (p["filters"], p["kernel"].shape[:2])
    return SEPARABLE.output(cls, args, kwargs, p["x"], values, forbidden=FORBIDDEN)


def _transpose_probe(fn, p):
    args = (p["x"], p["kernel"], p["output_size"], p["strides"], p["padding"])
    return run("conv_transpose", fn, *args, forbidden=FORBIDDEN)


def _transpose_layer_probe(cls, p):
    kwargs = {"strides": p["strides"], "padding": p["padding"]}
    values = {"kernel": p["kernel"], "bias": p["bias"]}
    args = (p["kernel"].shape[2], p["kernel"].shape[:2])
    return TRANSPOSE.output(cls, args, kwargs, p["x"], values, forbidden=FORBIDDEN)


DEPTHWISE_DIAGNOSIS = Diagnosis(
    catalogue.depthwise_probes, catalogue.DEPTHWISE_VARIANTS, _depthwise_probe
)
DEPTHWISE_LAYER_DIAGNOSIS = Diagnosis(
    catalogue.depthwise_layer_probes, catalogue.DEPTHWISE_LAYER_VARIANTS, _depthwise_layer_probe
)
SEPARABLE_DIAGNOSIS = Diagnosis(
    catalogue.separable_probes, catalogue.SEPARABLE_VARIANTS, _separable_probe
)
SIZE_DIAGNOSIS = Diagnosis(
    catalogue.transpose_size_probes,
    catalogue.TRANSPOSE_SIZE_VARIANTS,
    calls_table("transpose_output_size", whole_number, FORBIDDEN),
)
TRANSPOSE_DIAGNOSIS = Diagnosis(
    catalogue.transpose_probes, catalogue.TRANSPOSE_VARIANTS, _transpose_probe
)
TRANSPOSE_LAYER_DIAGNOSIS = Diagnosis(
    catalogue.transpose_probes, catalogue.TRANSPOSE_LAYER_VARIANTS, _transpose_layer_probe
)

# --- the constructor's weight arguments -----------------------------------------------------


def weight_arguments(args, input_shape, weights: dict[str, tuple[str, tuple]], how: dict):
    """A Contract `extra` step: `cls(*args)` given, for weight number i (of `weights`, {weight
    name: (its arguments' prefix, shape)}), <prefix>_initializer=Constant(i + 1),
    <prefix>_regularizer=L2(0.5) and <prefix>_constraint='non_neg', built for `input_shape`,
    creates each weight with them. Keras names these arguments after the step
    (depthwise_initializer for the weight `kernel`), so `contract.WeightArguments`, which
    names them after the weight, does not apply."""

    def step(cls):
        import keras

        kwargs, text = {}, [repr(a) for a in args]
        for number, (prefix, _) in enumerate(weights.values(), 1):
            kwargs[f"{prefix}_initializer"] = keras.initializers.Constant(float(number))
            kwargs[f"{prefix}_regularizer"] = keras.regularizers.L2(0.5)
            kwargs[f"{prefix}_constraint"] = "non_neg"
            text += [
                f"{prefix}_initializer=Constant({number})",
                f"{prefix}_regularizer=L2(0.5)",
                f"{prefix}_constraint='non_neg'",
            ]
        layer = make_layer(cls, args, kwargs, forbidden=FORBIDDEN)
        build_layer(layer, (None, *input_shape[1:]), forbidden=FORBIDDEN)
        shapes = {name: shape for name, (_, shape) in weights.items()}
        expect_weights(layer, shapes, how=how, forbidden=FORBIDDEN, non_trainable=None)
        name = label(layer)
        values = perform(f"{name}.weights", "weight_values", layer, forbidden=FORBIDDEN)
        constraints = perform(f"{name}.weights", "weight_constraints", layer, forbidden=FORBIDDEN)
        losses = perform(f"{name}.losses", "value", layer.losses, forbidden=FORBIDDEN)
        problems = []
        for number, (key, (prefix, _)) in enumerate(weights.items(), 1):
            if not np.allclose(values[key], number):
                problems.append(
                    f"{prefix}_initializer is ignored: {key} does not start at {number}"
                )
            if constraints[key] is None:
                problems.append(f"{prefix}_constraint is ignored: {key} has no constraint")
        if len(losses) != len(weights):
            problems.append(
                f"the {len(weights)} regularizers should add {len(weights)} losses; the layer "
                f"has {len(losses)}"
            )
        if problems:
            fail(
                f"{name} does not create its weights with the arguments it was given.",
                problems,
                case=f"{name}({', '.join(text)}) built for inputs {tuple(input_shape)}",
                hint="pass initializer=, regularizer= and constraint= (the layer's own, for "
                "each weight) to self.add_weight",
            )

    return step


# --- what a convolution costs ----------------------------------------------------------------


def _count(what, table, formula):
    return returns(
        what,
        table,
        FORBIDDEN,
        f"{what} gives the right count on {{count}} cases",
        agrees=lambda got, expected: whole_number(got) == expected,
        explain=(f"formula: {formula}",),
    )


check_conv_parameters = _count(
    "conv_parameters", cases.conv_parameters, "kh * kw * in_channels * filters (+ filters)"
)
check_separable_parameters = _count(
    "separable_parameters",
    cases.separable_parameters,
    "kh * kw * C * M (depthwise) + C * M * filters (pointwise) (+ filters), M the multiplier",
)
check_conv_multiplications = _count(
    "conv_multiplications",
    cases.conv_multiplications,
    "oh * ow positions, each output channel a sum of kh * kw * in_channels products",
)
check_separable_multiplications = _count(
    "separable_multiplications",
    cases.separable_multiplications,
    "oh * ow * (kh * kw * C * M + C * M * filters), M the multiplier",
)
check_spatial_multiplications = _count(
    "spatial_multiplications",
    cases.spatial_multiplications,
    "oh * ow * kh * kw; separable: oh * ow * (kh + kw), a column pass then a row pass",
)


def _same_ratio(got, expected: Fraction) -> bool:
    return abs(float(np.asarray(got, float).reshape(())) - float(expected)) <= 1e-9


check_cost_ratio = returns(
    "cost_ratio",
    cases.cost_ratio,
    FORBIDDEN,
    "cost_ratio gives 1/N + 1/K^2 (times the multiplier) on {count} cases",
    headline="{call} returned {got!r}; expected {expected} = " + "{expected.numerator} / "
    "{expected.denominator}.",
    agrees=_same_ratio,
    explain=(
        "ratio = separable multiplications / standard multiplications = M / filters + "
        "M / (kh * kw): the positions cancel",
    ),
)

# --- transpose_output_size -------------------------------------------------------------------

check_transpose_output_size = returns(
    "transpose_output_size",
    cases.transpose_output_size,
    FORBIDDEN,
    "transpose_output_size gives Keras's size on {count} cases",
    diagnosis=SIZE_DIAGNOSIS,
    agrees=lambda got, size: whole_number(got) == size and (got is None) == (size is None),
    explain=(
        "without output_padding: n * s for 'same', n * s + max(k - s, 0) for 'valid'",
        "with output_padding p: (n - 1) * s + k - 2 * pad + p, pad = k // 2 for 'same', 0 for "
        "'valid'; an unknown n (None) stays unknown",
    ),
)

# --- depthwise_conv and the layers -----------------------------------------------------------

check_depthwise_conv = Compare(
    "depthwise_conv",
    cases.depthwise_conv,
    cases.DEPTHWISE_TOL,
    FORBIDDEN,
    headline="depthwise_conv gives the wrong output.",
    passed="depthwise_conv matches the reference on {count} cases",
    diagnosis=DEPTHWISE_DIAGNOSIS,
)

_CONV_SIZE = "floor((n + p - d(k - 1) - 1) / s) + 1, ceil(n / s) for 'same'"
_DEPTHWISE_ARGUMENTS = tuple(
    "kernel_size strides padding depth_multiplier data_format dilation_rate activation use_bias "
    "depthwise_initializer bias_initializer".split()
)

check_depthwise_contract = Contract(
    "DepthwiseConv2D",
    "DepthwiseConv2D",
    _DEPTHWISE_ARGUMENTS,
    FORBIDDEN,
    builds=(
        Build(
            ((3, 2),), {"depth_multiplier": 2}, (2, 8, 7, 3), {"kernel": (3, 2, 3, 2), "bias": (6,)}
        ),
        Build((3,), {"use_bias": False}, (2, 8, 7, 4), {"kernel": (3, 3, 4, 1)}),
    ),
    how=DEPTHWISE.how,
    output_shapes=tuple(
        ((size,), kwargs, ((2, 8, 7, 3), (None, None, 7, 3)))
        for size, kwargs in (
            (3, {"strides": 2, "depth_multiplier": 2}),
            ((3, 2), {"strides": (2, 3), "padding": "same"}),
            (3, {"dilation_rate": 2, "depth_multiplier": 3}),
        )
    ),
    formula=f"(batch, out_h, out_w, C * depth_multiplier), each size {_CONV_SIZE}",
    config=(
        (3,),
        {"strides": (2, 1), "padding": "same", "depth_multiplier": 2},
        ("kernel_size", "strides", "padding", "depth_multiplier", "dilation_rate"),
    ),
    symbolic=((3,), {"depth_multiplier": 2, "padding": "same"}, (None, 8, 7, 3)),
    extra=weight_arguments(
        (3,),
        (2, 6, 6, 2),
        {"kernel": ("depthwise", (3, 3, 2, 1)), "bias": ("bias", (2,))},
        DEPTHWISE.how,
    ),
    passed="DepthwiseConv2D has Keras's arguments, weights, output shapes and config",
    describe_layer=True,
)
check_depthwise_matches_keras = matches_keras(
    "DepthwiseConv2D",
    DEPTHWISE,
    cases.depthwise_layer,
    cases.LAYER_TOL,
    FORBIDDEN,
    DEPTHWISE_LAYER_DIAGNOSIS,
)

check_separable_contract = Contract(
    "SeparableConv2D",
    "SeparableConv2D",
    (
        "filters",
        *_DEPTHWISE_ARGUMENTS[:3],
        "data_format",
        "dilation_rate",
        "depth_multiplier",
        "activation",
        "use_bias",
        "depthwise_initializer",
        "pointwise_initializer",
        "bias_initializer",
    ),
    FORBIDDEN,
    builds=(
        Build(
            (5, (3, 2)),
            {"depth_multiplier": 2},
            (2, 8, 7, 3),
            {"depthwise_kernel": (3, 2, 3, 2), "pointwise_kernel": (1, 1, 6, 5), "bias": (5,)},
        ),
        Build(
            (4, 3),
            {"use_bias": False},
            (2, 8, 7, 2),
            {"depthwise_kernel": (3, 3, 2, 1), "pointwise_kernel": (1, 1, 2, 4)},
        ),
    ),
    how=SEPARABLE.how,
    output_shapes=tuple(
        ((5, size), kwargs, ((2, 8, 7, 3), (None, None, 7, 3)))
        for size, kwargs in (
            (3, {"strides": 2, "depth_multiplier": 2}),
            ((3, 2), {"strides": (2, 3), "padding": "same"}),
            (3, {"dilation_rate": 2}),
        )
    ),
    formula=f"(batch, out_h, out_w, filters), each size {_CONV_SIZE}",
    config=(
        (5, 3),
        {"strides": 2, "padding": "same", "depth_multiplier": 2},
        ("filters", "kernel_size", "strides", "padding", "depth_multiplier"),
    ),
    symbolic=((6, 3), {"depth_multiplier": 2, "padding": "same"}, (None, 8, 7, 3)),
    extra=weight_arguments(
        (4, 3),
        (2, 6, 6, 2),
        {
            "depthwise_kernel": ("depthwise", (3, 3, 2, 1)),
            "pointwise_kernel": ("pointwise", (1, 1, 2, 4)),
            "bias": ("bias", (4,)),
        },
        SEPARABLE.how,
    ),
    passed="SeparableConv2D has Keras's arguments, weights, output shapes and config",
    describe_layer=True,
)
check_separable_matches_keras = matches_keras(
    "SeparableConv2D",
    SEPARABLE,
    cases.separable_layer,
    cases.LAYER_TOL,
    FORBIDDEN,
    SEPARABLE_DIAGNOSIS,
)
check_pointwise_is_dense = matches_keras(
    "SeparableConv2D",
    SEPARABLE,
    cases.pointwise,
    cases.LAYER_TOL,
    FORBIDDEN,
    SEPARABLE_DIAGNOSIS,
    headline="SeparableConv2D(units, 1) with a depthwise kernel of ones is not a Dense layer "
    "applied at every pixel.",
    passed="a 1x1 SeparableConv2D equals Dense at every pixel on {count} cases",
)

# --- the transposed convolution --------------------------------------------------------------

check_conv_transpose = Compare(
    "conv_transpose",
    cases.conv_transpose,
    cases.TRANSPOSE_TOL,
    FORBIDDEN,
    headline="conv_transpose gives the wrong output.",
    passed="conv_transpose matches the reference on {count} cases",
    diagnosis=TRANSPOSE_DIAGNOSIS,
)


def check_conv_transpose_adjoint(conv_transpose, hidden=False):
    """<conv(y), x> = <y, conv_transpose(x)> for random x and y: the transposed convolution is
    the adjoint of the convolution with the same kernel, strides and padding."""
    count = 0
    for x, kernel, sizes, strides, padding, y, expected, text in cases.adjoint(hidden):
        output = run(
            "conv_transpose",
            conv_transpose,
            x,
            kernel,
            sizes,
            strides,
            padding,
            case=text,
            forbidden=FORBIDDEN,
        )
        output = to_numpy(output)
        if output.shape != y.shape:
            fail(
                "conv_transpose gives the wrong shape.",
                [f"output has shape {output.shape}; expected {y.shape}"],
                case=text,
                hint="shape = (batch, *output_size, filters)",
            )
        inner = float(np.sum(y.astype(float) * output.astype(float)))
        mismatch = compare(inner, expected, cases.ADJOINT_TOL, "<y, conv_transpose(x)>")
        if mismatch:
            fail(
                "conv_transpose is not the adjoint of the convolution.",
                [
                    "<conv(y), x> should equal <y, conv_transpose(x)>, conv being the "
                    "convolution with the same kernel, strides and padding",
                    *mismatch.lines,
                ],
                case=text,
                mistake=TRANSPOSE_DIAGNOSIS(conv_transpose),
            )
        count += 1
    passed(f"<conv(y), x> = <y, conv_transpose(x)> on {count} cases")


check_conv_transpose_contract = Contract(
    "Conv2DTranspose",
    "Conv2DTranspose",
    tuple(
        "filters kernel_size strides padding output_padding data_format dilation_rate "
        "activation use_bias kernel_initializer bias_initializer".split()
    ),
    FORBIDDEN,
    builds=(
        Build((4, (3, 2)), {"strides": 2}, (2, 5, 4, 3), {"kernel": (3, 2, 4, 3), "bias": (4,)}),
        Build((2, 3), {"use_bias": False}, (2, 5, 4, 1), {"kernel": (3, 3, 2, 1)}),
    ),
    how=TRANSPOSE.how,
    output_shapes=tuple(
        ((4, size), kwargs, ((2, 5, 4, 3), (None, None, 4, 3)))
        for size, kwargs in (
            (3, {"strides": 2}),
            (3, {"strides": 2, "padding": "same"}),
            ((2, 4), {"strides": (2, 3), "padding": "same"}),
            (3, {"strides": 2, "output_padding": 1}),
            (3, {"strides": (3, 2), "padding": "same", "output_padding": (1, 0)}),
        )
    ),
    formula="(batch, out_h, out_w, filters): n * s for 'same', n * s + max(k - s, 0) for "
    "'valid'; with output_padding p, (n - 1) * s + k - 2 * pad + p",
    config=(
        (4, 3),
        {"strides": 2, "padding": "same", "output_padding": 1},
        ("filters", "kernel_size", "strides", "padding", "output_padding"),
    ),
    symbolic=((4, 3), {"strides": 2, "padding": "same"}, (None, 5, 4, 3)),
    weight_arguments=WeightArguments(
        (2, 3), (2, 4, 4, 3), {"kernel": (3, 3, 2, 3), "bias": (2,)}, {"strides": 2}
    ),
    passed="Conv2DTranspose has Keras's arguments, weights, output shapes and config",
    describe_layer=True,
)
check_conv_transpose_matches_keras = matches_keras(
    "Conv2DTranspose",
    TRANSPOSE,
    cases.transpose_layer,
    cases.LAYER_TOL,
    FORBIDDEN,
    TRANSPOSE_LAYER_DIAGNOSIS,
)

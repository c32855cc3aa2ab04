"""Lesson 10's checks of the transposed convolution: Keras's output size, the function against
stored and fresh cases, the adjoint identity (a hand-written judge on the harness's pieces),
and the layer's contract and outputs against Keras's Conv2DTranspose.
"""

import numpy as np

from ...compare import compare, to_numpy
from ...contract import Build, Contract, WeightArguments
from ...diagnosis import Diagnosis, calls_table
from ...feedback import fail, passed
from ...judge import Compare, integer, returns, whole_number
from ...student import run
from ...twin import Twin, matches_keras
from . import cases
from . import mistakes as catalogue
from .forbidden import FORBIDDEN
from .layer_cases import LAYER_TOL, transpose_layer

TRANSPOSE = Twin(
    "Conv2DTranspose", how={"kernel": "(kh, kw, filters, input channels)", "bias": "(filters,)"}
)


def _transpose_probe(fn, p):
    args = (p["x"], p["kernel"], p["output_size"], p["strides"], p["padding"])
    return run("conv_transpose", fn, *args, forbidden=FORBIDDEN)


def _transpose_layer_probe(cls, p):
    kwargs = {"strides": p["strides"], "padding": p["padding"]}
    values = {"kernel": p["kernel"], "bias": p["bias"]}
    args = (p["kernel"].shape[2], p["kernel"].shape[:2])
    return TRANSPOSE.output(cls, args, kwargs, p["x"], values, forbidden=FORBIDDEN)


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

check_transpose_output_size = returns(
    "transpose_output_size",
    cases.transpose_output_size,
    FORBIDDEN,
    "transpose_output_size gives Keras's size on {count} cases",
    diagnosis=SIZE_DIAGNOSIS,
    agrees=lambda got, size: integer(got) == size and (got is None) == (size is None),
    loosely=whole_number,
    explain=(
        "without output_padding: n * s for 'same', n * s + max(k - s, 0) for 'valid'",
        "with output_padding p: (n - 1) * s + k - 2 * pad + p, pad = k // 2 for 'same', 0 for "
        "'valid'; an unknown n (None) stays unknown",
    ),
)

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
    resized=((4, 3), {"strides": 2, "padding": "valid"}, ((2, 5, 4, 3), (1, 3, 7, 3))),
    weight_arguments=WeightArguments(
        (2, 3), (2, 4, 4, 3), {"kernel": (3, 3, 2, 3), "bias": (2,)}, {"strides": 2}
    ),
    passed="Conv2DTranspose has Keras's arguments, weights, output shapes and config",
    describe_layer=True,
)
check_conv_transpose_matches_keras = matches_keras(
    "Conv2DTranspose",
    TRANSPOSE,
    transpose_layer,
    LAYER_TOL,
    FORBIDDEN,
    TRANSPOSE_LAYER_DIAGNOSIS,
    same_dtype=True,
)

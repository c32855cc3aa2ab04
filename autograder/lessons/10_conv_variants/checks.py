"""Checks of lesson 10 (convolution variants), called from the notebook's test cells.

Each check is declared on the shared harness (`judge.returns`/`Compare`, `twin.matches_keras`,
`contract.Contract`). This module holds the depthwise and separable convolutions' checks; the
costs' are in `cost_checks.py`, the transposed convolution's in `transposed_checks.py`, and all
are read here. The cases, their tolerances and how fresh ones are drawn are in `cases.py`,
`cost_cases.py` and `layer_cases.py`, the catalogue that names a mistake and the NumPy oracles
in `mistakes.py`, what the student's code may not call in `forbidden.py`.
"""

from ...contract import Build, Contract, WeightArguments
from ...diagnosis import Diagnosis
from ...judge import Compare
from ...student import run
from ...twin import Twin, matches_keras
from . import cases
from . import mistakes as catalogue
from .cases import reference_outputs  # noqa: F401  (`cnn-course references` reads it here)
from .cost_checks import (  # noqa: F401  (the notebook's test cells call them here)
    check_conv_multiplications,
    check_conv_parameters,
    check_cost_ratio,
    check_separable_multiplications,
    check_separable_parameters,
    check_spatial_multiplications,
)
from .forbidden import FORBIDDEN
from .layer_cases import LAYER_TOL, depthwise_layer, pointwise, separable_layer
from .transposed_checks import (  # noqa: F401  (the notebook's test cells call them here)
    check_conv_transpose,
    check_conv_transpose_adjoint,
    check_conv_transpose_contract,
    check_conv_transpose_matches_keras,
    check_transpose_output_size,
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


DEPTHWISE_DIAGNOSIS = Diagnosis(
    catalogue.depthwise_probes, catalogue.DEPTHWISE_VARIANTS, _depthwise_probe
)
DEPTHWISE_LAYER_DIAGNOSIS = Diagnosis(
    catalogue.depthwise_layer_probes, catalogue.DEPTHWISE_LAYER_VARIANTS, _depthwise_layer_probe
)
SEPARABLE_DIAGNOSIS = Diagnosis(
    catalogue.separable_probes, catalogue.SEPARABLE_VARIANTS, _separable_probe
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
    resized=((3,), {"strides": 2, "padding": "same"}, ((2, 8, 7, 3), (1, 11, 6, 3))),
    weight_arguments=WeightArguments(
        (3,), (2, 6, 6, 2), {"kernel": (3, 3, 2, 1), "bias": (2,)}, prefixes={"kernel": "depthwise"}
    ),
    passed="DepthwiseConv2D has Keras's arguments, weights, output shapes and config",
    describe_layer=True,
)
check_depthwise_matches_keras = matches_keras(
    "DepthwiseConv2D",
    DEPTHWISE,
    depthwise_layer,
    LAYER_TOL,
    FORBIDDEN,
    DEPTHWISE_LAYER_DIAGNOSIS,
    same_dtype=True,
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
    resized=((6, 3), {"strides": 2, "padding": "same"}, ((2, 8, 7, 3), (1, 11, 6, 3))),
    weight_arguments=WeightArguments(
        (4, 3),
        (2, 6, 6, 2),
        {"depthwise_kernel": (3, 3, 2, 1), "pointwise_kernel": (1, 1, 2, 4), "bias": (4,)},
        prefixes={"depthwise_kernel": "depthwise", "pointwise_kernel": "pointwise"},
    ),
    passed="SeparableConv2D has Keras's arguments, weights, output shapes and config",
    describe_layer=True,
)
check_separable_matches_keras = matches_keras(
    "SeparableConv2D",
    SEPARABLE,
    separable_layer,
    LAYER_TOL,
    FORBIDDEN,
    SEPARABLE_DIAGNOSIS,
    same_dtype=True,
)
check_pointwise_is_dense = matches_keras(
    "SeparableConv2D",
    SEPARABLE,
    pointwise,
    LAYER_TOL,
    FORBIDDEN,
    SEPARABLE_DIAGNOSIS,
    headline="SeparableConv2D(units, 1) with a depthwise kernel of ones is not a Dense layer "
    "applied at every pixel.",
    passed="a 1x1 SeparableConv2D equals Dense at every pixel on {count} cases",
    same_dtype=True,
)

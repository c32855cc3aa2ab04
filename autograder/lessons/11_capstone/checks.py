"""Checks of lesson 11 (the capstone), called from the notebook's test cells.

The residual block is judged against the same block built from `keras.layers` (`block.py`);
the student's network is trained on digits drawn here and judged on held-out ones
(`network.py`). The cases, tolerances and thresholds are in `cases.py`, the catalogue that
names a mistake in `mistakes.py`.
"""

import numpy as np

from ...compare import compare
from ...contract import check_config_roundtrip, check_output_shape, describe_call, make_layer
from ...feedback import fail, passed
from ...student import label, perform
from . import cases
from .block import built_block, check_structure, judge_rows, trusted
from .cases import BLOCK_TOL, NOTHING
from .network import check_network  # noqa: F401  (the notebook's test cells call it here)

CONFIG = ("filters", "kernel_size", "strides", "momentum", "epsilon")
FORMULA = "(batch, ceil(H / sh), ceil(W / sw), filters)"


def _expected_shape(row, input_shape):
    filters, kwargs = row[1], row[2]
    sh, sw = (lambda s: (s, s) if isinstance(s, int) else tuple(s))(kwargs.get("strides", 1))
    height, width = input_shape[1:3]
    size = [None if n is None else -(-n // s) for n, s in ((height, sh), (width, sw))]
    return (input_shape[0], *size, filters)


def check_residual_block_contract(ResidualBlock):
    """Config round trip, sublayers and their weights, output shapes (computed and from a
    symbolic call) for identity, channel-changing and strided blocks, and a save and load."""
    name = label(ResidualBlock)
    layer = make_layer(
        ResidualBlock, (6,), {"kernel_size": 5, "strides": 2, "momentum": 0.9}, forbidden=NOTHING
    )
    check_config_roundtrip(layer, CONFIG, forbidden=NOTHING)
    rows = [*cases.BLOCK_CASES["public"], *cases.SHAPE_CASES]
    for row in rows:
        _, layers, _ = trusted(row)
        layer = built_block(ResidualBlock, row)
        check_structure(ResidualBlock, layer, row, layers)
        for shape in (row[0], (None, *row[0][1:]), (None, None, None, row[0][-1])):
            expected = _expected_shape(row, shape)
            check_output_shape(layer, shape, expected, FORMULA, forbidden=NOTHING)
        call = describe_call(name, (row[1],), row[2])
        symbolic = perform(
            f"{call} on a symbolic keras.Input({row[0][1:]})",
            "symbolic_output",
            ResidualBlock,
            (None, *row[0][1:]),
            (row[1],),
            dict(row[2]),
            forbidden=NOTHING,
        )
        expected = _expected_shape(row, (None, *row[0][1:]))
        if tuple(symbolic.shape) != expected:
            fail(
                f"{call} on keras.Input({row[0][1:]}) gives shape {tuple(symbolic.shape)}; "
                f"expected {expected}.",
                [f"formula: {FORMULA}"],
                hint="both paths must give the same shape: conv1 and the projection take the "
                "stride, and the projection maps the channels to `filters`",
            )
    row = cases.BLOCK_CASES["public"][3]
    _, _, values = trusted(row)
    layer = built_block(ResidualBlock, row)
    perform("copying the case's weights", "assign_sublayers", layer, values, forbidden=NOTHING)
    x = cases.inputs(row)
    saved = perform(
        f"saving a model of {name} to a .keras file and loading it",
        "save_and_load",
        layer,
        x,
        case=cases.describe(row),
        forbidden=NOTHING,
    )
    mismatch = compare(saved["after"], np.asarray(saved["before"]), BLOCK_TOL)
    if mismatch or saved["class"] != name:
        fail(
            f"A model of {name} loaded from a .keras file does not give what it gave before.",
            [f"the loaded layer: {saved['class']}", *(mismatch.lines if mismatch else [])],
            hint="get_config must hold every constructor argument, and build() must create "
            "the same sublayers again from them",
            picture=mismatch.picture if mismatch else None,
        )
    passed(
        f"{name}: config round trip, sublayers and weights, output shapes and a symbolic call on "
        f"{len(rows)} blocks (identity, projection, stride), saved and loaded"
    )


def check_residual_block_training(ResidualBlock, hidden=False):
    """Outputs in training mode (batch statistics) equal the trusted block's."""
    _check_block_mode(ResidualBlock, hidden, training=True)


def check_residual_block_inference(ResidualBlock, hidden=False):
    """Outputs in inference mode (moving statistics) equal the trusted block's."""
    _check_block_mode(ResidualBlock, hidden, training=False)


def _check_block_mode(ResidualBlock, hidden, training):
    rows = cases.block_rows(hidden)
    judge_rows(ResidualBlock, rows, training)
    mode = "training" if training else "inference"
    passed(
        f"ResidualBlock matches the block built from keras.layers in {mode} mode on "
        f"{len(rows)} cases"
    )

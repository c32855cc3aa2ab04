"""Checks of lesson 03 (padding), declared on the shared harness; the cases and tolerances are
in `cases.py`, the catalogue of mistakes in `mistakes.py`. Built-in padding is refused in the
student's ZeroPadding2D and Conv2D, and so is a built-in convolution: the student's Conv2D
pads with the student's own ZeroPadding2D."""

from contextlib import contextmanager
from dataclasses import replace
from functools import partial

import numpy as np

from ...builtin_ops import CONVOLUTION_OPS, PADDING_OPS
from ...contract import Build, Contract, make_layer
from ...diagnosis import Diagnosis, calls_table
from ...feedback import CheckFailed, fail, passed
from ...guard import ForbiddenOps
from ...harness import cases as drawn
from ...judge import pair_of_integers, pair_of_ints, returns
from ...keras_layers import CONV2D, CONV2D_ARGUMENTS
from ...student import Raised, run
from ...training import GradientFeedback, check_input_gradient, fit_losses
from ...twin import Twin, matches_keras
from . import cases
from . import mistakes as catalogue

PADDING = ForbiddenOps(
    "a built-in padding function",
    PADDING_OPS,
    "add the zeros yourself: make blocks of zeros (ops.zeros_like of a slice of the inputs, "
    "ops.repeat) and join them to the images with ops.concatenate",
)
OWN_CONVOLUTION = "pad with your own ZeroPadding2D, then use im2col and one matmul as in lesson 02"
CONVOLUTION_OR_PADDING = ForbiddenOps(
    "a built-in convolution or padding function", CONVOLUTION_OPS + PADDING_OPS, OWN_CONVOLUTION
)

# Padding is refused in forward passes only: TensorFlow differentiates the student's slices
# with its own tf.pad (check_gradients allows it in the backward pass), so a model.fit forbids
# built-in convolutions only.
CONVOLUTION = ForbiddenOps("a built-in convolution", CONVOLUTION_OPS, OWN_CONVOLUTION)

ZERO_PADDING = Twin("ZeroPadding2D")


def _padded_probe(cls, p):
    return ZERO_PADDING.output(cls, (p["padding"],), {}, p["x"], forbidden=PADDING)


def _conv_probe(cls, p):
    kwargs = {"padding": p["padding"], "use_bias": True, "activation": None}
    values = {"kernel": p["kernel"], "bias": p["bias"]}
    return CONV2D.output(
        cls, (2, p["kernel_size"]), kwargs, p["x"], values, forbidden=CONVOLUTION_OR_PADDING
    )


ZERO_PADDING2D_DIAGNOSIS = Diagnosis(
    catalogue.zero_padding2d_probes, catalogue.ZERO_PADDING2D_VARIANTS, _padded_probe
)
PADDING_AMOUNTS_DIAGNOSIS = Diagnosis(
    catalogue.padding_amounts_probes,
    catalogue.PADDING_AMOUNTS_VARIANTS,
    calls_table("padding_amounts", pair_of_ints, PADDING),
)
CONV2D_DIAGNOSIS = Diagnosis(catalogue.conv2d_probes, catalogue.CONV2D_VARIANTS, _conv_probe)


# --- ZeroPadding2D -----------------------------------------------------------------------------


def _stored_padding(layer, args, kwargs):
    """get_config()['padding'] is ((top, bottom), (left, right)), as in Keras."""
    call = f"ZeroPadding2D({args[0]!r})"
    stored = run(f"{call}.get_config()", layer.get_config, forbidden=PADDING).get("padding")
    try:
        stored = tuple(tuple(int(side) for side in pair) for pair in stored)
    except (TypeError, ValueError):
        pass
    if stored != catalogue.keras_pairs(args[0]):
        fail(
            f"{call} stores padding={stored!r}; expected {catalogue.keras_pairs(args[0])}.",
            ["get_config()['padding'] must be ((top, bottom), (left, right)), as in Keras"],
            case=call,
        )


ZERO_PADDING_CONTRACT = Contract(
    "ZeroPadding2D",
    "ZeroPadding2D",
    ("padding", "data_format"),
    PADDING,
    output_shapes=tuple(
        ((p,), {}, shapes)
        for shapes in (((2, 5, 6, 3), (None, None, 6, 3)), cases.UNKNOWN_WIDTHS)
        for p in cases.CONTRACT_PADDINGS
    ),
    formula="(batch, top + H + bottom, left + W + right, C)",
    config=((((1, 2), (3, 0)),), {}, ("padding", "data_format")),
    symbolic=((((1, 2), (3, 0)),), {}, (None, 5, 6, 3)),
    resized=((((1, 2), (3, 0)),), {}, ((2, 5, 6, 3), (1, 4, 8, 3))),
    passed=None,
    each=_stored_padding,
    diagnosis=ZERO_PADDING2D_DIAGNOSIS,
)
# Keras's other forms of padding, after the rest: stored padding and output shapes.
OTHER_FORMS_CONTRACT = replace(
    ZERO_PADDING_CONTRACT,
    output_shapes=tuple(
        ((p,), {}, ((2, 5, 6, 3), *cases.UNKNOWN_WIDTHS)) for p, _ in cases.OTHER_FORMS
    ),
    config=None,
    symbolic=None,
    resized=None,
)


def check_zero_padding_contract(ZeroPadding2D):
    """Keras's arguments, stored padding, output shapes, config and symbolic call, then the
    forms of padding a parser of the plain ones can miss, each named with Keras's reading."""
    ZERO_PADDING_CONTRACT(ZeroPadding2D)
    for padding, why in cases.OTHER_FORMS:
        try:
            make_layer(ZeroPadding2D, (padding,), {}, forbidden=PADDING)
        except Raised as failure:
            reading = f"Keras reads {padding!r} as {catalogue.keras_pairs(padding)}: {why}"
            raise Raised(failure.headline, [*failure.details, reading], failure.hint) from None
    OTHER_FORMS_CONTRACT(ZeroPadding2D)
    passed("ZeroPadding2D has Keras's arguments, stored padding, output shape and config")


_ZERO_PADDING_OUTPUTS = matches_keras(
    "ZeroPadding2D",
    ZERO_PADDING,
    cases.zero_padding,
    cases.PAD_TOL,
    PADDING,
    ZERO_PADDING2D_DIAGNOSIS,
    headline="ZeroPadding2D does not match keras.layers.ZeroPadding2D.",
)


@contextmanager
def _differentiable():
    """A call() that TensorFlow cannot differentiate is told which operation is the usual
    cause."""
    try:
        yield
    except CheckFailed as failure:
        if "gradient registry" not in failure.headline:
            raise
        raise CheckFailed(
            failure.headline,
            ["one operation in your call() has no gradient in TensorFlow"],
            "ops.slice_update is such an operation on the TensorFlow backend; add the zeros "
            "with ops.concatenate instead",
        ) from None


def check_zero_padding(ZeroPadding2D, hidden=False):
    """Outputs equal keras.layers.ZeroPadding2D's, and the gradient flows back through the
    layer as through Keras's: a Conv2D built on it must train."""
    import keras

    check, table = _ZERO_PADDING_OUTPUTS, cases.zero_padding(hidden)
    for case in table:
        check.judge(ZeroPadding2D, case, check.run(ZeroPadding2D, case))
    padding, (x, upstream) = cases.GRADIENT_PADDING, cases.gradient_case()
    with _differentiable():
        check_input_gradient(
            f"ZeroPadding2D({padding})",
            make_layer(ZeroPadding2D, (padding,), {}, forbidden=PADDING),
            keras.layers.ZeroPadding2D(padding),
            x,
            upstream,
            cases.PAD_GRADIENT_TOL,
            "each input value passes back the gradient of its copy in the output; the zeros "
            "pass nothing back",
            partial(ZERO_PADDING2D_DIAGNOSIS, ZeroPadding2D),
            forbidden=PADDING,
            allow_in_backward=PADDING_OPS,  # TensorFlow differentiates a slice with tf.pad
        )
    passed(check.passed.format(count=len(table)))


# --- padding_amounts ---------------------------------------------------------------------------


def _amounts_rule(case) -> list[str]:
    """The rule, and that the mode defaults to 'valid' when the case leaves it out."""
    lines = [
        "valid: (0, 0); same: k - 1 zeros in all, (k - 1) // 2 before and the rest after; "
        "full: (k - 1, k - 1)"
    ]
    if len(case.args) == 1:
        lines.append("padding is not given here: it defaults to 'valid', as the docstring says")
    return lines


check_padding_amounts = returns(
    "padding_amounts",
    cases.padding_amounts,
    PADDING,
    "padding_amounts gives TensorFlow's amounts on {count} cases",
    diagnosis=PADDING_AMOUNTS_DIAGNOSIS,
    agrees=lambda got, expected: pair_of_integers(got) == expected,
    loosely=pair_of_ints,
    explain=_amounts_rule,
)

# --- Conv2D ------------------------------------------------------------------------------------

check_conv2d_contract = Contract(
    "Conv2D",
    "Conv2D",
    CONV2D_ARGUMENTS,
    CONVOLUTION_OR_PADDING,
    builds=(
        Build(
            (4, (4, 3)), {"padding": "same"}, (2, 7, 6, 3), {"kernel": (4, 3, 3, 4), "bias": (4,)}
        ),
    ),
    how=CONV2D.how,
    output_shapes=tuple(
        ((4, size), {"padding": padding}, shapes)
        for shapes in (((2, 7, 6, 3), (None, None, 6, 3)), cases.UNKNOWN_WIDTHS)
        for padding, size in (("valid", (4, 3)), ("same", (4, 3)), ("same", 2), ("full", (2, 3)))
    ),
    formula="(batch, top + H + bottom - kh + 1, left + W + right - kw + 1, filters)",
    config=((4, (4, 3)), {"padding": "full"}, ("filters", "kernel_size", "padding", "use_bias")),
    symbolic=((4, (4, 3)), {"padding": "same"}, (None, 7, 6, 3)),
    resized=((4, (4, 3)), {"padding": "same"}, ((2, 7, 6, 3), (1, 5, 9, 3))),
    passed="Conv2D has Keras's arguments, weights, output shapes and config",
    output_shape=cases.output_shape,
    describe_layer=True,
    diagnosis=CONV2D_DIAGNOSIS,
)
check_conv2d_matches_keras = matches_keras(
    "Conv2D",
    CONV2D,
    cases.conv2d,
    cases.CONV2D_TOL,
    CONVOLUTION_OR_PADDING,
    CONV2D_DIAGNOSIS,
    same_dtype=True,
)
check_conv2d_full = matches_keras(
    "Conv2D",
    CONV2D,
    cases.conv2d_full,
    cases.CONV2D_TOL,
    CONVOLUTION_OR_PADDING,
    CONV2D_DIAGNOSIS,
    headline="Conv2D(padding='full') does not match scipy.signal.correlate2d(mode='full').",
    passed="Conv2D(padding='full') matches SciPy on {count} cases",
    same_dtype=True,
)

GRADIENTS = GradientFeedback(
    running="the gradient through {name}",
    missing_inputs="No gradient flows back to the inputs of {name}.",
    why="the loss does not depend on it through operations TensorFlow can differentiate",
    hint="compute call() with keras.ops on the inputs and self.kernel / self.bias; "
    "converting to NumPy inside call() (or ZeroPadding2D.call()) cuts the gradient",
    differs="The gradient with respect to {weight} differs from Keras's.",
    with_case=True,
)


def check_conv2d_trains(Conv2D):
    """Gradients through 'same' padding with an even kernel equal Keras's, and model.fit runs
    the layer on batches of unknown size."""
    kwargs = {"padding": "same", "use_bias": True, "activation": "tanh"}
    case = cases.conv_case((3, 6, 5, 2), 3, (4, 2), kwargs, seed=21)
    text = "mean squared error of a tanh Conv2D(3, (4, 2), padding='same') on inputs (3, 6, 5, 2)"
    with _differentiable():
        CONV2D.check_gradients(
            Conv2D,
            case,
            drawn.normal((3, 6, 5, 3), 22),
            cases.GRADIENT_TOL,
            text,
            forbidden=CONVOLUTION_OR_PADDING,
            inputs=True,
            allow_in_backward=PADDING_OPS,  # TensorFlow differentiates a slice with tf.pad
            feedback=GRADIENTS,
        )
    # 20 images in batches of 8: the last batch has 4, so model.fit runs call() (and the
    # ZeroPadding2D in it) on batches of unknown size (None), as any model may; code that reads
    # inputs.shape[0] fails there. Only that it runs is checked: the gradients are above.
    spec = [
        (Conv2D, (2, (4, 2)), {"padding": "same", "activation": "relu"}),
        ("keras", "Flatten", (), {}),
        ("keras", "Dense", (1,), {}),
    ]
    inputs = drawn.normal((20, 6, 5, 1), 23)
    losses = fit_losses(
        "keras.Model.fit with your Conv2D(2, (4, 2), padding='same') (batches of 8, the last "
        "of 4, so the batch size is None inside call())",
        spec,
        (None, 6, 5, 1),
        inputs,
        inputs.mean(axis=(1, 2, 3)),
        "mse",
        epochs=1,
        batch_size=8,
        forbidden=CONVOLUTION,
    )
    if not all(np.isfinite(losses)):
        fail(
            "keras.Model.fit with your Conv2D(2, (4, 2), padding='same') gives a loss of "
            f"{losses[-1]}.",
            ["a model of the layer must give finite losses on finite inputs"],
        )
    passed(
        "gradients through Conv2D(padding='same') match Keras's, and model.fit runs it on "
        "batches of unknown size"
    )

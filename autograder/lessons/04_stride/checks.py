"""Checks of lesson 04 (stride and dilation), declared on the shared harness; the cases are in
`cases.py` and `conv_cases.py`, the catalogue of mistakes in `mistakes.py`.

Built-in convolution, padding and patch extraction are refused inside the student's code,
padding in forward passes only (as in lesson 03): TensorFlow differentiates a slice with tf.pad.
"""

from functools import partial

import numpy as np

from ...builtin_ops import CONVOLUTION_OPS, PADDING_OPS
from ...contract import Build, Contract, describe_call
from ...diagnosis import Diagnosis, calls_table
from ...feedback import fail, passed
from ...guard import ForbiddenOps
from ...harness import cases as drawn
from ...judge import Compare, integer, pair_of_integers, pair_of_ints, returns, whole_number
from ...keras_layers import CONV2D, CONV2D_ARGUMENTS
from ...student import perform, run
from ...training import GradientFeedback
from ...twin import matches_keras
from . import cases, conv_cases
from . import mistakes as catalogue
from .cases import reference_outputs  # noqa: F401  (`cnn-course references` reads it here)

PATCH_OPS = (
    "keras.ops.image.extract_patches",
    "tensorflow.image.extract_patches",
    "tensorflow.python.ops.gen_array_ops.extract_image_patches",
)
FORBIDDEN = ForbiddenOps(
    "a built-in convolution, padding or patch extraction",
    CONVOLUTION_OPS + PADDING_OPS + PATCH_OPS,
    "gather the windows yourself with strided slices (x[:, a:b:s, c:d:s, :]) and pad with "
    "the given ZeroPadding2D",
)


def _conv_probe(cls, p):
    kwargs = {key: p[key] for key in ("strides", "dilation_rate", "padding")}
    values = {"kernel": p["kernel"], "bias": p["bias"]}
    return CONV2D.output(cls, (2, p["kernel_size"]), kwargs, p["x"], values, forbidden=FORBIDDEN)


IM2COL_ARGUMENTS = ("x", "kernel_size", "strides", "dilation_rate")
SIZE_DIAGNOSIS = Diagnosis(
    catalogue.conv_output_size_probes,
    catalogue.CONV_OUTPUT_SIZE_VARIANTS,
    calls_table("conv_output_size", whole_number, FORBIDDEN),
)
PADDING_DIAGNOSIS = Diagnosis(
    catalogue.padding_amounts_probes,
    catalogue.PADDING_AMOUNTS_VARIANTS,
    calls_table("padding_amounts", pair_of_ints, FORBIDDEN),
)
IM2COL_DIAGNOSIS = Diagnosis(
    catalogue.im2col_probes,
    catalogue.IM2COL_VARIANTS,
    lambda fn, p: run("im2col", fn, *(p[key] for key in IM2COL_ARGUMENTS), forbidden=FORBIDDEN),
)
CONV2D_DIAGNOSIS = Diagnosis(catalogue.conv2d_probes, catalogue.CONV2D_VARIANTS, _conv_probe)
FIELD_DIAGNOSIS = Diagnosis(
    catalogue.receptive_field_probes,
    catalogue.RECEPTIVE_FIELD_VARIANTS,
    calls_table(
        "receptive_field",
        whole_number,
        FORBIDDEN,
        calls=lambda probe: [([tuple(layer) for layer in stack],) for stack in probe["stacks"]],
    ),
)

# --- sizes, padding amounts and windows ----------------------------------------------------------

check_conv_output_size = returns(
    "conv_output_size",
    cases.conv_output_size,
    FORBIDDEN,
    "conv_output_size gives the right size on {count} cases",
    diagnosis=SIZE_DIAGNOSIS,
    agrees=lambda got, size: integer(got) == size and (got is None) == (size is None),
    loosely=whole_number,
    explain=lambda case: (
        ["an unknown size (None) stays unknown"]
        if case.expected is None
        else [f"formula: {cases.SIZE_FORMULA}"]
    ),
)


# Each padding's rule, as the explanation of a wrong answer lists the other two.
RULES = {
    "valid": "'valid': (0, 0)",
    "same": "'same': total = max((ceil(n / s) - 1) s + d(k - 1) + 1 - n, 0), total // 2 before "
    "and the rest after",
    "full": "'full': (d(k - 1), d(k - 1))",
}


def _explain_padding(case):
    """The rule of the case's padding, worked out on its numbers, then the other two rules."""
    n, k, s, padding, d = case.args
    if padding == "same":
        total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
        worked = (
            "'same': total = max((ceil(n / s) - 1) s + d(k - 1) + 1 - n, 0) = "
            f"max(({-(-n // s)} - 1) * {s} + {d * (k - 1) + 1} - {n}, 0) = {total}, "
            "total // 2 before and the rest after"
        )
    elif padding == "full":
        worked = f"'full': d(k - 1) = {d} * ({k} - 1) = {d * (k - 1)} before and after"
    else:
        worked = "'valid': no padding, (0, 0)"
    return [worked, "; ".join(rule for mode, rule in RULES.items() if mode != padding)]


check_padding_amounts = returns(
    "padding_amounts",
    cases.padding_amounts,
    FORBIDDEN,
    "padding_amounts gives TensorFlow's padding on {count} cases",
    diagnosis=PADDING_DIAGNOSIS,
    agrees=lambda got, expected: pair_of_integers(got) == expected,
    loosely=pair_of_ints,
    explain=_explain_padding,
)
check_im2col = Compare(
    "im2col",
    cases.im2col,
    cases.IM2COL_TOL,
    FORBIDDEN,
    headline="im2col gives the wrong windows.",
    passed="im2col matches the reference on {count} cases",
    diagnosis=IM2COL_DIAGNOSIS,
)

# --- Conv2D ------------------------------------------------------------------------------------

check_conv2d_contract = Contract(
    "Conv2D",
    "Conv2D",
    CONV2D_ARGUMENTS,
    FORBIDDEN,
    builds=(
        Build((4, (3, 2)), {"strides": 2}, (2, 8, 7, 3), {"kernel": (3, 2, 3, 4), "bias": (4,)}),
    ),
    how=CONV2D.how,
    output_shapes=tuple(
        ((4, size), kwargs, ((2, 8, 7, 3), (None, None, 7, 3), (None, 8, None, 3)))
        for size, kwargs in (
            (3, {"strides": 2}),
            ((3, 2), {"strides": (2, 3), "padding": "same"}),
            (3, {"dilation_rate": 2}),
            ((2, 3), {"dilation_rate": (3, 2), "padding": "same"}),
            (4, {"strides": 3, "padding": "same"}),
            (3, {"strides": 2, "padding": "full"}),
            ((2, 3), {"dilation_rate": (3, 2), "padding": "full"}),
        )
    ),
    output_shape=conv_cases.output_shape,  # Keras's, and the formula's for 'full'
    formula=f"(batch, out_h, out_w, filters), each size {cases.SIZE_FORMULA}; "
    "p = 2 d(k - 1) for 'full'",
    config=(
        (4, 3),
        {"strides": (2, 1), "padding": "same"},
        ("filters", "kernel_size", "strides", "padding", "dilation_rate"),
    ),
    symbolic=((4, 3), {"strides": 2, "padding": "same"}, (None, 8, 7, 3)),
    resized=((4, 3), {"strides": 2, "padding": "same"}, ((2, 8, 7, 3), (1, 11, 6, 3))),
    passed="Conv2D has Keras's arguments, weights, output shapes and config",
    describe_layer=True,
)


def _matches_keras(argument, adjective, noun):
    """Conv2D with `argument` ("strides" or "dilation_rate") equals Keras's on its cases."""
    return matches_keras(
        "Conv2D",
        CONV2D,
        partial(conv_cases.conv2d, argument),
        conv_cases.CONV2D_TOL,
        FORBIDDEN,
        CONV2D_DIAGNOSIS,
        headline=f"Conv2D with {noun} does not match keras.layers.Conv2D with the same weights.",
        passed=f"{adjective} Conv2D matches keras.layers.Conv2D on {{count}} cases",
        same_dtype=True,
    )


check_conv2d_strides = _matches_keras("strides", "strided", "strides")
check_conv2d_dilation = _matches_keras("dilation_rate", "dilated", "dilation")

GRADIENTS = GradientFeedback(
    running="the gradient through {name}",
    missing="No gradient reaches {weight} through your {name}.",
    why="the loss does not depend on it through operations TensorFlow can differentiate",
    hint="compute call() with keras.ops; converting to NumPy cuts the gradient",
    differs="The gradient with respect to {weight} differs from Keras's.",
    with_case=True,
)


def check_conv2d_trains(Conv2D):
    """Gradients through a strided and a dilated 'same' Conv2D equal Keras's."""
    for input_shape, filters, size, kwargs, seed in conv_cases.TRAIN_CASES:
        case = conv_cases.conv_case(input_shape, filters, size, kwargs, seed)
        output_shape = conv_cases.output_shape((filters, size), kwargs, input_shape)
        CONV2D.check_gradients(
            Conv2D,
            case,
            drawn.normal(output_shape, seed + 1),
            conv_cases.GRADIENT_TOL,
            f"mean squared error of {describe_call('Conv2D', (filters, size), kwargs)}",
            forbidden=FORBIDDEN,
            inputs=True,
            allow_in_backward=PADDING_OPS,  # TensorFlow differentiates a slice with tf.pad
            feedback=GRADIENTS,
            diagnose=lambda: CONV2D_DIAGNOSIS(Conv2D),
        )
    passed("gradients through strided and dilated Conv2D match Keras's")


# --- receptive_field ---------------------------------------------------------------------------

check_receptive_field = returns(
    "receptive_field",
    cases.receptive_field,
    FORBIDDEN,
    "receptive_field is right on {count} stacks",
    diagnosis=FIELD_DIAGNOSIS,
    agrees=lambda got, expected: whole_number(got) == expected,
    explain=(
        "r = 1 + sum over layers of d (k - 1) j, where j is the product of the strides of the "
        "layers before",
    ),
)

# --- the lecture's network ---------------------------------------------------------------------


def digit_network(Conv2D, scale=1):
    """The model spec (see `harness.ops`) of the lecture's digit classifier with `Conv2D`, every
    filter count times `scale`. It is built with the functional API: a Sequential model would
    swallow a NotImplementedError of the student's compute_output_shape and stay unbuilt."""
    same = {"padding": "same", "activation": "relu"}
    convs = [
        (Conv2D, (filters * scale, size), {"strides": stride, **same})
        for filters, size, stride in cases.DIGIT_CONVS
    ]
    return [
        *convs,
        ("keras", "Flatten", (), {}),
        ("keras", "Dense", (200,), {"activation": "relu"}),
        ("keras", "Dense", (10,), {"activation": "softmax"}),
    ]


def _units(shape):
    try:
        return int(np.prod([int(d) for d in shape[1:]]))
    except (TypeError, ValueError):
        return None


def check_digit_network(Conv2D):
    """Hidden units and parameters per layer of the lecture's network, built with Conv2D."""
    scale, case, expected_units, expected_parameters = cases.digit_case()
    summary = perform(
        "building the digit network with your Conv2D",
        "model_summary",
        digit_network(Conv2D, scale),
        (None, 28, 28, 1),
        forbidden=FORBIDDEN,
        case=case,
    )
    layers = [entry for entry in summary if entry["params"]]
    units = [_units(entry["output_shape"]) for entry in layers]
    parameters = [entry["params"] for entry in layers]
    if units != list(expected_units) or parameters != list(expected_parameters):
        f1, f2, f3 = (filters * scale for filters, _, _ in cases.DIGIT_CONVS)
        rows = zip(units, expected_units, parameters, expected_parameters, strict=False)
        fail(
            "The lecture's digit network built with your Conv2D has the wrong sizes.",
            [
                f"Conv2D({f1}, 5, strides=1), Conv2D({f2}, 5, strides=2), "
                f"Conv2D({f3}, 4, strides=2), all padding='same', then Dense(200) and "
                "Dense(10) on 28x28x1 digits",
                *(
                    f"layer {i + 1}: {u} hidden units (expected {eu}), {p} parameters "
                    f"(expected {ep})"
                    for i, (u, eu, p, ep) in enumerate(rows)
                ),
            ],
            case=case,
            hint="with 'same' padding each size is ceil(n / s): 28 -> 28 -> 14 -> 7; the sizes "
            "come from your compute_output_shape",
        )
    name = case or "the lecture's digit network"
    passed(
        f"{name}: hidden units {', '.join(map(str, units))}; "
        f"parameters {', '.join(map(str, parameters))}"
    )

"""Checks of lesson 02 (convolution), declared on the shared harness; the cases and
tolerances are in `cases.py`, the catalogue of mistakes in `mistakes.py`."""

from dataclasses import replace
from functools import partial

from ... import keras_layers
from ...builtin_ops import CONVOLUTION_OPS
from ...contract import Build, Contract, WeightArguments
from ...diagnosis import Diagnosis
from ...guard import ForbiddenOps
from ...harness import cases as drawn
from ...judge import Compare
from ...student import run
from ...training import check_gradients, require_trains
from ...twin import matches_keras
from . import cases
from . import mistakes as catalogue
from .cases import reference_outputs  # noqa: F401  (`cnn-course references` reads it here)

# What lesson 02 forbids in every graded call.
CONVOLUTION = ForbiddenOps(
    "a built-in convolution",
    CONVOLUTION_OPS,
    "this lesson asks you to compute it yourself from slices, sums and matrix products "
    "(loops, np.einsum, or im2col followed by one matmul)",
)

CONV2D = replace(
    keras_layers.CONV2D,
    shape_mistake=lambda input_shape: partial(
        catalogue.kernel_shape_mistake, input_shape=input_shape
    ),
)


def _conv2d_on_probe(Conv2D, probe):
    values = {"kernel": probe["kernel"], "bias": probe["bias"]}
    kwargs = {"use_bias": True, "activation": None}
    return CONV2D.output(Conv2D, (4, 3), kwargs, probe["x"], values, forbidden=CONVOLUTION)


CROSS_CORRELATE2D_DIAGNOSIS = Diagnosis(
    catalogue.cross_correlate2d_probes,
    catalogue.CROSS_CORRELATE2D_VARIANTS,
    lambda fn, p: run("cross_correlate2d", fn, p["x"], p["kernel"], forbidden=CONVOLUTION),
)
IM2COL_DIAGNOSIS = Diagnosis(
    catalogue.im2col_probes,
    catalogue.IM2COL_VARIANTS,
    lambda fn, p: run("im2col", fn, p["x"], p["kernel_size"], forbidden=CONVOLUTION),
)
CONV2D_DIAGNOSIS = Diagnosis(catalogue.conv2d_probes, catalogue.CONV2D_VARIANTS, _conv2d_on_probe)


# --- cross_correlate2d and im2col -----------------------------------------------------------

# The lecture's 4x4 image with its 2x2 kernel gives [[7, -2, 5], [4, 1, 3], [-2, 4, 6]].
check_hand_example = Compare(
    "cross_correlate2d",
    cases.hand_example,
    cases.HAND_TOL,
    CONVOLUTION,
    headline="cross_correlate2d does not reproduce the worked example.",
    passed="cross_correlate2d reproduces the worked 4x4 example",
    diagnosis=CROSS_CORRELATE2D_DIAGNOSIS,
    hint="top-left output: 0*(-1) + 3*1 + 2*2 + 0*1 = 7",
    axes="hw",
)
check_cross_correlate2d = Compare(
    "cross_correlate2d",
    cases.cross_correlate2d,
    cases.CROSS_CORRELATE_TOL,
    CONVOLUTION,
    headline="cross_correlate2d gives the wrong output.",
    passed="cross_correlate2d matches the reference on {count} cases",
    diagnosis=CROSS_CORRELATE2D_DIAGNOSIS,
    count=cases.stored_count(cases.CROSS_CORRELATE_CASES),
    axes="hw",
)
check_im2col = Compare(
    "im2col",
    cases.im2col,
    cases.IM2COL_TOL,
    CONVOLUTION,
    headline="im2col gives the wrong patches.",
    passed="im2col matches the reference on {count} cases",
    diagnosis=IM2COL_DIAGNOSIS,
    count=cases.stored_count(cases.IM2COL_CASES),
)

# --- Conv2D -----------------------------------------------------------------------------------

check_conv2d_contract = Contract(
    "Conv2D",
    "Conv2D",
    keras_layers.CONV2D_ARGUMENTS,
    CONVOLUTION,
    builds=(
        Build(
            (4, (3, 2)),
            {"activation": "relu"},
            (2, 9, 8, 3),
            {"kernel": (3, 2, 3, 4), "bias": (4,)},
        ),
        Build((4, 3), {"use_bias": False}, (2, 9, 8, 3), {"kernel": (3, 3, 3, 4)}),
    ),
    how=CONV2D.how,
    shape_mistake=CONV2D.shape_mistake,
    weight_arguments=WeightArguments(
        (3, (2, 2)), (None, 5, 4, 2), {"kernel": (2, 2, 2, 3), "bias": (3,)}
    ),
    output_shapes=(
        ((4, (3, 2)), {"activation": "relu"}, ((2, 9, 8, 3), (None, None, 8, 3))),
        # then an unknown width: any size but the channels may be None, and stays None
        ((4, (3, 2)), {"activation": "relu"}, ((None, 9, None, 3), (None, None, None, 3))),
    ),
    formula="(batch, H - kh + 1, W - kw + 1, filters)",
    config=(
        (4, (3, 2)),
        {"activation": "relu"},
        ("filters", "kernel_size", "activation", "use_bias"),
    ),
    symbolic=((4, (3, 2)), {}, (None, 9, 8, 3)),
    resized=((4, (3, 2)), {"activation": "relu"}, ((2, 9, 8, 3), (3, 6, 11, 3))),
)
check_conv2d_matches_keras = matches_keras(
    "Conv2D", CONV2D, cases.conv2d, cases.CONV2D_TOL, CONVOLUTION, CONV2D_DIAGNOSIS, same_dtype=True
)


def check_conv2d_trains(Conv2D):
    """Gradients equal Keras's, and a model built on the layer learns (its loss goes down)."""
    case = cases.conv_layer_case((4, 8, 7, 2), 3, (3, 2), True, "tanh", 21)
    built = (case.args, case.layer_kwargs, case.inputs.shape, case.weights)
    check_gradients(
        CONV2D.student(Conv2D, *built, forbidden=CONVOLUTION),
        CONV2D.reference(*built),
        case.inputs,
        drawn.normal((4, 6, 6, 3), 22),
        cases.GRADIENT_TOL,
        "mean squared error of a tanh Conv2D(3, (3, 2)) on inputs (4, 8, 7, 2)",
        name="Conv2D",
        forbidden=CONVOLUTION,
    )

    # 72 images in batches of 16: the last batch has 8, so model.fit runs call() on batches of
    # unknown size (None), as the notebook's experiment does; code that reads inputs.shape[0]
    # fails there, as it would in any model.
    inputs = drawn.normal((72, 8, 8, 1), 23)
    labels = (inputs[:, 2:6, 2:6, 0].mean(axis=(1, 2)) > 0).astype("float32")
    spec = [
        (Conv2D, (4, 3), {"activation": "relu"}),
        ("keras", "Flatten", (), {}),
        ("keras", "Dense", (1,), {"activation": "sigmoid"}),
    ]
    require_trains(
        "keras.Model.fit with your Conv2D (batches of 16, the last of 8, so the batch size is None "
        "inside call())",
        spec,
        (None, 8, 8, 1),
        inputs,
        labels,
        epochs=15,
        batch_size=16,
        forbidden=CONVOLUTION,
        headline="A small model built on your Conv2D does not learn.",
        name="Conv2D",
    )

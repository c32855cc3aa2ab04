"""Lesson 11's checks of the residual block: its sublayers and configuration, and its outputs
against the trusted block built from Keras layers (`mistakes.reference_block`) holding the
same weights, in training and inference modes."""

import numpy as np

from ...compare import compare
from ...contract import build_layer, make_layer
from ...diagnosis import DIAGNOSIS_TOLERANCE
from ...feedback import CheckFailed, fail
from ...student import label, perform, run
from . import cases
from . import mistakes as catalogue
from .cases import NOTHING

CLASSES = {
    "conv1": "Conv2D",
    "bn1": "BatchNormalization",
    "conv2": "Conv2D",
    "bn2": "BatchNormalization",
    "projection": "Conv2D",
    "projection_bn": "BatchNormalization",
}
STRUCTURE_HINT = (
    "in build(), create conv1, bn1, conv2, bn2 (and projection, projection_bn when the "
    "channels or the stride change, else set both to None) from keras.layers, as the exercise "
    "says, and build each one"
)


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def trusted(row, values=None, **options):
    """The trusted block of `row` and its sublayers, holding `values` (default: the row's
    weights, drawn anew when grading)."""
    shape, filters, kwargs = row[:3]
    model, layers = catalogue.reference_block(shape, filters, **kwargs, **options)
    if values is None:
        values = cases.sublayer_values(layers, row[-1])
    for name, arrays in values.items():
        layers[name].set_weights(arrays)
    return model, layers, values


def built_block(ResidualBlock, row):
    """The student's block of `row`, built for its input shape (batch size left free)."""
    shape, filters, kwargs = row[:3]
    layer = make_layer(ResidualBlock, (filters,), kwargs, forbidden=NOTHING)
    return build_layer(layer, (None, *shape[1:]), forbidden=NOTHING)


def _expected(layers, row) -> dict:
    kwargs = row[2]
    conv = {
        "filters": row[1],
        "kernel_size": None,
        "strides": None,
        "padding": "same",
        "use_bias": False,
    }
    bn = {"momentum": kwargs.get("momentum", 0.99), "epsilon": kwargs.get("epsilon", 1e-3)}
    strides = _pair(kwargs.get("strides", 1))
    sizes = {"conv1": kwargs.get("kernel_size", 3), "conv2": kwargs.get("kernel_size", 3)}
    found = {}
    for name in catalogue.SUBLAYERS:
        if name not in layers:
            found[name] = None
            continue
        weights = [tuple(int(d) for d in w.shape) for w in layers[name].weights]
        if CLASSES[name] == "Conv2D":
            config = {
                **conv,
                "kernel_size": _pair(sizes.get(name, 1)),
                "strides": strides if name != "conv2" else (1, 1),
            }
        else:
            config = bn
        found[name] = {"class": CLASSES[name], "config": config, "weights": weights}
    return found


def check_structure(ResidualBlock, layer, row, layers) -> None:
    """The student's built block has the notebook's sublayers, configured as the trusted
    block's, with weights of the same shapes."""
    name = label(ResidualBlock)
    text = cases.describe(row)
    found = perform(f"{name}'s sublayers", "block_structure", layer, forbidden=NOTHING)
    expected = _expected(layers, row)
    for sub in catalogue.SUBLAYERS:
        have, want = found.get(sub, "missing"), expected[sub]
        if have == "missing":
            fail(
                f"{name} has no attribute {sub!r} after build().",
                [f"case: {text}"],
                hint=STRUCTURE_HINT,
            )
        if have is None and want is not None:
            shape, filters = row[0], row[1]
            channels_only = shape[-1] != filters and _pair(row[2].get("strides", 1)) == (1, 1)
            fail(
                f"{name} has no {sub} where the skip path needs one.",
                [
                    f"case: {text}",
                    f"the input has {shape[-1]} channels, the block {filters} filters, "
                    f"strides {_pair(row[2].get('strides', 1))}",
                ],
                catalogue.PROJECTION_MISSING if channels_only else None,
                STRUCTURE_HINT,
            )
        if want is None and have is not None:
            fail(
                f"{name} has a {sub} where the skip path is the identity.",
                [f"case: {text}", "same channels, stride 1: the skip path is x itself"],
                hint=STRUCTURE_HINT,
            )
        if want is None:
            continue
        if not isinstance(have, dict) or have.get("class") != want["class"]:
            what = have.get("class") if isinstance(have, dict) else repr(have)
            fail(
                f"{name}.{sub} is a {what}; expected a keras.layers.{want['class']}.",
                [f"case: {text}"],
                hint=STRUCTURE_HINT,
            )
        _check_config(name, sub, have, want, found, text)


def _stride_on_skip_only(found, strides) -> bool:
    """The projection has the block's strides and neither main-path convolution has any."""
    projection, conv1, conv2 = (found.get(name) for name in ("projection", "conv1", "conv2"))
    return (
        isinstance(projection, dict)
        and isinstance(conv1, dict)
        and isinstance(conv2, dict)
        and tuple(projection["config"].get("strides") or ()) == strides
        and tuple(conv1["config"].get("strides") or ()) == (1, 1)
        and tuple(conv2["config"].get("strides") or ()) == (1, 1)
    )


def _check_config(name, sub, have, want, found, text) -> None:
    for key, value in want["config"].items():
        got = have["config"].get(key)
        if key in ("kernel_size", "strides") and got is not None:
            got = tuple(got)
        if got == value:
            continue
        mistake = None
        if sub == "conv1" and key == "strides" and _stride_on_skip_only(found, value):
            mistake = catalogue.STRIDE_SKIP_ONLY
        fail(
            f"{name}.{sub} has {key}={got!r}; expected {value!r}.",
            [f"case: {text}"],
            mistake,
            "conv1 takes the block's kernel_size and strides, conv2 its kernel_size and stride "
            "1, the projection a 1x1 kernel and the strides; every convolution has "
            "padding='same' and use_bias=False, every batch normalization the block's "
            "momentum and epsilon",
        )
    if have["weights"] != want["weights"]:
        fail(
            f"{name}.{sub} has weights of shapes {have['weights']}; expected {want['weights']}.",
            [f"case: {text}"],
            hint=STRUCTURE_HINT,
        )


def block_output(ResidualBlock, row, training: bool):
    """The student's block and the trusted one on the row's inputs, same weights: (theirs,
    expected, the sublayer weights, the inputs, the case's text, the student's block)."""
    model, layers, values = trusted(row)
    layer = built_block(ResidualBlock, row)
    check_structure(ResidualBlock, layer, row, layers)
    perform("copying the case's weights", "assign_sublayers", layer, values, forbidden=NOTHING)
    x = cases.inputs(row)
    text = f"{cases.describe(row)}, training={training}"
    name = f"{label(ResidualBlock)}(...)(x, training={training})"
    out = run(name, layer, x, training=training, case=text, forbidden=NOTHING)
    expected = np.asarray(model(x, training=training))
    return out, expected, values, x, text, layer


def _mistake(row, values, x, out, training):
    """The catalogued mistake the output equals on this row (same weights, same inputs)."""
    wrong, _, _ = trusted(row, values, skip_after_relu=True)
    if compare(out, np.asarray(wrong(x, training=training)), DIAGNOSIS_TOLERANCE) is None:
        return catalogue.SKIP_AFTER_RELU
    model, _, _ = trusted(row, values)
    if compare(out, np.asarray(model(x, training=not training)), DIAGNOSIS_TOLERANCE) is None:
        return catalogue.BN_ALWAYS_INFERENCE if training else catalogue.BN_ALWAYS_TRAINING
    return None


def _judge_without_flag(ResidualBlock, layer, row, values, x, expected) -> None:
    """Called without `training` (`block(x)`, `model(x)` outside fit), a Keras layer runs in
    inference mode: the block must give its inference output then too."""
    text = f"{cases.describe(row)}, no training argument"
    out = run(f"{label(ResidualBlock)}(...)(x)", layer, x, case=text, forbidden=NOTHING)
    mismatch = compare(out, expected, cases.BLOCK_TOL)
    if mismatch:
        model, _, _ = trusted(row, values)
        batch = compare(out, np.asarray(model(x, training=True)), DIAGNOSIS_TOLERANCE) is None
        fail(
            "ResidualBlock called without `training` does not give its inference-mode output.",
            mismatch,
            catalogue.TRAINING_BY_DEFAULT if batch else None,
            "keep `training=None` as the default of call: a Keras layer called without "
            "`training` runs in inference mode",
            case=text,
        )


def judge_rows(ResidualBlock, rows, training: bool) -> None:
    """Fail on the first row whose output differs from the trusted block's (at inference, also
    when the block is called without `training`)."""
    for row in rows:
        out, expected, values, x, text, layer = block_output(ResidualBlock, row, training)
        mismatch = compare(out, expected, cases.BLOCK_TOL)
        if mismatch:
            mode = "training" if training else "inference"
            fail(
                f"ResidualBlock does not match the same block built from keras.layers in "
                f"{mode} mode.",
                mismatch,
                _mistake(row, values, x, out, training),
                "main = BN2(Conv2(ReLU(BN1(Conv1(x))))), skip = x or BN_p(Conv_p(x)), output "
                "= ReLU(main + skip); pass `training` on to every batch normalization",
                case=text,
            )
        if not training:
            _judge_without_flag(ResidualBlock, layer, row, values, x, expected)


def require_block(ResidualBlock) -> None:
    """Raise CheckFailed unless the block passes one identity, one channel-changing and one
    strided row in both modes: what the network check asks before it trains anything."""
    rows = cases.BLOCK_CASES["public"][1:3]
    try:
        for training in (True, False):
            judge_rows(ResidualBlock, rows, training)
    except CheckFailed as failure:
        raise CheckFailed(
            f"The network is not trained until its ResidualBlock passes: {failure.headline}",
            failure.details,
            failure.hint,
            failure.picture,
            failure.mistake,
            folds=failure.folds,
        ) from failure

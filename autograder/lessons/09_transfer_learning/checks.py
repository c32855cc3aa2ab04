"""Checks of lesson 09 (transfer learning), called from the notebook's test cells.

Every check raises `CheckFailed` with feedback in the lesson's terms, or prints one OK line.
RandomFlip is judged exactly: flipping only moves values, so every output image of a batch of
random noise is the input, one of its flips, or wrong. Its randomness is judged with stated
false-failure bounds. Each step of the transfer workflow is judged on its own, with the other
steps done by trusted operations (`harness.ops`): the student's function gets a fresh copy of
the shipped pretrained base or a correct model around it, and the check reads back the
weights, the optimizer and the outputs. When grading, every check draws fresh data, seeds and
(hidden) cases (`harness.cases`).
"""

from functools import cache, partial

import numpy as np

from ...compare import Tolerance, compare
from ...contract import (
    check_config_roundtrip,
    check_output_shape,
    check_signature,
    describe_call,
    make_layer,
)
from ...diagnosis import DIAGNOSIS_TOLERANCE
from ...feedback import CheckFailed, passed
from ...guard import ForbiddenOps
from ...harness import cases
from ...student import label, perform, run
from . import mistakes as catalogue

ASSIGNMENT = "09_transfer_learning"

FLIP_OPS = (
    "keras.layers.RandomFlip.get_random_transformation",
    "keras.layers.RandomFlip.transform_images",
    "keras.layers.RandomFlip._flip_inputs",
    "tensorflow.image.flip_left_right",
    "tensorflow.image.flip_up_down",
    "tensorflow.image.random_flip_left_right",
    "tensorflow.image.random_flip_up_down",
    "tensorflow.image.stateless_random_flip_left_right",
    "tensorflow.image.stateless_random_flip_up_down",
)
FLIPS = ForbiddenOps(
    "a built-in random flip",
    FLIP_OPS,
    "this lesson asks you to flip with ops.flip (or a reversed slice such as x[:, :, ::-1]) and "
    "to draw each image's decision yourself with keras.random.uniform",
)

MODES = ("horizontal", "vertical", "horizontal_and_vertical")
WHAT = {
    "unchanged": "left as it was",
    "horizontal": "mirrored left to right (width axis reversed)",
    "vertical": "mirrored top to bottom (height axis reversed)",
    "both": "turned by 180 degrees (both axes reversed)",
    "channels": "given its channels in reverse order",
    "other": "changed into something that is neither the image nor a flip of it",
}

# (mode, input shape, seed) of the modes check: batches of distinct random images.
MODE_CASES = {
    "public": [
        ("horizontal", (64, 5, 7, 2), 1),
        ("vertical", (64, 6, 5, 1), 2),
        ("horizontal_and_vertical", (128, 4, 6, 3), 3),
    ],
    "hidden": [
        ("horizontal", (96, 9, 4, 1), 4),
        ("vertical", (96, 3, 8, 3), 5),
        ("horizontal_and_vertical", (160, 7, 7, 1), 6),
        ("horizontal_and_vertical", (64, 2, 3, 4), 7),
    ],
}
# (mode, input shape, seed) of the per-image check.
# Two channels or more, so that reversing the channels is a change too.
PER_IMAGE_CASES = {
    "public": [("horizontal", (64, 6, 6, 2), 11), ("horizontal_and_vertical", (64, 5, 4, 3), 12)],
    "hidden": [("vertical", (64, 8, 5, 2), 13), ("horizontal", (80, 3, 9, 3), 14)],
}
# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 2

# A correct layer flips each axis of each image with probability 1/2, independently. A count of
# flips outside the central interval of Binomial(n, 1/2) that holds all but FLIP_FALSE_FAILURE
# of the probability fails: at most one correct layer in a billion fails per count.
FLIP_FALSE_FAILURE = 1e-9

# num_classes, images, seed of the TransferModel check.
MODEL_CASES = {"public": [(10, 6, 21)], "hidden": [(3, 5, 22), (24, 4, 23)]}
# Layer names unfreeze_from is called with.
UNFREEZE_CASES = {"public": ["block3_conv"], "hidden": ["block2_conv", "block3_bn", "block2_pool"]}

HEAD_IMAGES, TEST_IMAGES = 100, 300  # 10 labelled images per class; a test set of 30 per class
HEAD_EPOCHS, HEAD_BATCH, HEAD_RATE = 10, 16, 1e-2
TUNE_HEAD_EPOCHS, TUNE_EPOCHS, TUNE_RATE = 6, 5, 1e-4
# Measured over 100 fresh grading seeds (benchmarks/transfer_learning_checks.py): a head trained
# as above on 10 letters per class scores 0.77 on average on 300 test images, never below 0.71;
# 0.55 leaves room for other CPUs and draws. A head that learned nothing scores about 0.10.
HEAD_THRESHOLD = 0.55
# Over the same seeds, fine-tuning block 3 at 1e-4 for 5 epochs changed the test accuracy by
# -0.027 to +0.057; at the head's rate 1e-2 it fell by 0.31 on average (0.09 to 0.55). A drop of
# more than 0.10 means the pretrained weights were damaged.
TUNE_MAX_DROP = 0.10

OUTPUT_TOL = Tolerance(
    1e-5,
    1e-4,
    "the same float32 convolutions, summed in another order by the pooling and the head",
)


def _fail(headline, details, mistake=None, hint=""):
    details = list(details)
    if mistake is not None:
        details.append(mistake.feedback())
    raise CheckFailed(headline, details, hint)


def _noise(shape, seed) -> np.ndarray:
    """Distinct random images (float32): no image equals any of its flips."""
    return np.random.default_rng(cases.seed(seed)).normal(size=shape).astype("float32")


# --- RandomFlip ----------------------------------------------------------------------------------


def _flip_layer(RandomFlip, mode, seed):
    return make_layer(RandomFlip, (), {"mode": mode, "seed": seed}, forbidden=FLIPS)


def _flip(layer, name, x, training, case):
    return run(
        f"{name}(images, training={training})",
        layer,
        x,
        training=training,
        forbidden=FLIPS,
        case=case,
    )


def _check_images(out, x, name, case):
    """The output has the input's shape and is float32."""
    out = np.asarray(out)
    if out.shape != x.shape:
        raise CheckFailed(
            f"{name} returns shape {out.shape}; expected the input's shape {x.shape}.",
            [f"case: {case}"],
            "flipping keeps the shape: (batch, height, width, channels) in and out",
        )
    if out.dtype != np.float32:
        raise CheckFailed(
            f"{name} returns {out.dtype} images; expected float32, the layer's dtype.",
            [f"case: {case}"],
            "cast the inputs with ops.cast(inputs, self.compute_dtype) and keep that dtype",
        )


def check_random_flip_contract(RandomFlip):
    """Constructor, call signature, output shape, config and dtype behave like Keras's layer."""
    import keras

    check_signature(
        RandomFlip, keras.layers.RandomFlip, ("mode", "seed", "data_format"), forbidden=FLIPS
    )
    params = perform(f"{label(RandomFlip)}.call", "signature", RandomFlip, "call", forbidden=FLIPS)
    defaults = {name: default for name, _kind, default in params}
    if defaults.get("training", "<missing>") is not True:
        found = defaults.get("training", "<missing>")
        raise CheckFailed(
            f"{label(RandomFlip)}.call has training={found!r}; Keras's RandomFlip.call has "
            "training=True.",
            [f"your call arguments: {[name for name, _k, _d in params]}"],
            "write def call(self, inputs, training=True): as in Keras, a direct call flips, and "
            "fit, predict and evaluate pass training explicitly",
        )
    for mode in MODES:
        layer = _flip_layer(RandomFlip, mode, 3)
        for shape in ((None, 28, 28, 1), (4, 9, 7, 3)):
            check_output_shape(layer, shape, shape, "flipping keeps the shape", forbidden=FLIPS)
        check_config_roundtrip(layer, ("mode", "seed", "data_format"), forbidden=FLIPS)
    symbolic = perform(
        "RandomFlip() on a symbolic keras.Input((28, 28, 1))",
        "symbolic_output",
        RandomFlip,
        (None, 28, 28, 1),
        forbidden=FLIPS,
    )
    if tuple(symbolic.shape) != (None, 28, 28, 1):
        raise CheckFailed(
            f"RandomFlip() on keras.Input((28, 28, 1)) gives shape {tuple(symbolic.shape)}; "
            "expected (None, 28, 28, 1).",
            [],
        )
    x = _noise((2, 5, 6, 3), 31)
    layer = _flip_layer(RandomFlip, "horizontal_and_vertical", 4)
    for training in (True, False):
        case = f"RandomFlip() on float32 images {x.shape}, training={training}"
        _check_images(_flip(layer, "RandomFlip()", x, training, case), x, "RandomFlip()", case)
    passed("RandomFlip has Keras's arguments, call signature, output shape, config and dtype")


def flip_count_bounds(n: int) -> tuple[int, int]:
    """The counts of flips (of n images, each flipped with probability 1/2) a correct layer
    stays within but for a probability of FLIP_FALSE_FAILURE."""
    from scipy.stats import binom

    low = int(binom.ppf(FLIP_FALSE_FAILURE / 2, n, 0.5))
    high = int(binom.isf(FLIP_FALSE_FAILURE / 2, n, 0.5))
    return low, high


def _draw_flip_case(rng, min_channels=1):
    """A fresh (mode, input shape, seed): 64 to 160 images of 2 to 11 pixels a side."""
    mode = MODES[int(rng.integers(len(MODES)))]
    height, width = (int(v) for v in rng.integers(2, 12, size=2))
    channels = int(rng.integers(min_channels, 5))
    return mode, (int(rng.integers(64, 161)), height, width, channels), 0


def check_random_flip_modes(RandomFlip, hidden=False):
    """Each mode flips only the axes it names, each image with probability 1/2."""
    kind = "hidden" if hidden else "public"
    table = cases.pick(MODE_CASES[kind], _draw_flip_case, EXTRA_HIDDEN if hidden else 0)
    for mode, shape, seed in table:
        name = describe_call(label(RandomFlip), (), {"mode": mode})
        case = f"{name} on {shape[0]} random images of shape {shape[1:]}, training=True"
        x = _noise(shape, seed)
        out = _flip(_flip_layer(RandomFlip, mode, cases.seed(seed)), name, x, True, case)
        _check_images(out, x, name, case)
        found = catalogue.outcomes(out, x)
        bad = [i for i, outcome in enumerate(found) if outcome not in catalogue.ALLOWED[mode]]
        if bad:
            first = bad[0]
            allowed = " or ".join(WHAT[o] for o in catalogue.ALLOWED[mode])
            _fail(
                f"{name} makes images that mode {mode!r} does not allow.",
                [
                    f"case: {case}",
                    f"{len(bad)} of {len(found)} images; first: image {first} was "
                    f"{WHAT[found[first]]}",
                    f"allowed for {mode!r}: each image {allowed}",
                ],
                catalogue.mode_mistake(mode, found),
                "horizontal = reverse the width (axis 2), vertical = reverse the height (axis 1)",
            )
        low, high = flip_count_bounds(len(found))
        for axis, reverses, wanted in (
            ("width", catalogue.REVERSES_WIDTH, mode != "vertical"),
            ("height", catalogue.REVERSES_HEIGHT, mode != "horizontal"),
        ):
            count = sum(reverses[outcome] for outcome in found)
            if wanted and not low <= count <= high:
                alike = len(set(found)) == 1
                _fail(
                    f"{name} reversed the {axis} of {count} of {len(found)} images; each image "
                    f"should be flipped with probability 1/2.",
                    [
                        f"case: {case}",
                        f"a correct layer stays within {low}..{high} (fails by chance less than "
                        f"once in {1 / FLIP_FALSE_FAILURE:,.0f} runs)",
                    ],
                    catalogue.BATCH_FLIP if alike else None,
                    "flip where keras.random.uniform((batch, 1, 1, 1), seed=self.generator) < 0.5",
                )
    passed(
        f"RandomFlip flips the axes each mode names, about half of the images ({len(table)} cases)"
    )


def check_random_flip_per_image(RandomFlip, hidden=False):
    """Each image decides on its own; calls draw new decisions; the same seed gives the same
    decisions."""
    kind = "hidden" if hidden else "public"
    draw = partial(_draw_flip_case, min_channels=2)
    table = cases.pick(PER_IMAGE_CASES[kind], draw, EXTRA_HIDDEN if hidden else 0)
    for mode, shape, seed in table:
        layer_seed = cases.seed(seed)
        name = describe_call(label(RandomFlip), (), {"mode": mode, "seed": layer_seed})
        case = f"{name} on {shape[0]} random images of shape {shape[1:]}, training=True"
        x = _noise(shape, seed)
        layer = _flip_layer(RandomFlip, mode, layer_seed)
        first = _flip(layer, name, x, True, case)
        _check_images(first, x, name, case)
        decisions = [outcome != "unchanged" for outcome in catalogue.outcomes(first, x)]
        if len(set(decisions)) == 1:
            _fail(
                f"{name} treats the whole batch alike: "
                f"{'every' if decisions[0] else 'no'} image of {len(decisions)} was flipped.",
                [
                    f"case: {case}",
                    f"a correct layer does this by chance with probability below 2^-{len(x) - 1}",
                ],
                catalogue.BATCH_FLIP,
            )
        second = _flip(layer, name, x, True, case + ", called a second time")
        again = [outcome != "unchanged" for outcome in catalogue.outcomes(second, x)]
        if again == decisions:
            _fail(
                f"{name} flips the same images at every call.",
                [
                    f"case: {case}, called twice on the same batch",
                    f"both calls flipped exactly the images {_listing(decisions)}",
                ],
                catalogue.SAME_FLIPS_EVERY_CALL,
            )
        twin = _flip_layer(RandomFlip, mode, layer_seed)
        replay = np.asarray(_flip(twin, name, x, True, case + ", a new layer with the same seed"))
        if not np.array_equal(replay, np.asarray(first)):
            raise CheckFailed(
                f"Two {name} layers flip different images on their first call.",
                [f"case: {case}; a new layer with the same seed, called on the same batch"],
                "create self.generator = keras.random.SeedGenerator(seed) in __init__ and pass "
                "seed=self.generator to keras.random.uniform: the same seed then gives the same "
                "flips, call after call",
            )
    passed(
        f"RandomFlip decides image by image, anew at every call, reproducibly by seed "
        f"({len(table)} cases)"
    )


def _listing(decisions) -> str:
    flipped = [i for i, d in enumerate(decisions) if d]
    text = ", ".join(map(str, flipped[:8]))
    return text + (", ..." if len(flipped) > 8 else "") if flipped else "(none)"


def check_random_flip_inference(RandomFlip):
    """training=False, and `predict`, pass the images through unchanged in every mode."""
    x = _noise((16, 9, 7, 2), 41)
    for mode in MODES:
        name = describe_call(label(RandomFlip), (), {"mode": mode})
        layer = _flip_layer(RandomFlip, mode, cases.seed(5))
        direct = _flip(layer, name, x, False, f"{name} on {x.shape}, training=False")
        predicted = perform(
            f"{name} inside model.predict",
            "predict_through_model",
            layer,
            x,
            forbidden=FLIPS,
            case=f"keras.Sequential([keras.Input(...), {name}]).predict(images {x.shape})",
        )
        for how, out in (("training=False", direct), ("model.predict", predicted)):
            out = np.asarray(out)
            _check_images(out, x, name, f"{how}, images {x.shape}")
            if not np.array_equal(out, x):
                found = catalogue.outcomes(out, x)
                changed = sum(outcome != "unchanged" for outcome in found)
                _fail(
                    f"{name} changes images at inference ({how}).",
                    [f"{changed} of {len(found)} images were not returned unchanged"],
                    catalogue.FLIPS_AT_INFERENCE if "other" not in found else None,
                    "with training=False, return the inputs (cast to self.compute_dtype)",
                )
    passed("RandomFlip returns the images unchanged at inference, in every mode")


# --- the pretrained base and models around it ----------------------------------------------------


@cache
def _local_base():
    """A copy of the pretrained base in the grader, never changed: the oracle of the features."""
    from course import pretrained

    return pretrained.load_base()


@cache
def _base_layers() -> tuple[str, ...]:
    return tuple(layer.name for layer in _local_base().layers)


def base_parameters() -> int:
    return int(_local_base().count_params())


def features(x, preprocess=True) -> np.ndarray:
    """Global average of the pretrained base's feature maps (inference mode), float64."""
    from course import pretrained

    inputs = pretrained.preprocess_input(np.asarray(x, "float32")) if preprocess else x
    maps = np.asarray(_local_base()(np.asarray(inputs, "float32"), training=False))
    return maps.astype(np.float64).mean(axis=(1, 2))


def head_output(feats, kernel, bias, softmax=True) -> np.ndarray:
    logits = feats @ np.asarray(kernel, np.float64) + np.asarray(bias, np.float64)
    if not softmax:
        return logits
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _target(n, seed):
    from course import pretrained

    return pretrained.target_data(n, seed=cases.seed(seed))


def _fresh_base(near, frozen=True):
    """A new copy of the pretrained base where the student's object `near` lives."""
    base = perform("loading the pretrained base", "pretrained_base", near, forbidden=FLIPS)
    if frozen:
        perform("freezing the base", "set_trainable", base, False, forbidden=FLIPS)
    return base


def _variables(target, what, values=True) -> list[dict]:
    return perform(f"the weights of {what}", "variables", target, values=values, forbidden=FLIPS)


def _parameters(infos, trainable) -> int:
    return int(sum(np.prod(i["shape"]) for i in infos if i["trainable"] == trainable))


def _changed(before, after) -> list[str]:
    """Paths of the weights whose values differ between two `variables` listings."""
    return [
        b["path"]
        for b, a in zip(before, after, strict=True)
        if not np.array_equal(b["value"], a["value"])
    ]


def _names(paths, limit=4) -> str:
    return ", ".join(paths[:limit]) + (
        f" and {len(paths) - limit} more" if len(paths) > limit else ""
    )


def _is_statistic(path: str) -> bool:
    return path.endswith(("moving_mean", "moving_variance"))


def _accuracy(model, x, y, what) -> float:
    probabilities = np.asarray(run(what, model, x, training=False, forbidden=FLIPS))
    return float(np.mean(np.argmax(probabilities, axis=1) == y))


# --- freeze --------------------------------------------------------------------------------------


def check_freeze(freeze):
    """freeze(base) leaves no trainable weight, and neither a call in training mode nor
    training a head on it changes any."""
    base = _fresh_base(freeze, frozen=False)
    run("freeze(base)", freeze, base, forbidden=FLIPS, case="freeze(base) on the pretrained base")
    infos = _variables(base, "the base")
    trainable = [i["path"] for i in infos if i["trainable"]]
    if trainable:
        _fail(
            f"After freeze(base), {len(trainable)} of the base's {len(infos)} weights are still "
            "trainable.",
            [
                f"still trainable: {_names(trainable)}",
                f"trainable parameters: {_parameters(infos, True):,}; expected 0 (and "
                f"{base_parameters():,} non-trainable)",
            ],
            catalogue.BASE_NOT_FROZEN,
        )
    images, _ = _target(8, 54)
    run(
        "your frozen base, called with training=True",
        base,
        np.asarray(images, "float32") * 2.0 - 1.0,  # pretrained.preprocess_input
        training=True,
        forbidden=FLIPS,
        case="base(images, training=True) on 8 preprocessed target images",
    )
    changed = _changed(infos, _variables(base, "the base"))
    if changed:
        _fail(
            f"After freeze(base), base(images, training=True) changed {len(changed)} of the "
            "base's weights.",
            [f"changed: {_names(changed)}"],
            catalogue.WEIGHTS_FROZEN_LAYERS_NOT,
        )
    x, y = _target(60, 51)
    model = perform(
        "a new head on your frozen base",
        "transfer_model",
        base,
        10,
        seed=cases.seed(52),
        forbidden=FLIPS,
    )
    perform(
        "training a new head on your frozen base",
        "compile_fit",
        model,
        x,
        y,
        learning_rate=HEAD_RATE,
        epochs=2,
        batch_size=HEAD_BATCH,
        seed=cases.seed(53),
        forbidden=FLIPS,
    )
    changed = _changed(infos, _variables(base, "the base"))
    if changed:
        _fail(
            f"Training a head on the frozen base changed {len(changed)} of the base's weights.",
            [f"changed: {_names(changed)}"],
            catalogue.BASE_NOT_FROZEN,
        )
    passed(
        f"freeze(base): 0 trainable and {base_parameters():,} non-trainable parameters; "
        "base(images, training=True) and fitting a new head on it leave every weight of the "
        "base as it was"
    )


# --- TransferModel -------------------------------------------------------------------------------


def _head_weights(model, base_paths, num_classes, what):
    """The (kernel, bias) of the model's new Dense head, and all its weights outside the base."""
    infos = _variables(model, what)
    outside = [i for i in infos if i["path"] not in base_paths]
    width = _local_base().output.shape[-1]
    kernels = [i for i in outside if tuple(i["shape"]) == (width, num_classes)]
    biases = [i for i in outside if tuple(i["shape"]) == (num_classes,)]
    if len(kernels) != 1 or len(biases) != 1:
        listing = ", ".join(f"{i['path']} {tuple(i['shape'])}" for i in outside) or "none"
        raise CheckFailed(
            f"{what} has no single Dense head from the base's {width} pooled features to "
            f"{num_classes} classes.",
            [
                f"its weights outside the base: {listing}",
                f"expected exactly a kernel ({width}, {num_classes}) and a bias ({num_classes},)",
            ],
            "pool the base's feature maps with GlobalAveragePooling2D (-> (batch, "
            f"{width})), then one Dense(num_classes, activation='softmax')",
        )
    return kernels[0]["value"], biases[0]["value"], infos


def _diagnose_output(out, x, kernel, bias):
    """The catalogued mistake an output of a TransferModel shows, if any."""
    out = np.asarray(out, np.float64)
    for mistake, preprocess, softmax in (
        (catalogue.PREPROCESSING_SKIPPED, False, True),
        (catalogue.NO_SOFTMAX, True, False),
        (catalogue.PREPROCESSING_SKIPPED, False, False),
    ):
        wrong = head_output(features(x, preprocess), kernel, bias, softmax)
        if compare(out, wrong, DIAGNOSIS_TOLERANCE) is None:
            return mistake
    return None


def _draw_model_case(rng):
    return int(rng.integers(2, 31)), int(rng.integers(2, 9)), 0


def check_transfer_model(TransferModel, hidden=False):
    """The head sits on the pooled features of the preprocessed images; only it is trainable
    on a frozen base; augmentation runs in training only; the base stays in inference mode."""
    kind = "hidden" if hidden else "public"
    table = cases.pick(MODEL_CASES[kind], _draw_model_case, EXTRA_HIDDEN if hidden else 0)
    base_paths = {i["path"] for i in _variables(_local_base(), "the base", values=False)}
    for num_classes, n, seed in table:
        base = _fresh_base(TransferModel)
        call = f"{label(TransferModel)}(base, {num_classes})"
        model = run(call, TransferModel, base, num_classes, forbidden=FLIPS)
        x, _ = _target(n, seed)
        case = f"{call} on {n} target images, training=False"
        out = np.asarray(
            run(
                f"{call}(images, training=False)",
                model,
                x,
                training=False,
                forbidden=FLIPS,
                case=case,
            )
        )
        if out.shape != (n, num_classes):
            raise CheckFailed(
                f"{call} gives outputs of shape {out.shape}; expected {(n, num_classes)}.",
                [f"case: {case}", "output shape = (batch, num_classes): one probability per class"],
            )
        kernel, bias, infos = _head_weights(model, base_paths, num_classes, call)
        expected = head_output(features(x), kernel, bias)
        mismatch = compare(out, expected, OUTPUT_TOL, name="probabilities")
        if mismatch:
            _fail(
                f"{call} does not compute softmax(Dense(GlobalAveragePooling2D(base("
                "preprocess_input(images))))).",
                [f"case: {case}", *mismatch.lines],
                _diagnose_output(out, x, kernel, bias),
            )
        head = int(np.prod(kernel.shape) + np.prod(bias.shape))
        trainable, frozen = _parameters(infos, True), _parameters(infos, False)
        if (trainable, frozen) != (head, base_parameters()):
            raise CheckFailed(
                f"{call} on a frozen base has {trainable:,} trainable and {frozen:,} "
                "non-trainable parameters.",
                [
                    f"expected {head:,} trainable (the head: {kernel.shape[0]} x {num_classes} "
                    f"+ {num_classes}) and {base_parameters():,} non-trainable (the base)",
                ],
                "keep the base as it is given (frozen) and add only the pooling and Dense layers",
            )
        _check_augmentation(TransferModel, base, num_classes, x, base_paths)
        _check_base_mode(model, base, call, x)
    passed(
        f"TransferModel: head on the pooled features of preprocessed images, only the head "
        f"trainable, augmentation in training only, base in inference mode ({len(table)} "
        "cases)"
    )


def _check_augmentation(TransferModel, base, num_classes, x, base_paths):
    """The augmentation runs (with training true) when the model trains, and not at inference.

    Judged by what a test augmentation saw, so that a head with Dropout (random in training)
    passes too; only a training output equal to the un-augmented one is judged by value.
    """
    mirror = perform("a test augmentation layer", "mirror_layer", TransferModel, forbidden=FLIPS)
    call = f"{label(TransferModel)}(base, {num_classes}, augmentation=mirror)"
    model = run(call, TransferModel, base, num_classes, augmentation=mirror, forbidden=FLIPS)
    note = (
        "mirror is a test augmentation that reverses the width of the images when called with "
        "training=True (its default, like RandomFlip's) and leaves them alone with training=False"
    )
    outputs = {}
    seen = {}
    for training in (False, True):
        what = f"{call}(images, training={training})"
        outputs[training] = np.asarray(run(what, model, x, training=training, forbidden=FLIPS))
        so_far = perform("what mirror saw", "call", mirror.flips, forbidden=FLIPS)
        seen[training] = so_far[len(seen.get(False, [])) :]
    if any(seen[False]):
        _fail(
            f"{call} with training=False applies the augmentation.",
            [note, f"mirror mirrored the images in {sum(seen[False])} call(s) at inference"],
            catalogue.AUGMENTATION_AT_INFERENCE,
            "call self.augmentation(x, training=training)",
        )
    kernel, bias, _ = _head_weights(model, base_paths, num_classes, call)
    plain = head_output(features(x), kernel, bias)
    unused = compare(outputs[True], plain, OUTPUT_TOL) is None
    if not any(seen[True]) or unused:
        detail = (
            "mirror mirrored the images, but the outputs are those of the un-mirrored images"
            if any(seen[True])
            else "mirror was never called to mirror the images"
        )
        _fail(
            f"{call} with training=True does not train on augmented images.",
            [note, detail],
            catalogue.AUGMENTATION_IGNORED,
            "x = self.augmentation(x, training=training) first, when it is not None",
        )


def _check_base_mode(model, base, call, x):
    """With the base unfrozen, a training call leaves its BatchNormalization statistics alone."""
    perform("unfreezing the base", "set_trainable", base, True, forbidden=FLIPS)
    before = _variables(base, "the base")
    case = f"{call} on {len(x)} images, training=True, base unfrozen as for fine-tuning"
    run(f"{call}(images, training=True)", model, x, training=True, forbidden=FLIPS, case=case)
    moved = [p for p in _changed(before, _variables(base, "the base")) if _is_statistic(p)]
    if moved:
        _fail(
            f"{call} runs the base's BatchNormalization in training mode.",
            [f"case: {case}", f"BatchNormalization statistics changed: {_names(moved)}"],
            catalogue.BASE_IN_TRAINING_MODE,
            "call the base as self.base(x, training=False), whatever the model's training flag",
        )


# --- train_head ----------------------------------------------------------------------------------


def _steps(images, epochs, batch_size) -> int:
    return epochs * -(-images // batch_size)


def _check_compiled(state, what, rate, steps):
    if state is None:
        raise CheckFailed(
            f"{what} did not compile the model.",
            [],
            "call model.compile(optimizer=keras.optimizers.Adam(learning_rate), ...)",
        )
    if state["class"] != "Adam" or not np.isclose(state["learning_rate"], rate, rtol=1e-6):
        found = f"{state['class']}(learning_rate={state['learning_rate']:g})"
        return f"compiled with {found}; expected Adam(learning_rate={rate:g})"
    if state["iterations"] != steps:
        return (
            f"took {state['iterations']} training steps; the given epochs and batch_size "
            f"make {steps}"
        )
    return None


def check_train_head(train_head, hidden=False):
    """A new head trained on 10 labelled letters per class beats HEAD_THRESHOLD on the test set;
    the model is compiled and fitted as asked; the frozen base does not change."""
    if hidden:  # other epochs, batch size and learning rate: nothing may be hard-wired
        images, epochs, batch_size, rate, seed = 50, 3, 25, 3e-3, 63
    else:
        images, epochs, batch_size, rate, seed = HEAD_IMAGES, HEAD_EPOCHS, HEAD_BATCH, HEAD_RATE, 62
    base = _fresh_base(train_head)
    model = perform(
        "a new model on the frozen base",
        "transfer_model",
        base,
        10,
        seed=cases.seed(seed),
        forbidden=FLIPS,
    )
    x, y = _target(images, seed)
    what = (
        f"train_head(model, x, y, epochs={epochs}, batch_size={batch_size}, learning_rate={rate:g})"
    )
    before = _variables(base, "the base")
    run(
        what,
        train_head,
        model,
        x,
        y,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=rate,
        forbidden=FLIPS,
        case=f"{images} labelled target images, a new head on the frozen base",
    )
    state = perform("the model's optimizer", "optimizer_state", model, forbidden=FLIPS)
    problem = _check_compiled(state, what, rate, _steps(images, epochs, batch_size))
    if problem:
        raise CheckFailed(
            f"{what} does not train as asked.",
            [problem],
            "compile with keras.optimizers.Adam(learning_rate), then "
            "model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)",
        )
    changed = _changed(before, _variables(base, "the base"))
    if changed:
        raise CheckFailed(
            f"{what} changed the frozen base.",
            [f"changed: {_names(changed)}"],
            "train_head only compiles and fits; it does not unfreeze anything",
        )
    if hidden:
        passed(f"train_head honours epochs, batch_size and learning_rate ({what})")
        return
    x_test, y_test = _target(TEST_IMAGES, 64)
    score = _accuracy(model, x_test, y_test, "the trained model")
    if score < HEAD_THRESHOLD:
        raise CheckFailed(
            f"After {what}, the model scores {score:.2f} on {TEST_IMAGES} test images; expected "
            f"at least {HEAD_THRESHOLD}.",
            [
                f"a correct train_head scores about 0.8 here (chance: 0.10); {images} labelled "
                "images, 10 per class"
            ],
            "use loss='sparse_categorical_crossentropy' (the labels are class numbers) and "
            "keras.optimizers.Adam(learning_rate)",
        )
    passed(
        f"train_head: the head scores {score:.2f} on {TEST_IMAGES} test images after {epochs} "
        f"epochs on {images} labels; the base is unchanged"
    )


# --- unfreeze_from -------------------------------------------------------------------------------


def _draw_unfreeze_case(rng):
    names = [name for name in _base_layers() if name != _base_layers()[0]]
    return names[int(rng.integers(len(names)))]


def check_unfreeze_from(unfreeze_from, hidden=False):
    """Exactly the layers from the given one on are trainable (BatchNormalization statistics
    never are)."""
    kind = "hidden" if hidden else "public"
    table = cases.pick(UNFREEZE_CASES[kind], _draw_unfreeze_case, EXTRA_HIDDEN if hidden else 0)
    layers = _base_layers()
    for name in table:
        base = _fresh_base(unfreeze_from)
        what = f"unfreeze_from(base, {name!r})"
        run(what, unfreeze_from, base, name, forbidden=FLIPS, case=f"{what} on the frozen base")
        infos = _variables(base, "the base", values=False)
        start = layers.index(name)
        wrong = []
        for info in infos:
            layer = info["path"].split("/")[0]
            wanted = layers.index(layer) >= start and not _is_statistic(info["path"])
            if info["trainable"] != wanted:
                wrong.append(f"{info['path']} is {'trainable' if info['trainable'] else 'frozen'}")
        if wrong:
            expected = sum(
                int(np.prod(i["shape"]))
                for i in infos
                if layers.index(i["path"].split("/")[0]) >= start and not _is_statistic(i["path"])
            )
            mistake = catalogue.BASE_LEFT_FROZEN if _parameters(infos, True) == 0 else None
            _fail(
                f"After {what}, {len(wrong)} of the base's weights have the wrong trainable flag.",
                [
                    f"first: {'; '.join(wrong[:3])}",
                    f"trainable parameters: {_parameters(infos, True):,}; expected {expected:,} "
                    f"(layers {', '.join(layers[start:])})",
                ],
                mistake,
            )
    passed(
        f"unfreeze_from makes exactly the layers from the given one on trainable ({len(table)} "
        "cases)"
    )


# --- fine_tune -----------------------------------------------------------------------------------


def check_fine_tune(fine_tune):
    """After the head is trained and block 3 unfrozen, fine_tune recompiles at the given low
    rate, trains the unfrozen weights only, and keeps the accuracy."""
    base = _fresh_base(fine_tune)
    model = perform(
        "a new model on the frozen base",
        "transfer_model",
        base,
        10,
        seed=cases.seed(71),
        forbidden=FLIPS,
    )
    x, y = _target(HEAD_IMAGES, 72)
    x_test, y_test = _target(TEST_IMAGES, 73)
    perform(
        "training the head",
        "compile_fit",
        model,
        x,
        y,
        learning_rate=HEAD_RATE,
        epochs=TUNE_HEAD_EPOCHS,
        batch_size=HEAD_BATCH,
        seed=cases.seed(74),
        forbidden=FLIPS,
    )
    before_score = _accuracy(model, x_test, y_test, "the model with a trained head")
    perform(
        "unfreezing block 3", "set_trainable", base, True, from_layer="block3_conv", forbidden=FLIPS
    )
    head_state = perform("the model's optimizer", "optimizer_state", model, forbidden=FLIPS)
    before = _variables(base, "the base")
    what = (
        f"fine_tune(model, x, y, epochs={TUNE_EPOCHS}, batch_size={HEAD_BATCH}, "
        f"learning_rate={TUNE_RATE:g})"
    )
    run(
        what,
        fine_tune,
        model,
        x,
        y,
        epochs=TUNE_EPOCHS,
        batch_size=HEAD_BATCH,
        learning_rate=TUNE_RATE,
        forbidden=FLIPS,
        case="the head trained, layers from block3_conv on unfrozen",
    )
    after = _variables(base, "the base")
    state = perform("the model's optimizer", "optimizer_state", model, forbidden=FLIPS)
    changed = set(_changed(before, after))
    unfrozen = [i["path"] for i in before if i["trainable"]]
    frozen = [i["path"] for i in before if not i["trainable"]]
    if not changed & set(unfrozen):
        ran = state["iterations"] > head_state["iterations"]
        same = np.isclose(state["learning_rate"], head_state["learning_rate"])
        _fail(
            f"{what} leaves the unfrozen weights of the base as they were.",
            [
                f"unfrozen, unchanged: {_names(unfrozen)}",
                "the optimizer took "
                f"{state['iterations'] - head_state['iterations']} more steps with the head's "
                f"learning rate {head_state['learning_rate']:g}"
                if ran and same
                else "the model did not train",
            ],
            catalogue.NO_RECOMPILE if ran and same else None,
        )
    if changed & set(frozen):
        moved = sorted(changed & set(frozen))
        statistics = [p for p in moved if _is_statistic(p)]
        raise CheckFailed(
            f"{what} changed weights that were frozen.",
            [f"changed: {_names(moved)}"],
            "fine_tune only recompiles and fits; it does not change what is trainable"
            if not statistics
            else "BatchNormalization statistics moved: do not call the model in training mode "
            "outside fit",
        )
    problem = _check_compiled(state, what, TUNE_RATE, _steps(HEAD_IMAGES, TUNE_EPOCHS, HEAD_BATCH))
    if problem:
        too_high = state["learning_rate"] is not None and state["learning_rate"] > TUNE_RATE * 1.01
        _fail(
            f"{what} does not fine-tune as asked.",
            [problem],
            catalogue.FINE_TUNE_RATE_TOO_HIGH if too_high else None,
            "compile again with keras.optimizers.Adam(learning_rate), then fit with the given "
            "epochs and batch_size",
        )
    after_score = _accuracy(model, x_test, y_test, "the fine-tuned model")
    if after_score < before_score - TUNE_MAX_DROP:
        _fail(
            f"{what} drops the test accuracy from {before_score:.2f} to {after_score:.2f}.",
            [f"a correct fine-tuning moves it by less than {TUNE_MAX_DROP:.2f}"],
            catalogue.FINE_TUNE_RATE_TOO_HIGH,
        )
    passed(
        f"fine_tune: recompiled at {TUNE_RATE:g}, block 3 trained, the rest unchanged; test "
        f"accuracy {before_score:.2f} -> {after_score:.2f}"
    )

"""Checks of lesson 09 (transfer learning), called from the notebook's test cells.

RandomFlip is judged exactly: flipping only moves values, so every output image of a batch of
random noise is the input, one of its flips, or wrong. Its randomness is judged with stated
false-failure bounds (`cases.py`). The transfer workflow's checks are in `workflow.py` and
`transfer_model.py`.
"""

import numpy as np

from ...contract import Contract, check_config_roundtrip, describe_call, make_layer
from ...feedback import CheckFailed, fail, passed
from ...harness import cases as drawn
from ...student import label
from . import cases
from . import mistakes as catalogue
from .cases import (  # noqa: F401  (the tests read them here)
    FLIP_FALSE_FAILURE,
    FLIPS,
    MODES,
    OUTPUT_TOL,
    features,
    flip_count_bounds,
    head_output,
    perform,
    run,
)
from .transfer_model import check_transfer_model  # noqa: F401
from .workflow import (  # noqa: F401
    check_fine_tune,
    check_freeze,
    check_train_head,
    check_unfreeze_from,
)

AXES_HINT = "horizontal = reverse the width (axis 2), vertical = reverse the height (axis 1)"


def _flip_layer(RandomFlip, mode, seed):
    return make_layer(RandomFlip, (), {"mode": mode, "seed": seed}, forbidden=FLIPS)


def _flip(layer, name, x, training, case):
    return run(f"{name}(images, training={training})", layer, x, training=training, case=case)


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


def _call_and_dtype(RandomFlip):
    """The steps of the contract Keras's own test of RandomFlip adds: call() defaults to
    training=True, and both modes keep the layer's float32 dtype."""
    params = perform(f"{label(RandomFlip)}.call", "signature", RandomFlip, "call")
    found = {name: default for name, _kind, default in params}.get("training", "<missing>")
    if found is not True:
        raise CheckFailed(
            f"{label(RandomFlip)}.call has training={found!r}; Keras's RandomFlip.call has "
            "training=True.",
            [f"your call arguments: {[name for name, _k, _d in params]}"],
            "write def call(self, inputs, training=True): as in Keras, a direct call flips, and "
            "fit, predict and evaluate pass training explicitly",
        )
    for mode in cases.MODES:
        layer = _flip_layer(RandomFlip, mode, 3)
        check_config_roundtrip(layer, ("mode", "seed", "data_format"), forbidden=FLIPS)
    x = cases.noise((2, 5, 6, 3), 31)
    layer = _flip_layer(RandomFlip, "horizontal_and_vertical", 4)
    for training in (True, False):
        case = f"RandomFlip() on float32 images {x.shape}, training={training}"
        _check_images(_flip(layer, "RandomFlip()", x, training, case), x, "RandomFlip()", case)


check_random_flip_contract = Contract(
    "RandomFlip",
    "RandomFlip",
    ("mode", "seed", "data_format"),
    FLIPS,
    extra=_call_and_dtype,
    output_shapes=tuple(
        ((), {"mode": mode, "seed": 3}, ((None, 28, 28, 1), (4, 9, 7, 3))) for mode in cases.MODES
    ),
    formula="flipping keeps the shape",
    symbolic=((), {}, (None, 28, 28, 1)),
    passed="RandomFlip has Keras's arguments, call signature, output shape, config and dtype",
)


def check_random_flip_modes(RandomFlip, hidden=False):
    """Each mode flips only the axes it names, each image with probability 1/2."""
    table = cases.mode_cases(hidden)
    for mode, shape, seed in table:
        name = describe_call(label(RandomFlip), (), {"mode": mode})
        case = f"{name} on {shape[0]} random images of shape {shape[1:]}, training=True"
        x = cases.noise(shape, seed)
        layer = _flip_layer(RandomFlip, mode, drawn.seed(seed))
        out = _flip(layer, name, x, True, case)
        _check_images(out, x, name, case)
        found = catalogue.outcomes(out, x)
        bad = [i for i, outcome in enumerate(found) if outcome not in catalogue.ALLOWED[mode]]
        if bad:
            first = bad[0]
            allowed = " or ".join(cases.WHAT[o] for o in catalogue.ALLOWED[mode])
            fail(
                f"{name} makes images that mode {mode!r} does not allow.",
                [
                    f"case: {case}",
                    f"{len(bad)} of {len(found)} images; first: image {first} was "
                    f"{cases.WHAT[found[first]]}",
                    f"allowed for {mode!r}: each image {allowed}",
                ],
                catalogue.mode_mistake(mode, found),
                AXES_HINT,
            )
        low, high = cases.flip_count_bounds(len(found))
        for axis, reverses, wanted in (
            ("width", catalogue.REVERSES_WIDTH, mode != "vertical"),
            ("height", catalogue.REVERSES_HEIGHT, mode != "horizontal"),
        ):
            count = sum(reverses[outcome] for outcome in found)
            if wanted and not low <= count <= high:
                mistake = _alike(layer, name, x, found, case) if len(set(found)) == 1 else None
                fail(
                    f"{name} reversed the {axis} of {count} of {len(found)} images; each image "
                    f"should be flipped with probability 1/2.",
                    [
                        f"case: {case}",
                        f"a correct layer stays within {low}..{high} (fails by chance less than "
                        f"once in {1 / cases.FLIP_FALSE_FAILURE:,.0f} runs)",
                    ],
                    mistake,
                    AXES_HINT
                    if mistake is catalogue.NEVER_FLIPS
                    else "flip where keras.random.uniform((batch, 1, 1, 1), seed=self.generator) "
                    "< 0.5",
                )
        if mode == "horizontal_and_vertical":
            _require_some_unchanged(found, name, case)
    passed(
        f"RandomFlip flips the axes each mode names, about half of the images ({len(table)} cases)"
    )


def _alike(layer, name, x, found, case):
    """The mistake of a call that treated every image alike. When it changed none, 20 more calls
    on 8 of the images tell one decision for the batch (which flips it with probability 1/2 or
    more at each call: misnamed with probability 2^-20 at most) from a mode that never flips."""
    if set(found) != {"unchanged"}:
        return catalogue.BATCH_FLIP
    what = f"{name}, called 20 more times"
    outputs = perform(what, "repeated_calls", layer, x[:8], times=20, training=True, case=case)
    if all(np.array_equal(np.asarray(out), x[:8]) for out in outputs):
        return catalogue.NEVER_FLIPS
    return catalogue.BATCH_FLIP


def _same_flips(RandomFlip, mode, layer_seed, x, case):
    """The mistake of a layer that flipped the same images at two calls: decisions kept on self
    from the first call (a new layer's generator moved on at its first call only, or a call
    left a tensor on it), else an integer seed drawn from at every call."""
    layer = _flip_layer(RandomFlip, mode, layer_seed)
    if perform(f"{describe_call(label(RandomFlip), (), {'mode': mode})}, called twice",
               "keeps_first_draw", layer, x, case=case):  # fmt: skip
        return catalogue.FLIPS_KEPT_ON_SELF
    return catalogue.SAME_FLIPS_EVERY_CALL


def _require_some_unchanged(found, name, case):
    """In mode "horizontal_and_vertical" an image is left as it was with probability 1/4 (each
    axis on its own) or 1/2 (Keras 3's one decision for both): too few unchanged fails."""
    fewest = cases.flip_count_bounds(len(found), 0.25)[0]
    unchanged = found.count("unchanged")
    if unchanged < fewest:
        fail(
            f"{name} leaves {unchanged} of {len(found)} images unchanged; each image should be "
            "left as it was with probability 1/4 or more.",
            [
                f"case: {case}",
                f"a correct layer leaves at least {fewest} (fails by chance less than once in "
                f"{1 / cases.FLIP_FALSE_FAILURE:,.0f} runs)",
            ],
            None,
            "flip the width where one draw per image is < 0.5, then the height where another "
            "draw is < 0.5 (or, as Keras 3 does, both axes where one draw is < 0.5)",
        )


def _decisions(outputs, x, mode):
    """One fair coin per image, in every mode and reading of it: whether the image changed in
    mode "horizontal" or "vertical" (which flip is the modes check's business), whether its
    width was reversed in mode "horizontal_and_vertical" (it may also be unchanged otherwise)."""
    found = catalogue.outcomes(outputs, x)
    if mode != "horizontal_and_vertical":
        return [o != "unchanged" for o in found]
    return [catalogue.REVERSES_WIDTH.get(o, o != "unchanged") for o in found]


def check_random_flip_per_image(RandomFlip, hidden=False):
    """Each image decides on its own; calls draw new decisions; the same seed gives the same
    decisions."""
    table = cases.per_image_cases(hidden)
    for mode, shape, seed in table:
        layer_seed = drawn.seed(seed)
        name = describe_call(label(RandomFlip), (), {"mode": mode, "seed": layer_seed})
        case = f"{name} on {shape[0]} random images of shape {shape[1:]}, training=True"
        x = cases.noise(shape, seed)
        layer = _flip_layer(RandomFlip, mode, layer_seed)
        first = _flip(layer, name, x, True, case)
        _check_images(first, x, name, case)
        decisions = _decisions(first, x, mode)
        flipped = "flipped left to right" if mode == "horizontal_and_vertical" else "flipped"
        if len(set(decisions)) == 1:
            fail(
                f"{name} treats the whole batch alike: "
                f"{'every' if decisions[0] else 'no'} image of {len(decisions)} was {flipped}.",
                [
                    f"case: {case}",
                    f"a correct layer does this by chance with probability below 2^-{len(x) - 1}",
                ],
                _alike(layer, name, x, catalogue.outcomes(first, x), case),
            )
        second = _flip(layer, name, x, True, case + ", called a second time")
        again = _decisions(second, x, mode)
        if again == decisions:
            fail(
                f"{name} flips the same images at every call.",
                [
                    f"case: {case}, called twice on the same batch",
                    f"both calls {flipped} exactly the images {_listing(decisions)}",
                ],
                _same_flips(RandomFlip, mode, layer_seed, x, case),
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
    _check_compiled(RandomFlip)
    passed(
        f"RandomFlip decides image by image, anew at every call, inside a tf.function too, "
        f"reproducibly by seed ({len(table)} cases)"
    )


def _check_compiled(RandomFlip):
    """Inside a tf.function traced for any batch size, as model.fit traces its step, each call
    decides image by image and anew. Run after the eager calls passed the same tests, a failure
    here means decisions made by Python code while tracing."""
    mode, shape, seed = cases.COMPILED_CASE
    layer_seed = drawn.seed(seed)
    name = describe_call(label(RandomFlip), (), {"mode": mode, "seed": layer_seed})
    signature = f"tf.function(input_signature=[TensorSpec({(None, *shape[1:])})])"
    case = f"{name} inside {signature}, 3 calls with training=True on {shape[0]} random images"
    x = cases.noise(shape, seed)
    layer = _flip_layer(RandomFlip, mode, layer_seed)
    try:
        outputs = perform(f"{name} inside a tf.function", "repeated_calls", layer, x, times=3,
                          training=True, compiled=True, batch_known=False, case=case)  # fmt: skip
    except CheckFailed as failure:
        note = (
            "the batch size is unknown (None) while tracing: draw the decisions with "
            "keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.generator)"
        )
        raise CheckFailed(failure.headline, [*failure.details, note], failure.hint) from None
    found = []
    for step, out in enumerate(outputs, 1):
        _check_images(out, x, name, case)
        decisions = _decisions(out, x, mode)
        if len(set(decisions)) == 1:
            fail(
                f"{name} inside a tf.function treats the whole batch alike: at step {step} "
                f"{'every' if decisions[0] else 'no'} image of {len(decisions)} was flipped.",
                ["called directly, it decided image by image"],
                mistake=catalogue.NUMPY_FLIPS,
                case=case,
            )
        found.append(decisions)
    if found[0] == found[1] == found[2]:
        fail(
            f"{name} inside a tf.function flips the same images at every step.",
            [f"all 3 steps flipped exactly the images {_listing(found[0])}"],
            mistake=catalogue.NUMPY_FLIPS,
            case=case,
        )


def _listing(decisions) -> str:
    flipped = [i for i, d in enumerate(decisions) if d]
    text = ", ".join(map(str, flipped[:8]))
    return text + (", ..." if len(flipped) > 8 else "") if flipped else "(none)"


def check_random_flip_inference(RandomFlip):
    """training=False, and `predict`, pass the images through unchanged in every mode."""
    x = cases.noise((16, 9, 7, 2), 41)
    for mode in cases.MODES:
        name = describe_call(label(RandomFlip), (), {"mode": mode})
        layer = _flip_layer(RandomFlip, mode, drawn.seed(5))
        direct = _flip(layer, name, x, False, f"{name} on {x.shape}, training=False")
        case = f"keras.Sequential([keras.Input(...), {name}]).predict(images {x.shape})"
        what = f"{name} inside model.predict"
        predicted = perform(what, "predict_through_model", layer, x, case=case)
        for how, out in (("training=False", direct), ("model.predict", predicted)):
            out = np.asarray(out)
            _check_images(out, x, name, f"{how}, images {x.shape}")
            if not np.array_equal(out, x):
                found = catalogue.outcomes(out, x)
                changed = sum(outcome != "unchanged" for outcome in found)
                fail(
                    f"{name} changes images at inference ({how}).",
                    [f"{changed} of {len(found)} images were not returned unchanged"],
                    catalogue.FLIPS_AT_INFERENCE if "other" not in found else None,
                    "with training=False, return the inputs (cast to self.compute_dtype)",
                )
    _check_uint8_inference(RandomFlip, x)
    passed("RandomFlip returns the images unchanged at inference, in every mode")


def _check_uint8_inference(RandomFlip, x):
    """uint8 images come back at inference as float32, the layer's dtype, as the docstring
    promises and Keras does."""
    images = np.round((x - x.min()) / (x.max() - x.min()) * 255).astype(np.uint8)
    name = describe_call(label(RandomFlip), (), {"mode": "horizontal"})
    layer = _flip_layer(RandomFlip, "horizontal", drawn.seed(6))
    case = f"{name} on uint8 images {images.shape}, training=False"
    out = np.asarray(_flip(layer, name, images, False, case))
    _check_images(out, images, name, case)
    if not np.array_equal(out, images.astype(np.float32)):
        fail(f"{name} changes uint8 images at inference (training=False).",
             [f"case: {case}", "expected the images as they were, as float32"],
             None, "with training=False, return the inputs (cast to "
             "self.compute_dtype)")  # fmt: skip

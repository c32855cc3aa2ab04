"""Lesson 09's checks pass every correct implementation, over many seeds, and refuse built-ins.

The implementations below are written independently of solutions/, in the styles students use:
one decision per image for both axes (as Keras 3 does) or one per axis, reversed slices,
ops.take or arithmetic masks for the flips; Sequential heads, Rescaling layers and ops.softmax
for the model; loss objects and layer loops for the workflow.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops
from scipy.stats import binom

from autograder import lessons
from autograder.checks import transfer_learning as checks
from autograder.compare import compare
from autograder.feedback import CheckFailed
from autograder.guard import forbid
from autograder.harness import cases
from course import pretrained
from solutions.mistakes import transfer_learning as wrong
from solutions.transfer_learning import RandomFlip as ReferenceRandomFlip
from solutions.transfer_learning import TransferModel as ReferenceTransferModel

catalogue = lessons.module("09_transfer_learning", "mistakes")

# --- independent RandomFlip layers ----------------------------------------------------------------


class OneDecisionRandomFlip(ReferenceRandomFlip):
    """Keras 3's choice: one decision per image for both axes; reversed slices."""

    def call(self, inputs, training=True):
        images = ops.cast(inputs, self.compute_dtype)
        if not training:
            return images
        flip = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.generator) <= 0.5
        if self.mode != "vertical":
            images = ops.where(flip, images[:, :, ::-1, :], images)
        if self.mode != "horizontal":
            images = ops.where(flip, images[:, ::-1, :, :], images)
        return images


class MaskRandomFlip(ReferenceRandomFlip):
    """0/1 masks from keras.random.randint, mixed arithmetically (exact: 1 * a + 0 * b = a)."""

    def call(self, inputs, training=True):
        images = ops.cast(inputs, self.compute_dtype)
        if not training:
            return images
        shape = (ops.shape(images)[0], 1, 1, 1)
        for axis, used in ((2, self.mode != "vertical"), (1, self.mode != "horizontal")):
            if used:
                mask = ops.cast(
                    keras.random.randint(shape, 0, 2, seed=self.generator), images.dtype
                )
                images = mask * ops.flip(images, axis=axis) + (1.0 - mask) * images
        return images


class TakeRandomFlip(ReferenceRandomFlip):
    """Reversal by ops.take with reversed indices; both decisions drawn at once."""

    def call(self, inputs, training=True):
        images = ops.cast(inputs, self.compute_dtype)
        if not training:
            return images
        height, width = images.shape[1], images.shape[2]
        draws = keras.random.uniform((ops.shape(images)[0], 2), seed=self.generator) < 0.5
        if self.mode != "vertical":
            mirrored = ops.take(images, ops.arange(width - 1, -1, -1), axis=2)
            images = ops.where(draws[:, 0, None, None, None], mirrored, images)
        if self.mode != "horizontal":
            upside_down = ops.take(images, ops.arange(height - 1, -1, -1), axis=1)
            images = ops.where(draws[:, 1, None, None, None], upside_down, images)
        return images


for cls in (OneDecisionRandomFlip, MaskRandomFlip, TakeRandomFlip):
    cls.__name__ = "RandomFlip"

FLIPS = [ReferenceRandomFlip, OneDecisionRandomFlip, MaskRandomFlip, TakeRandomFlip]
FLIP_IDS = ["reference", "one_decision", "mask", "take"]

# --- independent workflow code -------------------------------------------------------------------


def freeze_flag_and_layers(model):
    """Sets the model's own flag, then every layer's flag too (for good measure)."""
    setattr(model, "trainable", False)  # noqa: B010 - a style students use
    for layer in model.layers:
        layer.trainable = False
    return model


def freeze_walking_the_tree(model):
    """Walks the model's tree of layers (nested models too) and freezes each node."""
    stack = [model]
    while stack:
        node = stack.pop()
        node.trainable = False
        stack.extend(getattr(node, "layers", ()))
    return model


class SequentialHeadTransferModel(keras.Model):
    """Preprocessing as a Rescaling layer, the head as a Sequential model."""

    def __init__(self, base, num_classes, augmentation=None, **kwargs):
        super().__init__(**kwargs)
        self.base = base
        self.augmentation = augmentation
        self.rescale = keras.layers.Rescaling(2.0, offset=-1.0)
        self.head = keras.Sequential(
            [
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(num_classes, activation="softmax"),
            ]
        )

    def call(self, images, training=False):
        if self.augmentation is not None:
            images = self.augmentation(images, training=training)
        return self.head(self.base(self.rescale(images), training=False))


class OpsTransferModel(keras.Model):
    """Pooling with ops.mean, a linear Dense followed by ops.softmax; the augmentation called
    without `training`, which Keras passes on from the model's call (its first call, a trace
    that builds the model, gives it its own default training=True, to no effect)."""

    def __init__(self, base, num_classes, augmentation=None, **kwargs):
        super().__init__(**kwargs)
        self.base, self.augmentation = base, augmentation
        self.scores = keras.layers.Dense(num_classes)

    def call(self, images, training=False):
        x = images if self.augmentation is None else self.augmentation(images)
        maps = self.base((x - 0.5) / 0.5, training=False)
        return ops.softmax(self.scores(ops.mean(maps, axis=(1, 2))), axis=-1)


class DropoutTransferModel(ReferenceTransferModel):
    """The Keras guide's head: Dropout(0.2) before the Dense layer (random in training)."""

    def __init__(self, base, num_classes, augmentation=None, **kwargs):
        super().__init__(base, num_classes, augmentation, **kwargs)
        self.dropout = keras.layers.Dropout(0.2)

    def call(self, images, training=False):
        x = images if self.augmentation is None else self.augmentation(images, training=training)
        features = self.pool(self.base(pretrained.preprocess_input(x), training=False))
        return self.classifier(self.dropout(features, training=training))


for cls in (SequentialHeadTransferModel, OpsTransferModel, DropoutTransferModel):
    cls.__name__ = "TransferModel"


def train_head_with_objects(model, x, y, epochs=10, batch_size=16, learning_rate=1e-2):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True)


def unfreeze_with_flag(base, layer_name):
    base.trainable = True
    reached = False
    for layer in base.layers:
        reached = reached or layer.name == layer_name
        layer.trainable = reached
    if not reached:
        raise ValueError(f"no layer {layer_name!r}")
    return base


def fine_tune_directly(model, x, y, epochs=10, batch_size=16, learning_rate=1e-4):
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy")
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)


# --- RandomFlip ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", FLIPS, ids=FLIP_IDS)
def test_flip_checks_pass_correct_layers(cls):
    checks.check_random_flip_contract(cls)
    for check in (checks.check_random_flip_modes, checks.check_random_flip_per_image):
        check(cls)
        check(cls, hidden=True)
    checks.check_random_flip_inference(cls)


@pytest.mark.parametrize("seed", range(20))
def test_flip_checks_pass_correct_layers_on_fresh_cases(seed):
    with cases.fresh(seed):
        for cls in FLIPS:
            for check in (checks.check_random_flip_modes, checks.check_random_flip_per_image):
                check(cls, hidden=True)


def test_the_flip_count_bounds_hold_their_false_failure_rate():
    for n in (64, 96, 128, 160):
        low, high = checks.flip_count_bounds(n)
        outside = binom.cdf(low - 1, n, 0.5) + binom.sf(high, n, 0.5)
        assert outside <= checks.FLIP_FALSE_FAILURE
        assert low > 0.1 * n and high < 0.9 * n  # a coin biased to 0.1 or 0.9 is caught
    for n in (800, 1000, 1200):  # the modes check's batches
        low, high = checks.flip_count_bounds(n)
        assert low > 0.39 * n and high < 0.61 * n  # a coin biased to 0.35 or 0.65 is caught


def test_the_unchanged_bound_holds_and_catches_a_layer_that_always_flips():
    """In mode "horizontal_and_vertical" an image is unchanged with probability 1/4 (each axis on
    its own) or 1/2 (Keras 3): the lower bound holds for both, and is above 0 from 96 images
    on (the public case has 128; at 64, (3/4)**64 = 1e-8 is too likely to fail on)."""
    for n in (64, 96, 128, 160):
        fewest = checks.flip_count_bounds(n, 0.25)[0]
        assert binom.cdf(fewest - 1, n, 0.25) <= checks.FLIP_FALSE_FAILURE / 2
        assert binom.cdf(fewest - 1, n, 0.5) <= checks.FLIP_FALSE_FAILURE / 2
        assert fewest >= 1 or n < 96


class NeverUnchangedRandomFlip(ReferenceRandomFlip):
    """In mode "horizontal_and_vertical", exactly one axis per image: each axis is reversed in
    half of the images, yet no image is left as it was. Its per-image coins are fair, so it
    is not the batch-wide decision it was once diagnosed as."""

    def call(self, inputs, training=True):
        images = ops.cast(inputs, self.compute_dtype)
        if not training or self.mode != "horizontal_and_vertical":
            return super().call(inputs, training=training)
        coin = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.generator) < 0.5
        return ops.where(coin, ops.flip(images, axis=2), ops.flip(images, axis=1))


NeverUnchangedRandomFlip.__name__ = "RandomFlip"


def test_a_flip_that_never_leaves_an_image_unchanged_is_caught():
    with pytest.raises(CheckFailed, match="leaves 0 of 1000 images unchanged"):
        checks.check_random_flip_modes(NeverUnchangedRandomFlip)
    checks.check_random_flip_per_image(NeverUnchangedRandomFlip)  # fair coins per image


class NormalDrawRandomFlip(ReferenceRandomFlip):
    """keras.random.normal where uniform was meant: each axis flips with probability 0.69."""

    def call(self, inputs, training=True):
        images = ops.cast(inputs, self.compute_dtype)
        if not training:
            return images
        shape = (ops.shape(images)[0], 1, 1, 1)
        if self.mode != "vertical":
            coin = keras.random.normal(shape, seed=self.generator) < 0.5
            images = ops.where(coin, ops.flip(images, axis=2), images)
        if self.mode != "horizontal":
            coin = keras.random.normal(shape, seed=self.generator) < 0.5
            images = ops.where(coin, ops.flip(images, axis=1), images)
        return images


class OneOfThreeRandomFlip(ReferenceRandomFlip):
    """Mode "horizontal_and_vertical" as one of {unchanged, horizontal, vertical}: each axis
    flips in a third of the images, never both."""

    def call(self, inputs, training=True):
        images = ops.cast(inputs, self.compute_dtype)
        if not training or self.mode != "horizontal_and_vertical":
            return super().call(inputs, training=training)
        pick = keras.random.randint((ops.shape(images)[0], 1, 1, 1), 0, 3, seed=self.generator)
        images = ops.where(pick == 1, ops.flip(images, axis=2), images)
        return ops.where(pick == 2, ops.flip(images, axis=1), images)


NormalDrawRandomFlip.__name__ = OneOfThreeRandomFlip.__name__ = "RandomFlip"


@pytest.mark.parametrize("cls", [NormalDrawRandomFlip, OneOfThreeRandomFlip])
def test_a_flip_probability_other_than_one_half_is_caught(cls):
    """Each case, public and hidden, has enough images to tell these coins from a fair one."""
    for hidden in (False, True):
        with pytest.raises(CheckFailed, match="should be flipped with probability 1/2"):
            checks.check_random_flip_modes(cls, hidden=hidden)


def test_keras_and_reference_agree_on_what_a_flip_is():
    x = np.random.default_rng(0).normal(size=(256, 4, 5, 2)).astype("float32")
    for mode in checks.MODES:
        found = set(catalogue.outcomes(np.asarray(keras.layers.RandomFlip(mode)(x)), x))
        assert found <= set(catalogue.ALLOWED[mode]) and "unchanged" in found, (mode, found)
        ours = catalogue.outcomes(np.asarray(ReferenceRandomFlip(mode)(x)), x)
        assert set(ours) == set(catalogue.ALLOWED[mode]), (mode, set(ours))


def test_flip_outcomes_tell_every_flip_apart():
    image = np.random.default_rng(1).normal(size=(3, 4, 2))
    for name, flip in catalogue.FLIPS.items():
        assert catalogue.flip_outcome(flip(image), image) == name
    assert catalogue.flip_outcome(image + 1, image) == "other"
    assert catalogue.mode_mistake("horizontal", ["unchanged", "vertical"]).id == "axes_swapped"
    assert catalogue.mode_mistake("vertical", ["channels"]) is catalogue.CHANNELS_FLIPPED
    assert catalogue.mode_mistake("horizontal", ["unchanged", "horizontal"]) is None


def _with_call(call):
    return type("RandomFlip", (ReferenceRandomFlip,), {"call": call})


class VerticalWidthRandomFlip(ReferenceRandomFlip):
    """Mode "vertical" reverses the width (axis 2), mode "horizontal" is right."""

    def call(self, inputs, training=True):
        if not training or self.mode != "vertical":
            return super().call(inputs, training=training)
        flip = keras.random.uniform((ops.shape(inputs)[0], 1, 1, 1), seed=self.generator) < 0.5
        return ops.where(flip, ops.flip(inputs, axis=2), inputs)


VerticalWidthRandomFlip.__name__ = "RandomFlip"


NEVER = "no image ever flipped in this mode."


@pytest.mark.parametrize(
    "cls, check, hidden, said",
    [  # mode "horizontal_and_vertical" never flips; a channel flip, on one channel (hidden)
        (_with_call(wrong.call_two_modes_only), checks.check_random_flip_per_image, False, NEVER),
        (_with_call(wrong.call_last_axis), checks.check_random_flip_modes, True, NEVER),
        (VerticalWidthRandomFlip, checks.check_random_flip_modes, False, "Your vertical flip mi"),
    ],
    ids=["two_modes_only", "channels_on_one_channel", "vertical_reverses_width"],
)
def test_flips_are_named_for_what_they_do(cls, check, hidden, said):
    with pytest.raises(CheckFailed) as failure:
        check(cls, hidden=hidden)
    assert said in str(failure.value)
    assert "one flip decision" not in str(failure.value) and "upside down" not in str(failure.value)


X = np.random.default_rng(2).normal(size=(4, 6, 5, 3)).astype("float32")


@pytest.mark.parametrize(
    "flip",
    [
        lambda x: tf.image.flip_left_right(x),
        lambda x: tf.image.flip_up_down(x),
        lambda x: tf.image.random_flip_left_right(x),
        lambda x: tf.image.stateless_random_flip_up_down(x, seed=(1, 2)),
        lambda x: keras.layers.RandomFlip("horizontal")(x, training=True),
    ],
    ids=["flip_left_right", "flip_up_down", "random_flip_left_right", "stateless", "keras layer"],
)
def test_guard_catches_builtin_flips(flip):
    with forbid(checks.FLIPS.names) as hits:
        flip(X)
    assert hits


def test_guard_allows_what_a_student_needs():
    with forbid(checks.FLIPS.names) as hits:
        ops.flip(X, axis=2)
        X[:, ::-1]
        ops.where(keras.random.uniform((4, 1, 1, 1)) < 0.5, X, -X)
        ops.take(X, ops.arange(4, -1, -1), axis=2)
        for cls in FLIPS:
            cls("horizontal_and_vertical", seed=3)(X, training=True)
    assert hits == []


def test_keras_random_flip_itself_is_refused():
    class RandomFlip(keras.layers.RandomFlip):
        pass

    with pytest.raises(CheckFailed, match="built-in random flip"):
        checks.check_random_flip_modes(RandomFlip)


def test_a_flip_with_tf_image_inside_is_refused():
    class RandomFlip(ReferenceRandomFlip):
        def call(self, inputs, training=True):
            if not training:
                return inputs
            flip = keras.random.uniform((ops.shape(inputs)[0], 1, 1, 1), seed=self.generator)
            return ops.where(flip < 0.5, tf.image.flip_left_right(inputs), inputs)

    with pytest.raises(CheckFailed, match="built-in random flip"):
        checks.check_random_flip_modes(RandomFlip)


def test_call_must_default_to_training_like_keras():
    class RandomFlip(ReferenceRandomFlip):
        def call(self, inputs, training=None):
            return super().call(inputs, training=bool(training))

    with pytest.raises(CheckFailed, match="training=True"):
        checks.check_random_flip_contract(RandomFlip)


def test_a_layer_that_ignores_its_seed_is_caught():
    class RandomFlip(ReferenceRandomFlip):
        def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
            super().__init__(mode, None, **kwargs)
            self.seed = seed

    with pytest.raises(CheckFailed, match="same seed"):
        checks.check_random_flip_per_image(RandomFlip)


# --- the transfer workflow ------------------------------------------------------------------------

MODELS = [ReferenceTransferModel, SequentialHeadTransferModel, OpsTransferModel]


@pytest.mark.parametrize(
    "cls", [*MODELS, DropoutTransferModel], ids=["reference", "sequential_head", "ops", "dropout"]
)
def test_transfer_model_check_passes_correct_models(cls):
    checks.check_transfer_model(cls)
    checks.check_transfer_model(cls, hidden=True)


@pytest.mark.parametrize("seed", range(20))
def test_the_output_tolerance_holds_over_seeds(seed):
    rng = np.random.default_rng(600 + seed)
    classes = int(rng.integers(2, 31))
    x, _ = pretrained.target_data(int(rng.integers(2, 17)), seed=seed)
    base = pretrained.load_base()
    base.trainable = False
    inside = {w.path for w in base.weights}
    for cls in MODELS:
        model = cls(base, classes)
        out = np.asarray(model(x, training=False))
        kernel, bias = (np.asarray(w) for w in model.weights if w.path not in inside)
        expected = checks.head_output(checks.features(x), kernel, bias)
        assert compare(out, expected, checks.OUTPUT_TOL) is None, cls


def test_the_feature_oracle_is_keras_applied_to_preprocessed_images():
    x, _ = pretrained.target_data(5, seed=3)
    maps = pretrained.load_base()(pretrained.preprocess_input(x), training=False)
    expected = np.asarray(keras.layers.GlobalAveragePooling2D()(maps))
    np.testing.assert_allclose(checks.features(x), expected, rtol=1e-5, atol=1e-6)


def test_workflow_checks_pass_other_correct_code():
    checks.check_freeze(freeze_flag_and_layers)
    checks.check_freeze(freeze_walking_the_tree)
    checks.check_train_head(train_head_with_objects)
    checks.check_train_head(train_head_with_objects, hidden=True)
    checks.check_unfreeze_from(unfreeze_with_flag)
    checks.check_unfreeze_from(unfreeze_with_flag, hidden=True)
    checks.check_fine_tune(fine_tune_directly)


@pytest.mark.parametrize("seed", range(3))
def test_workflow_checks_pass_on_fresh_cases(seed):
    with cases.fresh(100 + seed):
        checks.check_transfer_model(OpsTransferModel, hidden=True)
        checks.check_unfreeze_from(unfreeze_with_flag, hidden=True)
        checks.check_train_head(train_head_with_objects)
        checks.check_fine_tune(fine_tune_directly)


def test_a_head_that_learns_nothing_fails_the_accuracy_threshold():
    def train_head(model, x, y, epochs=10, batch_size=16, learning_rate=1e-2):
        optimizer = keras.optimizers.Adam(learning_rate)
        model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model.fit(x, np.roll(y, 1), epochs=epochs, batch_size=batch_size, verbose=0)

    with pytest.raises(CheckFailed, match="scores"):
        checks.check_train_head(train_head)


def test_train_head_must_honour_its_arguments():
    def train_head(model, x, y, epochs=10, batch_size=16, learning_rate=1e-2):
        model.compile(
            keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        return model.fit(x, y, epochs=10, batch_size=16, verbose=0)

    checks.check_train_head(train_head)
    with pytest.raises(CheckFailed, match="expected Adam"):
        checks.check_train_head(train_head, hidden=True)


def test_a_model_that_unfreezes_its_base_is_caught():
    class TransferModel(ReferenceTransferModel):
        def __init__(self, base, num_classes, augmentation=None, **kwargs):
            super().__init__(base, num_classes, augmentation, **kwargs)
            base.trainable = True

    with pytest.raises(CheckFailed, match="trainable"):
        checks.check_transfer_model(TransferModel)


def test_a_head_on_flattened_maps_is_explained():
    class TransferModel(ReferenceTransferModel):
        def __init__(self, base, num_classes, augmentation=None, **kwargs):
            super().__init__(base, num_classes, augmentation, **kwargs)
            self.pool = keras.layers.Flatten()

    with pytest.raises(CheckFailed, match="no single Dense head"):
        checks.check_transfer_model(TransferModel)


def test_unfreeze_from_off_by_one_is_caught():
    def unfreeze_from(base, layer_name):
        names = [layer.name for layer in base.layers]
        base.trainable = True
        for layer in base.layers[: names.index(layer_name) + 1]:
            layer.trainable = False
        return base

    with pytest.raises(CheckFailed, match="block3_conv/kernel is frozen"):
        checks.check_unfreeze_from(unfreeze_from)


def test_an_augmentation_whose_output_is_dropped_is_caught():
    class TransferModel(ReferenceTransferModel):
        def call(self, images, training=False):
            if self.augmentation is not None:
                self.augmentation(images, training=training)  # the result is lost
            features = self.base(pretrained.preprocess_input(images), training=False)
            return self.classifier(self.pool(features))

    with pytest.raises(CheckFailed, match="augmentation never applied"):
        checks.check_transfer_model(TransferModel)


def test_a_model_that_computes_otherwise_with_an_augmentation_is_caught():
    """Preprocesses before the augmentation and again after it: right without one, and its
    training outputs are not judged by value (a head may hold a Dropout)."""

    class TransferModel(ReferenceTransferModel):
        def call(self, images, training=False):
            x = pretrained.preprocess_input(images)
            if self.augmentation is not None:
                x = pretrained.preprocess_input(self.augmentation(x, training=training))
            return self.classifier(self.pool(self.base(x, training=False)))

    with pytest.raises(CheckFailed, match="augmentation=mirror\\) with training=False does not"):
        checks.check_transfer_model(TransferModel)


# --- what the workflow's docstrings promise (each passed the checks before issue 16) -------------


def test_freeze_and_unfreeze_from_must_return_what_they_were_given():
    def freeze(model):
        model.trainable = False

    def unfreeze_from(base, layer_name):
        unfreeze_with_flag(base, layer_name)

    with pytest.raises(CheckFailed, match="does not return model"):
        checks.check_freeze(freeze)
    with pytest.raises(CheckFailed, match="does not return base"):
        checks.check_unfreeze_from(unfreeze_from)


def test_freeze_must_freeze_the_last_layer_too():
    """The base's last layer is a ReLU, without weights: freezing all layers but the last
    passed on the base alone."""

    def freeze(model):
        for layer in model.layers[:-1]:
            layer.trainable = False
        return model

    with pytest.raises(CheckFailed, match="on a model with a Dense head, 2 of its"):
        checks.check_freeze(freeze)


def test_unfreeze_from_must_refuse_an_unknown_layer():
    def unfreeze_from(base, layer_name):
        base.trainable = True
        names = [layer.name for layer in base.layers]
        for layer in base.layers[: names.index(layer_name) if layer_name in names else 0]:
            layer.trainable = False
        return base

    with pytest.raises(CheckFailed, match="does not raise ValueError.*\n  it returned without"):
        checks.check_unfreeze_from(unfreeze_from)


def test_train_head_must_record_accuracy():
    def train_head(model, x, y, epochs=10, batch_size=16, learning_rate=1e-2):
        model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy")
        return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)

    with pytest.raises(CheckFailed, match="metric accuracy"):
        checks.check_train_head(train_head, hidden=True)


def test_train_head_may_record_accuracy_by_keras_s_short_name():
    def train_head(model, x, y, epochs=10, batch_size=16, learning_rate=1e-2):
        loss = "sparse_categorical_crossentropy"
        model.compile(keras.optimizers.Adam(learning_rate), loss, metrics=["acc"])
        return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)

    checks.check_train_head(train_head)


def test_fine_tune_must_honour_its_batch_size():
    def fine_tune(model, x, y, epochs=10, batch_size=16, learning_rate=1e-4):
        return fine_tune_directly(model, x, y, epochs=epochs, learning_rate=learning_rate)

    with pytest.raises(CheckFailed, match="training steps"):
        checks.check_fine_tune(fine_tune)


def test_fine_tune_must_honour_its_learning_rate():
    """A rate written into the function instead of the argument: the check asks for 5e-5."""

    def fine_tune(model, x, y, epochs=10, batch_size=16, learning_rate=1e-4):
        return fine_tune_directly(model, x, y, epochs, batch_size, 1e-4)

    with pytest.raises(CheckFailed, match=r"expected Adam\(learning_rate=5e-05\)"):
        checks.check_fine_tune(fine_tune)


def test_a_fine_tune_that_freezes_the_base_again_is_told_so():
    """It trains the head a little more: "the model did not train" would be wrong."""

    def fine_tune(model, x, y, epochs=10, batch_size=16, learning_rate=1e-4):
        model.base.trainable = False
        return fine_tune_directly(model, x, y, epochs, batch_size, learning_rate)

    with pytest.raises(CheckFailed, match="freezes weights that were unfrozen") as failure:
        checks.check_fine_tune(fine_tune)
    assert "did not train" not in str(failure.value)


def test_the_loss_must_be_the_one_asked_for():
    """from_logits=True on the softmax's probabilities trains well enough to pass the accuracy
    threshold; it is named by its value on probe probabilities."""

    def train_head(model, x, y, epochs=10, batch_size=16, learning_rate=1e-2):
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(keras.optimizers.Adam(learning_rate), loss, metrics=["accuracy"])
        return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)

    with pytest.raises(CheckFailed, match="with from_logits=True"):
        checks.check_train_head(train_head, hidden=True)


def test_a_learning_rate_assigned_without_recompiling_is_named():
    def fine_tune(model, x, y, epochs=10, batch_size=16, learning_rate=1e-4):
        model.optimizer.learning_rate.assign(learning_rate)
        return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)

    with pytest.raises(CheckFailed, match="Likely mistake: trainable changed without recompil"):
        checks.check_fine_tune(fine_tune)


class StaticBatchRandomFlip(ReferenceRandomFlip):
    """One draw per image, counted with images.shape[0]: right on every eager call, and None
    inside model.fit, which traces the layer for any batch size."""

    def call(self, inputs, training=True):
        images = ops.cast(inputs, self.compute_dtype)
        if not training:
            return images
        flip = keras.random.uniform((images.shape[0], 1, 1, 1), seed=self.generator) < 0.5
        if self.mode != "vertical":
            images = ops.where(flip, ops.flip(images, axis=2), images)
        if self.mode != "horizontal":
            flip = keras.random.uniform((images.shape[0], 1, 1, 1), seed=self.generator) < 0.5
            images = ops.where(flip, ops.flip(images, axis=1), images)
        return images


StaticBatchRandomFlip.__name__ = "RandomFlip"


def test_a_random_flip_that_counts_images_with_the_static_batch_size_fails_where_it_is_traced():
    checks.check_random_flip_modes(StaticBatchRandomFlip, hidden=True)  # eager: right
    with pytest.raises(CheckFailed, match="the batch size is None"):
        checks.check_random_flip_contract(StaticBatchRandomFlip)
    with pytest.raises(CheckFailed, match="inside a tf.function") as failure:
        checks.check_random_flip_per_image(StaticBatchRandomFlip)
    assert any("unknown (None) while tracing" in line for line in failure.value.details)


class PythonIfRandomFlip(ReferenceRandomFlip):
    """One decision for the batch, taken with a Python `if` on a tensor: eager calls work,
    model.fit cannot run it (a tensor there has no value to test)."""

    def call(self, inputs, training=True):
        images = ops.cast(inputs, self.compute_dtype)
        if training and self.mode != "vertical":
            if keras.random.uniform((), seed=self.generator) < 0.5:
                images = images[:, :, ::-1, :]
        return images


PythonIfRandomFlip.__name__ = "RandomFlip"


def test_a_random_flip_with_a_python_if_on_a_tensor_fails_its_contract():
    with pytest.raises(CheckFailed, match="no Python if on a tensor's value"):
        checks.check_random_flip_contract(PythonIfRandomFlip)


# --- wrong code the checks passed, or named wrongly, in the third review ------------------------


def freeze_layers(model):
    """Freezes every layer one by one, the model's own flag left True: base.trainable = True,
    unfreeze_from's first step, then changes nothing and the layers stay frozen."""
    for layer in model.layers:
        layer.trainable = False
    return model


def test_a_freeze_that_base_trainable_true_cannot_undo_is_caught():
    with pytest.raises(CheckFailed) as failure:
        checks.check_freeze(freeze_layers)
    message = str(failure.value)
    assert "After freeze(base), base.trainable = True leaves" in message
    assert "unfreeze_from could not unfreeze them" in message
    assert "freeze with the model's own flag, model.trainable = False" in message


def test_unfreeze_from_must_match_whole_layer_names():
    def unfreeze_from(base, layer_name):
        names = [layer.name for layer in base.layers]
        found = [i for i, name in enumerate(names) if layer_name in name]
        if not found:
            raise ValueError(f"no layer {layer_name!r}")
        base.trainable = True
        for layer in base.layers[: found[0]]:
            layer.trainable = False
        return base

    with pytest.raises(CheckFailed) as failure:
        checks.check_unfreeze_from(unfreeze_from)
    message = str(failure.value)
    assert "unfreeze_from(base, 'block3') does not raise ValueError" in message
    assert "'block3' is only part of the names block3_conv, block3_bn, block3_relu" in message


class UncastAtInferenceRandomFlip(ReferenceRandomFlip):
    """Returns the inputs as given at inference: uint8 images stay uint8."""

    def call(self, inputs, training=True):
        if not training:
            return inputs
        return super().call(inputs, training=training)


UncastAtInferenceRandomFlip.__name__ = "RandomFlip"


def test_uint8_images_come_back_as_float32_at_inference():
    with pytest.raises(CheckFailed, match="returns uint8 images; expected float32"):
        checks.check_random_flip_inference(UncastAtInferenceRandomFlip)


def test_flip_decisions_kept_from_the_first_call_are_named_as_such():
    kept = _with_call(wrong.call_decisions_drawn_once)
    with pytest.raises(CheckFailed) as failure:
        checks.check_random_flip_per_image(kept)
    assert "flips the same images at every call" in str(failure.value)
    assert failure.value.mistake.id == "flips_kept_on_self"
    with pytest.raises(CheckFailed) as failure:
        checks.check_random_flip_per_image(_with_call(wrong.call_integer_seed))
    assert failure.value.mistake.id == "same_flips_every_call"

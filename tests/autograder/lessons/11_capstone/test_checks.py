"""Lesson 11's checks pass a residual block written unlike the reference and fail subtly wrong
ones; the block's tolerance holds over 20 seeds of fresh cases; the network check fails a
network that is too slow, too inaccurate or not residual, and judges it on digits the notebook
never draws.

The independent block builds its sublayers in a loop over a table, picks the projection by
another test, and computes the skip path first, with `keras.ops.add` and `keras.ops.maximum`.
"""

import contextlib
import json
import re
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from autograder import lessons
from autograder.checks import capstone as checks
from autograder.compare import compare
from autograder.feedback import CheckFailed
from autograder.harness import cases as harness_cases
from solutions import capstone as reference

cases = lessons.module("11_capstone", "cases")
block = lessons.module("11_capstone", "block")
ops = lessons.module("11_capstone", "ops")
network = lessons.module("11_capstone", "network")
ROOT = Path(__file__).resolve().parents[4]


class IndependentBlock(reference.ResidualBlock):
    """The block as another student writes it (the given constructor and config kept)."""

    def build(self, input_shape):
        reshapes = input_shape[-1] != self.filters or any(s > 1 for s in self.strides)
        table = [
            ("conv1", keras.layers.Conv2D, (self.filters, self.kernel_size, self.strides)),
            ("bn1", keras.layers.BatchNormalization, ()),
            ("conv2", keras.layers.Conv2D, (self.filters, self.kernel_size, 1)),
            ("bn2", keras.layers.BatchNormalization, ()),
        ]
        if reshapes:
            table += [
                ("projection", keras.layers.Conv2D, (self.filters, 1, self.strides)),
                ("projection_bn", keras.layers.BatchNormalization, ()),
            ]
        else:
            self.projection = None
            self.projection_bn = None
        shape = tuple(input_shape)
        for name, cls, args in table:
            if cls is keras.layers.Conv2D:
                layer = cls(*args, padding="same", use_bias=False)
            else:
                layer = cls(momentum=self.momentum, epsilon=self.epsilon)
            source = tuple(input_shape) if name == "projection" else shape
            layer.build(source)
            if name in ("conv1", "projection"):
                shape = layer.compute_output_shape(tuple(input_shape))
            setattr(self, name, layer)

    def call(self, inputs, training=None):
        skip = inputs
        if self.projection is not None:
            skip = self.projection_bn(self.projection(inputs), training=training)
        h = keras.ops.maximum(self.bn1(self.conv1(inputs), training=training), 0.0)
        h = self.bn2(self.conv2(h), training=training)
        return keras.ops.maximum(keras.ops.add(skip, h), 0.0)


class StrideOnSecondConv(reference.ResidualBlock):
    """Subtly wrong: the stride on the main path's second convolution, not its first."""

    def build(self, input_shape):
        super().build(input_shape)
        self.conv1 = self._conv(self.kernel_size, 1, "conv1")
        self.conv2 = self._conv(self.kernel_size, self.strides, "conv2")
        self.conv1.build(input_shape)
        self.conv2.build(self.conv1.compute_output_shape(input_shape))


class StridesTransposed(reference.ResidualBlock):
    """Subtly wrong: conv1 strides (sw, sh); the projection right. Named as the stride on the
    skip path only until that mistake asked conv1 to have no stride at all."""

    def build(self, input_shape):
        super().build(input_shape)
        self.conv1 = self._conv(self.kernel_size, self.strides[::-1], "conv1")
        self.conv1.build(input_shape)


class NoReluInside(reference.ResidualBlock):
    """Subtly wrong: no ReLU between the two convolutions."""

    def call(self, inputs, training=None):
        main = self.bn1(self.conv1(inputs), training=training)
        main = self.bn2(self.conv2(main), training=training)
        skip = inputs
        if self.projection is not None:
            skip = self.projection_bn(self.projection(inputs), training=training)
        return keras.ops.relu(main + skip)


class DefaultMomentum(reference.ResidualBlock):
    """Subtly wrong: the batch normalizations ignore the block's momentum."""

    def _bn(self, name):
        return keras.layers.BatchNormalization(epsilon=self.epsilon, name=name)


class ProjectionByFirstStride(reference.ResidualBlock):
    """Subtly wrong: the projection decided by strides[0] alone (no skip path for (1, 2))."""

    def build(self, input_shape):
        super().build(input_shape)
        if input_shape[-1] == self.filters and self.strides[0] == 1:
            self.projection = self.projection_bn = None


class ShapeByFirstStride(reference.ResidualBlock):
    """Subtly wrong: compute_output_shape divides both sizes by strides[0]."""

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        sizes = [None if n is None else -(-n // self.strides[0]) for n in (height, width)]
        return (batch, *sizes, self.filters)


class ShapeRounded(reference.ResidualBlock):
    """Subtly wrong: compute_output_shape rounds n / s to the nearest (Python's round, which
    rounds 2.5 to 2); every public row's sizes agreed with ceil (independent review)."""

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        sizes = [
            None if n is None else round(n / s)
            for n, s in zip((height, width), self.strides, strict=True)
        ]
        return (batch, *sizes, self.filters)


class ShapeRoundedHalfUp(reference.ResidualBlock):
    """Subtly wrong: n / s rounded half up, which agrees with ceil at stride 2."""

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        sizes = [
            None if n is None else int(n / s + 0.5)
            for n, s in zip((height, width), self.strides, strict=True)
        ]
        return (batch, *sizes, self.filters)


class FinalRelu6(reference.ResidualBlock):
    """Subtly wrong: ReLU6 for the final ReLU, seen only in outputs above 6."""

    def call(self, inputs, training=None):
        return keras.ops.minimum(super().call(inputs, training=training), 6.0)


class TrainingByDefault(reference.ResidualBlock):
    """Subtly wrong: batch statistics when called without `training` (Keras layers then run
    in inference mode); every check passed the flag, so it kept full marks."""

    def call(self, inputs, training=True):
        return super().call(inputs, training=training)


class BatchOfOneAtInference(reference.ResidualBlock):
    """Subtly wrong: a single image is always run in inference mode."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=training and inputs.shape[0] != 1)


class FlagInverted(reference.ResidualBlock):
    """Subtly wrong: the batch normalizations told `not training`."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=not training)


class NoTrainingArgument(reference.ResidualBlock):
    """Right: no `training` parameter at all; Keras hands the mode on to the sublayers."""

    def call(self, inputs):
        main = keras.ops.relu(self.bn1(self.conv1(inputs)))
        main = self.bn2(self.conv2(main))
        skip = inputs
        if self.projection is not None:
            skip = self.projection_bn(self.projection(inputs))
        return keras.ops.relu(main + skip)


class InferenceByDefault(reference.ResidualBlock):
    """Right: `training=False` as call's default is inference mode too."""

    def call(self, inputs, training=False):
        return super().call(inputs, training=training)


BLOCK_CHECKS = (
    checks.check_residual_block_training,
    checks.check_residual_block_inference,
)


def test_an_independent_block_passes_every_block_check():
    checks.check_residual_block_contract(IndependentBlock)
    for check in BLOCK_CHECKS:
        check(IndependentBlock)
        check(IndependentBlock, hidden=True)


@pytest.mark.parametrize(
    ("wrong", "check", "says"),
    [
        (StrideOnSecondConv, checks.check_residual_block_contract, "conv1 has strides=(1, 1)"),
        (StridesTransposed, checks.check_residual_block_contract, "(2, 1); expected (1, 2)"),
        (NoReluInside, checks.check_residual_block_training, "in training mode"),
        (DefaultMomentum, checks.check_residual_block_contract, "momentum=0.99; expected 0.9"),
        (ProjectionByFirstStride, checks.check_residual_block_training, "has no projection"),
        (ShapeByFirstStride, checks.check_residual_block_contract, "compute_output_shape"),
    ],
    ids=[
        "stride-on-conv2",
        "strides-transposed",
        "no-relu-inside",
        "default-momentum",
        "projection-by-strides[0]",
        "shape-by-strides[0]",
    ],
)
def test_subtly_wrong_blocks_fail(wrong, check, says):
    with pytest.raises(CheckFailed) as failure:
        check(wrong)
    assert says in str(failure.value)
    assert "Likely mistake" not in str(failure.value)


@pytest.mark.parametrize(
    ("wrong", "says"),
    [
        (ShapeRounded, "compute_output_shape gives (2, 2, 4, 4); expected (2, 3, 5, 4)."),
        (ShapeRoundedHalfUp, "compute_output_shape gives (2, 2, 2, 4); expected (2, 3, 3, 4)."),
    ],
    ids=["round", "round-half-up"],
)
def test_an_output_shape_rounded_to_the_nearest_fails_the_contract(wrong, says):
    """The public rows' sizes (6 / 1, 7 / 2, 8 / 2, 7 / 2) all round to ceil: the contract
    also asks for sizes the stride does not divide (independent review of lesson 11)."""
    with pytest.raises(CheckFailed) as failure:
        checks.check_residual_block_contract(wrong)
    message = str(failure.value)
    assert says in message
    assert "formula: (batch, ceil(H / sh), ceil(W / sw), filters)" in message


@pytest.mark.parametrize("training", [True, False])
def test_a_final_relu6_fails_on_the_rows_of_large_inputs_whatever_the_draw(training):
    """A final ReLU6 passed some hidden and fresh runs, the outputs rarely exceeding 6: each
    table's row of inputs of standard deviation 10 fails it on every draw, by a wide margin."""
    scaled = [row for table in cases.BLOCK_CASES.values() for row in table if len(row) > 4]
    assert len(scaled) == 2
    for seed in (None, *range(5)):
        for row in scaled:
            with harness_cases.fresh(seed) if seed is not None else contextlib.nullcontext():
                with pytest.raises(CheckFailed) as failure:
                    block.judge_rows(FinalRelu6, [row], training)
            message = str(failure.value)
            assert "of standard deviation 10" in message
            off = re.search(r"(\d+) of (\d+) values are off", message)
            assert off and int(off.group(1)) >= int(off.group(2)) // 10, message
    check = BLOCK_CHECKS[0] if training else BLOCK_CHECKS[1]
    for hidden in (False, True):
        with pytest.raises(CheckFailed):
            check(FinalRelu6, hidden=hidden)


def test_a_block_in_training_mode_by_default_fails_and_is_named():
    with pytest.raises(CheckFailed) as failure:
        checks.check_residual_block_inference(TrainingByDefault)
    message = str(failure.value)
    assert "called without `training`" in message
    assert "Likely mistake: batch statistics when the block is called without `training`" in (
        message
    )


def test_a_block_with_its_training_flag_inverted_is_named_in_training_mode():
    """Told training=True it used the moving statistics; the training check named nothing."""
    with pytest.raises(CheckFailed) as failure:
        checks.check_residual_block_training(FlagInverted)
    assert "Likely mistake: batch normalization in the wrong mode while training." in (
        str(failure.value)
    )


def test_a_block_with_its_training_flag_inverted_is_told_what_it_does_at_inference():
    """The inference-mode mistake's explanation said training=True "whatever the block is
    called with", which an inverted flag does not do."""
    with pytest.raises(CheckFailed) as failure:
        checks.check_residual_block_inference(FlagInverted)
    message = " ".join(str(failure.value).split())
    assert "Likely mistake: batch normalization in the wrong mode at evaluation." in message
    assert "in training mode when the block is called with training=False" in message


def test_a_block_that_treats_a_single_image_apart_fails_the_hidden_training_check():
    checks.check_residual_block_training(BatchOfOneAtInference)
    with pytest.raises(CheckFailed) as failure:
        checks.check_residual_block_training(BatchOfOneAtInference, hidden=True)
    assert "on inputs (1, 5, 7, 2), training=True" in str(failure.value)


@pytest.mark.parametrize("right", [NoTrainingArgument, InferenceByDefault])
def test_blocks_that_default_to_inference_pass(right):
    for check in BLOCK_CHECKS:
        check(right)
        check(right, hidden=True)


def test_the_exercise_says_unknown_sizes_stay_none():
    """The contract asks compute_output_shape for inputs (None, None, None, C): the exercise
    says so (a block written to the notebook's formula alone, failing on None, lost a point)."""
    notebook = json.loads((ROOT / "notebooks" / "11_capstone" / "capstone.ipynb").read_text())
    text = " ".join("".join(cell["source"]) for cell in notebook["cells"]).split()
    assert "must stay `None`." in " ".join(text)


def _worst(rows) -> float:
    """The largest error of both implementations against the trusted block on `rows`, in both
    modes, relative to the tolerance (1 = at the tolerance). Called directly: the reference
    and the independent block are trusted code."""
    worst = 0.0
    for row in rows:
        model, _, values = block.trusted(row)
        x = cases.inputs(row)
        expected = {mode: np.asarray(model(x, training=mode)) for mode in (False, True)}
        for cls in (reference.ResidualBlock, IndependentBlock):
            layer = cls(row[1], **row[2])
            layer.build((None, *row[0][1:]))
            ops.assign_sublayers(layer, values)
            for mode in (False, True):
                scale = cases.BLOCK_TOL.atol + cases.BLOCK_TOL.rtol * np.abs(expected[mode])
                error = np.abs(np.asarray(layer(x, training=mode)) - expected[mode]) / scale
                worst = max(worst, float(np.max(error)))
    return worst


def test_the_block_tolerance_holds_over_20_seeds_with_room_to_spare():
    """Both implementations stay under a tenth of the tolerance on the stored rows and on the
    rows drawn at random for 20 gradings (fresh weights and inputs for every row)."""
    worst = _worst([*cases.BLOCK_CASES["public"], *cases.BLOCK_CASES["hidden"]])
    for seed in range(20):
        with harness_cases.fresh(seed):
            drawn = cases.block_rows(True)[len(cases.BLOCK_CASES["hidden"]) :]
            worst = max(worst, _worst(drawn))
    assert worst < 0.1, worst


def test_each_mistake_s_variant_is_far_from_the_trusted_block():
    """The diagnosis tells each mistake from a right output: on the stored rows the trusted
    block with the skip after the ReLU, or in training mode at inference, differs from the
    right answer by far more than the tolerance."""
    for row in cases.BLOCK_CASES["public"]:
        model, layers, values = block.trusted(row)
        x = cases.inputs(row)
        right = np.asarray(model(x, training=False))
        wrong, wrong_layers = lessons.module("11_capstone", "mistakes").reference_block(
            row[0], row[1], **row[2], skip_after_relu=True
        )
        for name, arrays in values.items():
            wrong_layers[name].set_weights(arrays)
        assert compare(np.asarray(wrong(x, training=False)), right, cases.BLOCK_TOL)
        assert compare(np.asarray(model(x, training=True)), right, cases.BLOCK_TOL)


# --- the network --------------------------------------------------------------------------------


def tiny_network():
    inputs = keras.Input((28, 28, 1))
    x = reference.ResidualBlock(4, strides=4)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def no_training(model, x, y):
    return None


def test_an_untrained_network_fails_on_accuracy():
    with pytest.raises(CheckFailed) as failure:
        checks.check_network(tiny_network, no_training, reference.ResidualBlock)
    assert "of the held-out digits right; the capstone asks for at least 98%" in str(failure.value)


def test_a_network_ending_in_logits_fails_as_not_probabilities():
    """The notebook asks for 10 softmax outputs: argmax of logits would give the same
    accuracy, so the check looks at the outputs themselves (found by an independent logits
    network, trained with from_logits=True, that passed with 99%)."""

    def logits():
        model = tiny_network()
        outputs = keras.layers.Dense(10)(model.layers[-2].output)
        return keras.Model(model.inputs, outputs)

    with pytest.raises(CheckFailed) as failure:
        checks.check_network(logits, no_training, reference.ResidualBlock)
    assert "outputs are not probabilities" in str(failure.value)


def test_training_over_the_limit_fails_and_says_how_long(monkeypatch):
    monkeypatch.setattr(cases, "MAX_SECONDS", 0.0)
    with pytest.raises(CheckFailed) as failure:
        checks.check_network(tiny_network, no_training, reference.ResidualBlock)
    assert "Building and training took" in str(failure.value)
    assert "s of building and training on 4,000" in str(failure.value)


def test_time_spent_in_build_network_counts(monkeypatch):
    """A network trained (or warmed up) inside build_network, out of train's sight, does not
    get that time for free (found by an independent review: the clock covered train only)."""
    monkeypatch.setattr(cases, "MAX_SECONDS", 0.5)

    def slow_build():
        time.sleep(0.6)
        return tiny_network()

    with pytest.raises(CheckFailed) as failure:
        checks.check_network(slow_build, no_training, reference.ResidualBlock)
    took = re.search(r"Building and training took (\d+) s", str(failure.value))
    assert took and int(took.group(1)) >= 1, str(failure.value)


def test_a_network_without_the_residual_block_fails():
    def plain():
        inputs = keras.Input((28, 28, 1))
        x = keras.layers.GlobalAveragePooling2D()(inputs)
        return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))

    with pytest.raises(CheckFailed) as failure:
        checks.check_network(plain, no_training, reference.ResidualBlock)
    assert "without any ResidualBlock" in str(failure.value)


def fit_briefly(model, x, y):
    return model.fit(x[:100], y[:100], epochs=1, batch_size=50, verbose=0)


def tiny_with_accuracy(num_classes=10, input_shape=(28, 28, 1)):
    inputs = keras.Input(input_shape)
    x = reference.ResidualBlock(4, strides=4)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_small_network_that_keeps_every_promise_passes_at_zero_accuracy(monkeypatch):
    """The checks after the accuracy's (what train returns, build_network's arguments) pass a
    network that does what the docstrings say."""
    monkeypatch.setattr(cases, "MIN_ACCURACY", 0.0)
    checks.check_network(tiny_with_accuracy, fit_briefly, reference.ResidualBlock)


def test_train_must_return_the_history(monkeypatch):
    """The notebook's comparison reads `history.epoch`: a train that returned nothing passed
    (independent review of lesson 11)."""
    monkeypatch.setattr(cases, "MIN_ACCURACY", 0.0)
    with pytest.raises(CheckFailed) as failure:
        checks.check_network(tiny_with_accuracy, no_training, reference.ResidualBlock)
    assert "train(model, x, y) returns None; expected the History" in str(failure.value)


def test_the_network_must_be_compiled_with_the_accuracy_metric(monkeypatch):
    """The notebook's cells read `model.evaluate(...)[1]`: a network compiled without metrics
    passed (independent review of lesson 11)."""
    monkeypatch.setattr(cases, "MIN_ACCURACY", 0.0)
    with pytest.raises(CheckFailed) as failure:
        checks.check_network(tiny_network, fit_briefly, reference.ResidualBlock)
    assert "without the accuracy metric" in str(failure.value)
    assert "recorded only: loss" in str(failure.value)


def test_a_loss_that_takes_the_softmax_outputs_for_logits_fails(monkeypatch):
    """from_logits=True on a softmax network trains (Keras only warns) and reached 98% in an
    independent review: the check reads the compiled loss."""
    monkeypatch.setattr(cases, "MIN_ACCURACY", 0.0)

    def on_logits(num_classes=10, input_shape=(28, 28, 1)):
        model = tiny_with_accuracy(num_classes, input_shape)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        return model

    with pytest.raises(CheckFailed) as failure:
        checks.check_network(on_logits, fit_briefly, reference.ResidualBlock)
    assert "compiles the loss with from_logits=True" in str(failure.value)


@pytest.mark.parametrize("ignored", ["num_classes", "input_shape"])
def test_build_network_must_use_its_arguments(monkeypatch, ignored):
    """build_network's documented arguments were never passed: a network that ignored them
    passed (independent review of lesson 11)."""
    monkeypatch.setattr(cases, "MIN_ACCURACY", 0.0)

    def ignoring(num_classes=10, input_shape=(28, 28, 1)):
        if ignored == "num_classes":
            return tiny_with_accuracy(input_shape=input_shape)
        return tiny_with_accuracy(num_classes)

    with pytest.raises(CheckFailed) as failure:
        checks.check_network(ignoring, fit_briefly, reference.ResidualBlock)
    message = str(failure.value)
    assert "build_network(num_classes=4, input_shape=(32, 32, 3))" in message
    assert "keras.Input(input_shape) first" in message


def test_the_held_out_digits_are_new_at_every_grading_and_never_drawn_by_the_notebook():
    notebook = (ROOT / "notebooks" / "11_capstone" / "capstone.ipynb").read_text()
    used = {int(seed) for seed in re.findall(r"digits\([^)]*seed=(\d+)", notebook)}
    assert used and not used & {cases.TRAIN_SEED, cases.TEST_SEED}
    stored = network.digits(20, cases.TEST_SEED)[0]
    with harness_cases.fresh(1):
        first = network.digits(20, cases.TEST_SEED)[0]
    with harness_cases.fresh(2):
        second = network.digits(20, cases.TEST_SEED)[0]
    assert not np.array_equal(first, stored) and not np.array_equal(first, second)

"""Checks of lesson 07 (batch normalization), called from the notebook's test cells: the layer
against keras.layers.BatchNormalization with the same weights, step by step."""

from functools import partial

import numpy as np

from ...compare import compare, to_numpy
from ...feedback import CheckFailed, passed
from ...harness import ops  # noqa: F401  (tests read the harness's operations here)
from ...student import perform
from ...training import check_gradients, require_learning
from . import cases
from . import ops as own_ops
from .contract_steps import CONTRACT, check_traced_training
from .forbidden import BACKWARD, BATCHNORM  # noqa: F401  (tests read BACKWARD here)
from .function_checks import (  # noqa: F401  (the notebook's test cells call them here)
    check_batch_statistics,
    check_batchnorm_backward,
)
from .layers import (
    LAYER_DIAGNOSIS,
    both,
    check_input_gradient,
    compare_fits,
    compare_outputs,
    described,
    fit_both,
    judge_steps,
    keras_layer,
    noted_dtypes,
    require_variables,
    steps,
    student_layer,
)


def check_batchnorm_contract(BatchNormalization):
    """Keras's arguments, weights, output shape and config; called as model.fit calls it (the
    batch size unknown) in inference mode and, with batch statistics, in training mode."""
    CONTRACT(BatchNormalization)
    check_traced_training(BatchNormalization)
    passed("BatchNormalization has Keras's arguments, weights, output shape and config")


TRAINING_HEADLINE = (
    "In training mode BatchNormalization does not match keras.layers.BatchNormalization."
)
LARGE_GAMMA_HINT = (
    "gamma does not fit in a float16: keep every weight float32 (add_weight(..., "
    "autocast=False)) and compute in float32, as Keras does under mixed precision"
)
INFERENCE_FORMULA = (
    "in inference mode y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta, "
    "whatever the batch holds"
)
# With a mask in inference mode, as without: the mask only chooses the values of the batch
# statistics, which inference mode does not use.
MASKED_INFERENCE_HINT = (
    ", a mask or not: the mask only chooses which values make the batch statistics of "
    "training mode (masked_statistics), and inference mode uses none"
)
# A layer whose weights are made with add_weight's default autocast=True reads them as float16
# under mixed precision: its moving statistics then drift from Keras's by float16 rounding,
# and only this hint says why (the formula can be right).
MIXED_MOVING_HINT = (
    "; under mixed precision, as here, also create the weights with add_weight(..., "
    "autocast=False), as Keras does: with the default, call() reads them as float16 and the "
    "moving statistics lose digits"
)


# A training-mode output that is Keras's inference-mode output: the test of the mode is wrong,
# not the formula (a test of self.trainable_weights, empty without gamma and beta, say).
INFERENCE_IN_TRAINING = (
    "your layer gave Keras's inference-mode output, normalized with moving_mean and "
    "moving_variance: with training=True a trainable layer normalizes with the batch's mean "
    "and variance (is your test `training and self.trainable`?)"
)
NO_TRAINABLE_WEIGHTS = (
    "; with center=False and scale=False the layer has no trainable weights "
    "(self.trainable_weights is empty) and is still trainable"
)


def _inference_instead(got, expected, kwargs, shape, weights, x, mask):
    """Whether the student's training-mode output `got`, not Keras's `expected`, is what
    Keras's layer gives in inference mode (same weights, inputs and mask)."""
    expected = to_numpy(expected)
    tolerance = cases.MIXED_TOL if expected.dtype == np.float16 else cases.OUTPUT_TOL
    if compare(got, expected, tolerance) is None:
        return False
    inference = own_ops.call_steps(keras_layer(kwargs, shape, weights), [x], False, mask)
    return compare(got, to_numpy(inference["outputs"][0]), tolerance) is None


def check_training_mode(BatchNormalization, hidden=False):
    """With training=True the outputs equal keras.layers.BatchNormalization's (same weights):
    each channel normalized with the batch's own statistics, then scaled and shifted."""
    table = cases.training(hidden)
    for shape, kwargs, seed, masked in table:
        (x,), weights = cases.case_data(shape, kwargs, seed, 1)
        mask, words = cases.draw_mask(shape, seed, [x]) if masked else (None, "")
        case = f"{described(kwargs)} on inputs {shape}{words}, training=True"
        ours, theirs = both(BatchNormalization, kwargs, shape, weights, [x], True, case, mask)
        hint = (
            "y = gamma * (x - mean) / sqrt(variance + epsilon) + beta, with the mean and "
            "variance of each channel over this batch (every axis but the last)"
            + (", over the positions the mask keeps" if masked else "")
        )
        got, expected = ours["outputs"][0], theirs["outputs"][0]
        if _inference_instead(got, expected, kwargs, shape, weights, x, mask):
            bare = not kwargs.get("center", True) and not kwargs.get("scale", True)
            hint = INFERENCE_IN_TRAINING + (NO_TRAINABLE_WEIGHTS if bare else "")
        compare_outputs(got, expected, case, BatchNormalization, TRAINING_HEADLINE, hint)
    passed(f"training mode matches keras.layers.BatchNormalization on {len(table)} cases")


def check_moving_statistics(BatchNormalization, hidden=False):
    """After each of several training steps, the outputs and the moving mean and variance
    equal Keras's: moving = moving * momentum + batch statistic * (1 - momentum)."""
    table = cases.moving(hidden)
    for shape, kwargs, count, seed, masked in table:
        batches, weights = cases.case_data(shape, kwargs, seed, count)
        mask, words = cases.draw_mask(shape, seed, batches) if masked else (None, "")
        base = f"{described(kwargs)}, {count} calls with training=True on batches {shape}{words}"
        judge_steps(
            BatchNormalization,
            *both(BatchNormalization, kwargs, shape, weights, batches, True, base, mask),
            base,
            (TRAINING_HEADLINE,),
            (
                "The moving statistics differ from Keras's.",
                "after each training-mode call: moving = moving * momentum + batch statistic "
                "* (1 - momentum), with the batch's biased variance"
                + (MIXED_MOVING_HINT if kwargs.get("dtype") == cases.MIXED else ""),
            ),
            label="after call",
        )
    passed(f"moving statistics match Keras after every step of {len(table)} sequences")


def check_inference_mode(BatchNormalization, hidden=False):
    """With training=False, or no training argument, the outputs use the moving statistics
    (equal to Keras's), with a mask as without, and the weights do not change."""
    table = cases.inference(hidden)
    for shape, kwargs, seed, large, masked in table:
        batches, weights = cases.case_data(shape, kwargs, seed, 2, large)
        mask, words = cases.draw_mask(shape, seed, batches) if masked else (None, "")
        for training in (False, None):
            mode = "training=False" if training is False else "no training argument"
            case = f"{described(kwargs)}, 2 calls with {mode} on batches {shape}{words}"
            if large:
                case += f", gamma +-{cases.LARGE_GAMMA:,.0f} (beyond float16's 65,504)"
            hint = LARGE_GAMMA_HINT if large else INFERENCE_FORMULA
            judge_steps(
                BatchNormalization,
                *both(BatchNormalization, kwargs, shape, weights, batches, training, case, mask),
                case,
                (
                    "In inference mode BatchNormalization does not match keras.layers."
                    "BatchNormalization.",
                    hint + MASKED_INFERENCE_HINT if masked else hint,
                ),
                (
                    "BatchNormalization changes its weights in inference mode.",
                    "only training-mode calls update the moving statistics",
                ),
                kept=weights,
                weights_first=True,
            )
    passed(f"inference mode matches Keras on {len(table)} cases and changes nothing")


FROZEN_MODE = (
    "A frozen BatchNormalization (trainable=False) does not run in inference mode.",
    "Keras runs a BatchNormalization layer with trainable=False in inference mode "
    "even when training=True: test `training and self.trainable`",
)
# A frozen layer whose training=True outputs are its own training=False outputs does run in
# inference mode: its inference-mode output itself is what differs from Keras's.
FROZEN_INFERENCE = (
    "A frozen BatchNormalization (trainable=False) runs in inference mode, but its "
    "inference-mode output does not match keras.layers.BatchNormalization.",
    INFERENCE_FORMULA + " (test_inference_mode checks it alone)",
)


def _runs_own_inference(cls, kwargs, shape, weights, batches, ours):
    """Whether the student's frozen layer gave with training=True (`ours`) what the same
    layer gives with training=False; False if that call raises."""
    try:
        own = steps(student_layer(cls, kwargs, shape, weights), batches, False, "", kwargs)
    except CheckFailed:
        return False
    pairs = zip(ours["outputs"], own["outputs"], strict=True)
    return all(compare(got, to_numpy(wanted), cases.OUTPUT_TOL) is None for got, wanted in pairs)


def check_trainable_false(BatchNormalization):
    """A frozen layer (trainable=False, given to the constructor or set later) runs in
    inference mode even with training=True, changes nothing, and stays frozen inside fit."""
    kwargs, shape = {"momentum": 0.9}, (4, 3, 3, 3)
    batches, weights = cases.case_data(shape, kwargs, 51, 2)
    frozen = {"momentum": 0.9, "trainable": False}
    expected = own_ops.call_steps(keras_layer(frozen, shape, weights), batches, True)
    calls = f"2 calls with training=True on batches {shape}"
    for how in ("constructor", "attribute"):
        if how == "constructor":
            layer = student_layer(BatchNormalization, frozen, shape, weights)
            case = f"{described(frozen)}, {calls}"
        else:
            layer = student_layer(BatchNormalization, kwargs, shape, weights)
            perform("layer.trainable = False", "set_trainable", layer, False, forbidden=BATCHNORM)
            case = f"{described(kwargs)} built, then layer.trainable = False; {calls}"
        ours = steps(layer, batches, True, case, kwargs)
        kept = (
            "A frozen BatchNormalization (trainable=False) changes its weights.",
            "a layer with trainable=False keeps its moving statistics as they are",
        )
        try:
            judge_steps(BatchNormalization, ours, expected, case, FROZEN_MODE, kept, kept=weights)
        except CheckFailed as failure:
            if failure.headline != FROZEN_MODE[0]:
                raise
            if _runs_own_inference(BatchNormalization, frozen, shape, weights, batches, ours):
                judge_steps(
                    BatchNormalization, ours, expected, case, FROZEN_INFERENCE, kept, kept=weights
                )
            raise
    ours, theirs, case = fit_both(
        BatchNormalization, frozen, 52, "keras.Model.fit with your frozen BatchNormalization"
    )
    compare_fits(
        ours,
        theirs,
        case.replace("BatchNormalization(", "BatchNormalization(frozen: ", 1),
        BatchNormalization,
        "A model with your frozen BatchNormalization trains differently from Keras's.",
        "inside fit (training=True) a frozen layer must normalize with its moving statistics "
        "and keep all four weights as they are; the layers around it still learn",
    )
    passed("trainable=False freezes the layer as in Keras, alone and inside fit")


def check_batchnorm_trains(BatchNormalization):
    """In training mode the gradients equal Keras's (through the batch statistics too), and a
    model with the layer trains under fit exactly like the same model with Keras's layer."""
    for shape, kwargs, seed in (((4, 3, 3, 3), {"epsilon": 0.01}, 61), ((12, 5), {}, 62)):
        (x,), weights = cases.case_data(shape, kwargs, seed, 1)
        upstream = np.random.default_rng(cases.drawn.seed(seed + 100)).normal(size=shape)
        upstream = upstream.astype("float32")
        case = f"{described(kwargs)} on inputs {shape}, training=True, loss sum(output * u)"
        inputs = (BatchNormalization, kwargs, case, x, weights["gamma"], upstream)
        try:
            check_gradients(
                student_layer(BatchNormalization, kwargs, shape, weights),
                keras_layer(kwargs, shape, weights),
                x,
                None,
                cases.GRADIENT_TOL,
                case,
                forbidden=BATCHNORM,
                name=described(kwargs),
                upstream=upstream,
                training=True,
                inputs=partial(check_input_gradient, *inputs),
                diagnose=lambda: LAYER_DIAGNOSIS(BatchNormalization),
            )
        except CheckFailed as failure:
            raise noted_dtypes(failure) from None
    layer = student_layer(BatchNormalization, kwargs, shape, weights)
    case = f"{described(kwargs)} on inputs {shape}, training=True"
    require_variables(steps(layer, [x], True, case, kwargs), case)  # fit would only crash
    kwargs = {"momentum": 0.8}
    ours, theirs, case = fit_both(
        BatchNormalization, kwargs, 63, "keras.Model.fit with your BatchNormalization"
    )
    compare_fits(
        ours,
        theirs,
        case,
        BatchNormalization,
        "A model with your BatchNormalization trains differently from the same model with Keras's.",
        "fit calls the layer with training=True on every batch (batch statistics, moving "
        "statistics updated) and predict with training=False (moving statistics)",
    )
    require_learning(
        ours["loss"], "A small model with your BatchNormalization does not learn.", factor=0.95
    )
    losses = ours["loss"]
    passed(
        f"gradients match Keras and the model trains like Keras's, loss {losses[0]:.3f} -> "
        f"{losses[-1]:.3f}"
    )

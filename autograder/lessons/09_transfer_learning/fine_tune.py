"""Lesson 09's check of fine_tune, on a model whose head a trusted step trained and whose base's
block 3 it unfroze."""

import numpy as np

from ...feedback import CheckFailed, fail, passed
from ...harness import cases as drawn
from . import cases
from . import mistakes as catalogue
from .cases import perform, run
from .workflow import (
    accuracy,
    changed_paths,
    compile_problem,
    fit_head,
    fresh_base,
    is_statistic,
    listing,
    new_model,
    require_loss,
    weights_of,
)


def check_fine_tune(fine_tune):
    """After the head is trained and block 3 unfrozen, fine_tune recompiles at the given low
    rate, trains the unfrozen weights only, and keeps the accuracy."""
    base = fresh_base(fine_tune)
    model = new_model(base, 71)
    x, y = cases.target(cases.HEAD_IMAGES, 72)
    x_test, y_test = cases.target(cases.TEST_IMAGES, 73)
    fit_head(model, x, y, cases.TUNE_HEAD_EPOCHS, drawn.seed(74), "training the head")
    before_score = accuracy(model, x_test, y_test, "the model with a trained head")
    perform("unfreezing block 3", "set_trainable", base, True, from_layer="block3_conv")
    head_state = perform("the model's optimizer", "optimizer_state", model)
    before = weights_of(base, "the base")
    asked = {"epochs": cases.TUNE_EPOCHS, "batch_size": cases.TUNE_BATCH}
    what = (
        f"fine_tune(model, x, y, epochs={cases.TUNE_EPOCHS}, batch_size={cases.TUNE_BATCH}, "
        f"learning_rate={cases.TUNE_RATE:g})"
    )
    case = "the head trained, layers from block3_conv on unfrozen"
    run(what, fine_tune, model, x, y, learning_rate=cases.TUNE_RATE, case=case, **asked)
    state = perform("the model's optimizer", "optimizer_state", model)
    after = weights_of(base, "the base")
    changed = set(changed_paths(before, after))
    unfrozen = [i["path"] for i in before if i["trainable"]]
    frozen = [i["path"] for i in before if not i["trainable"]]
    refrozen = [i["path"] for i in after if not i["trainable"] and i["path"] in unfrozen]
    if refrozen and not changed & set(unfrozen):
        fail(
            f"{what} freezes weights that were unfrozen when it was called.",
            [f"unfrozen before, frozen after: {listing(refrozen)}"],
            hint="fine_tune trains the model as it is given (unfreeze_from has already chosen "
            "what trains): compile it again with the small learning rate and fit, without "
            "freezing anything",
        )
    if not changed & set(unfrozen):
        # A new compile makes a new optimizer, counting from 0: more steps than the head's
        # mean that fit went on with the head's compile (its learning rate perhaps assigned).
        steps = state["iterations"] - head_state["iterations"]
        if steps <= 0:
            why = "the model did not train"
        elif np.isclose(state["learning_rate"], head_state["learning_rate"]):
            why = (
                f"the optimizer took {steps} more steps with the head's learning rate "
                f"{head_state['learning_rate']:g}"
            )
        else:
            why = (
                f"the optimizer of the head's compile took {steps} more steps (at learning "
                f"rate {state['learning_rate']:g}): the model was not compiled again"
            )
        fail(
            f"{what} leaves the unfrozen weights of the base as they were.",
            [f"unfrozen, unchanged: {listing(unfrozen)}", why],
            catalogue.NO_RECOMPILE if steps > 0 else None,
        )
    moved = sorted(changed & set(frozen))
    if moved:
        raise CheckFailed(
            f"{what} changed weights that were frozen.",
            [f"changed: {listing(moved)}"],
            "BatchNormalization statistics moved: do not call the model in training mode "
            "outside fit"
            if any(is_statistic(p) for p in moved)
            else "fine_tune only recompiles and fits; it does not change what is trainable",
        )
    problem = compile_problem(state, what, cases.TUNE_RATE, cases.HEAD_IMAGES, **asked)
    if problem:
        too_high = (
            state["learning_rate"] is not None and state["learning_rate"] > cases.TUNE_RATE * 1.01
        )
        fail(
            f"{what} does not fine-tune as asked.",
            [problem],
            catalogue.FINE_TUNE_RATE_TOO_HIGH if too_high else None,
            "compile again with keras.optimizers.Adam(learning_rate), then fit with the given "
            "epochs and batch_size",
        )
    require_loss(
        model, what, 'compile with the loss of train_head, "sparse_categorical_crossentropy"'
    )
    after_score = accuracy(model, x_test, y_test, "the fine-tuned model")
    if after_score < before_score - cases.TUNE_MAX_DROP:
        fail(
            f"{what} drops the test accuracy from {before_score:.2f} to {after_score:.2f}.",
            [f"a correct fine-tuning moves it by less than {cases.TUNE_MAX_DROP:.2f}"],
            catalogue.FINE_TUNE_RATE_TOO_HIGH,
        )
    passed(
        f"fine_tune: recompiled at {cases.TUNE_RATE:g}, block 3 trained, the rest unchanged; test "
        f"accuracy {before_score:.2f} -> {after_score:.2f}"
    )

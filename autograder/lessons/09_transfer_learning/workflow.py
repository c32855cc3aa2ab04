"""Checks of lesson 09's transfer workflow (freeze, train_head, unfreeze_from, fine_tune). Each
step is judged on its own, the others done by trusted operations (`ops.py`) on a fresh copy of
the pretrained base or a correct model around it; the check reads back the weights, the
optimizer, the loss (`model_state.py`) and the outputs."""

import numpy as np

from ...feedback import CheckFailed, fail, passed
from ...harness import cases as drawn
from . import cases
from . import mistakes as catalogue
from .cases import perform, run
from .model_state import (
    changed_paths,
    compile_problem,
    count_parameters,
    fresh_base,
    is_statistic,
    listing,
    require_loss,
    weights_of,
)


def new_model(base, seed, what="a new model on the frozen base"):
    """A correct transfer model with 10 classes on `base`, its head drawn from `seed`."""
    return perform(what, "transfer_model", base, 10, seed=drawn.seed(seed))


def fit_head(model, x, y, epochs, seed, what):
    """Train `model` as a correct train_head would, at the head's rate and batch size."""
    perform(what, "compile_fit", model, x, y, cases.HEAD_RATE, epochs, cases.HEAD_BATCH, seed)


def accuracy(model, x, y, what) -> float:
    probabilities = np.asarray(run(what, model, x, training=False))
    return float(np.mean(np.argmax(probabilities, axis=1) == y))


def require_returned(returned, expected, what, name):
    """`what` (a call) returned `expected`, the object it was given as `name`, as promised."""
    found = perform(f"what {what} returned", "same_object", returned, expected)
    if not found["same"]:
        raise CheckFailed(
            f"{what} does not return {name}.",
            [f"it returned a {found['type']}; expected {name} itself, the object it was given"],
            f"end with `return {name}`, so that calls can be chained",
        )


def check_freeze(freeze):
    """freeze(base) leaves no trainable weight, and neither a call in training mode nor
    training a head on it changes any."""
    base = fresh_base(freeze, frozen=False)
    returned = run("freeze(base)", freeze, base, case="freeze(base) on the pretrained base")
    infos = weights_of(base, "the base")
    trainable = [i["path"] for i in infos if i["trainable"]]
    if trainable:
        fail(
            f"After freeze(base), {len(trainable)} of the base's {len(infos)} weights are still "
            "trainable.",
            [
                f"still trainable: {listing(trainable)}",
                f"trainable parameters: {count_parameters(infos, True):,}; expected 0 (and "
                f"{cases.base_parameters():,} non-trainable)",
            ],
            catalogue.BASE_NOT_FROZEN,
        )
    require_returned(returned, base, "freeze(base)", "model")
    changed = _changed_in_training(base, "your frozen base", 54, infos)
    if changed:
        fail(
            f"After freeze(base), base(images, training=True) changed {len(changed)} of the "
            "base's weights.",
            [f"changed: {listing(changed)}"],
            catalogue.WEIGHTS_FROZEN_LAYERS_NOT,
        )
    x, y = cases.target(60, 51)
    model = new_model(base, 52, "a new head on your frozen base")
    fit_head(model, x, y, 2, drawn.seed(53), "training a new head on your frozen base")
    changed = changed_paths(infos, weights_of(base, "the base"))
    if changed:
        fail(
            f"Training a head on the frozen base changed {len(changed)} of the base's weights.",
            [f"changed: {listing(changed)}"],
            catalogue.BASE_NOT_FROZEN,
        )
    _check_freezes_a_whole_model(freeze)
    _check_unfreezes_again(freeze)
    passed(
        f"freeze(base): 0 trainable and {cases.base_parameters():,} non-trainable parameters; "
        "base(images, training=True) and fitting a new head on it leave every weight of the "
        "base as it was; freeze(model) freezes a model with a head too"
    )


def _check_unfreezes_again(freeze):
    """unfreeze_from (Exercise 5) starts with base.trainable = True, which must undo freeze:
    after it every weight of the base but BatchNormalization's statistics is trainable."""
    base = fresh_base(freeze, frozen=False)
    run("freeze(base)", freeze, base, case="freeze(base) on the pretrained base")
    perform("base.trainable = True", "set_trainable", base, True)
    infos = weights_of(base, "the base", values=False)
    frozen = [i["path"] for i in infos if not i["trainable"] and not is_statistic(i["path"])]
    if frozen:
        raise CheckFailed(
            f"After freeze(base), base.trainable = True leaves {len(frozen)} of the base's "
            f"{len(infos)} weights frozen: unfreeze_from could not unfreeze them.",
            [
                f"still frozen: {listing(frozen)}",
                "base.trainable = True is unfreeze_from's first step (Exercise 5) and must undo "
                "freeze. After a freeze that sets each layer's flag and leaves the base's own "
                "flag True it changes nothing (Keras passes a model's flag on to its layers "
                "only when the flag changes): the layers stay frozen, and fine-tuning would "
                "train the head only",
            ],
            "freeze with the model's own flag, model.trainable = False: it freezes every layer "
            "inside, and base.trainable = True unfreezes them all again",
        )


def _check_freezes_a_whole_model(freeze):
    """freeze works on any model: a transfer model, whose last layer (the Dense head) has
    weights, unlike the base's last layer (a ReLU)."""
    model = new_model(fresh_base(freeze, frozen=False), 55, "a model: a trainable base, a head")
    what = "freeze(model)"
    run(what, freeze, model, case=f"{what} on a transfer model: the base, pooling, a Dense head")
    infos = weights_of(model, "the model")
    trainable = [i["path"] for i in infos if i["trainable"]]
    if trainable:
        raise CheckFailed(
            f"After {what} on a model with a Dense head, {len(trainable)} of its {len(infos)} "
            "weights are still trainable.",
            [f"still trainable: {listing(trainable)}"],
            "freeze every layer of the model, from the base (its first layer) to the head (its "
            "last): model.trainable = False does",
        )


def check_train_head(train_head, hidden=False):
    """A new head trained on 10 labelled letters per class beats HEAD_THRESHOLD on the test
    set; the model is compiled and fitted as asked; the frozen base does not change."""
    images, epochs, batch_size, rate, seed = (
        (50, 3, 25, 3e-3, 63)  # hidden: other settings, so that nothing may be hard-wired
        if hidden
        else (cases.HEAD_IMAGES, cases.HEAD_EPOCHS, cases.HEAD_BATCH, cases.HEAD_RATE, 62)
    )
    base = fresh_base(train_head)
    model = new_model(base, seed)
    x, y = cases.target(images, seed)
    what = (
        f"train_head(model, x, y, epochs={epochs}, batch_size={batch_size}, learning_rate={rate:g})"
    )
    before = weights_of(base, "the base")
    asked = {"epochs": epochs, "batch_size": batch_size, "learning_rate": rate}
    case = f"{images} labelled target images, a new head on the frozen base"
    history = run(what, train_head, model, x, y, case=case, **asked)
    state = perform("the model's optimizer", "optimizer_state", model)
    problem = compile_problem(state, what, rate, images, epochs, batch_size)
    if problem:
        raise CheckFailed(
            f"{what} does not train as asked.",
            [problem],
            "compile with keras.optimizers.Adam(learning_rate), then "
            "model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)",
        )
    require_loss(
        model,
        what,
        'compile with loss="sparse_categorical_crossentropy": the labels are class numbers, '
        "the model's outputs probabilities",
    )
    recorded = perform("what train_head returned", "history_summary", history)["recorded"]
    recorded = None if recorded is None else sorted(recorded)
    # "acc" is Keras's own short name for the metric "accuracy"
    has_accuracy = any("accuracy" in k or k in ("acc", "val_acc") for k in recorded or ())
    if recorded is None or "loss" not in recorded or not has_accuracy:
        raise CheckFailed(
            f"{what} does not return the History of a fit with the metric accuracy.",
            [
                "it returned no keras History"
                if recorded is None
                else f"the History it returned records {', '.join(recorded) or 'nothing'}"
            ],
            'compile with metrics=["accuracy"] and return what model.fit(...) returns',
        )
    changed = changed_paths(before, weights_of(base, "the base"))
    if changed:
        raise CheckFailed(
            f"{what} changed the frozen base.",
            [f"changed: {listing(changed)}"],
            "train_head only compiles and fits; it does not unfreeze anything",
        )
    if hidden:
        passed(f"train_head honours epochs, batch_size and learning_rate ({what})")
        return
    x_test, y_test = cases.target(cases.TEST_IMAGES, 64)
    score = accuracy(model, x_test, y_test, "the trained model")
    if score < cases.HEAD_THRESHOLD:
        raise CheckFailed(
            f"After {what}, the model scores {score:.2f} on {cases.TEST_IMAGES} test images; "
            f"expected at least {cases.HEAD_THRESHOLD}.",
            [
                f"a correct train_head scores about 0.8 here (chance: 0.10); {images} labelled "
                "images, 10 per class"
            ],
            "use loss='sparse_categorical_crossentropy' (the labels are class numbers) and "
            "keras.optimizers.Adam(learning_rate)",
        )
    passed(
        f"train_head: the head scores {score:.2f} on {cases.TEST_IMAGES} test images after "
        f"{epochs} epochs on {images} labels; the base is unchanged"
    )


def check_unfreeze_from(unfreeze_from, hidden=False):
    """Exactly the layers from the given one on are trainable (BatchNormalization statistics
    never are)."""
    table = cases.unfreeze_cases(hidden)
    layers = cases.base_layers()
    for name in table:
        base = fresh_base(unfreeze_from)
        what = f"unfreeze_from(base, {name!r})"
        returned = run(what, unfreeze_from, base, name, case=f"{what} on the frozen base")
        infos = weights_of(base, "the base", values=False)
        start = layers.index(name)

        def wanted(info, start=start):
            path = info["path"]
            return layers.index(path.split("/")[0]) >= start and not is_statistic(path)

        wrong = [
            f"{i['path']} is {'trainable' if i['trainable'] else 'frozen'}"
            for i in infos
            if i["trainable"] != wanted(i)
        ]
        if wrong:
            expected = sum(int(np.prod(i["shape"])) for i in infos if wanted(i))
            mistake = catalogue.BASE_LEFT_FROZEN if count_parameters(infos, True) == 0 else None
            fail(
                f"After {what}, {len(wrong)} of the base's weights have the wrong trainable flag.",
                [
                    f"first: {'; '.join(wrong[:3])}",
                    f"trainable parameters: {count_parameters(infos, True):,}; "
                    f"expected {expected:,} (layers {', '.join(layers[start:])})",
                ],
                mistake,
            )
        require_returned(returned, base, what, "base")
        _require_frozen_layers(base, what, layers[:start])
    for unknown in cases.UNKNOWN_LAYERS:
        what = f"unfreeze_from(base, {unknown!r})"
        error = perform(what, "error_of", unfreeze_from, fresh_base(unfreeze_from), unknown)
        if error is None or not error["value_error"]:
            partly = ", ".join(n for n in layers if unknown in n)
            part = f"{unknown!r} is only part of the names {partly}: compare whole names"
            raise CheckFailed(
                f"{what} does not raise ValueError, though the base has no such layer.",
                [
                    "it returned without raising"
                    if error is None
                    else f"it raised {error['type']}: {error['message']}",
                    *([f"{part} (layer.name == layer_name)"] if partly else []),
                ],
                "raise ValueError(...) naming the layer when layer_name is not among the base's "
                "layer names",
            )
    passed(
        f"unfreeze_from makes exactly the layers from the given one on trainable ({len(table)} "
        "cases), returns the base and refuses an unknown layer"
    )


def _changed_in_training(base, who, seed, before):
    """The paths of the base's weights that a call in training mode (as in fit) on 8
    preprocessed target images changed from `before`."""
    images, _ = cases.target(8, seed)
    x = np.asarray(images, "float32") * 2.0 - 1.0  # pretrained.preprocess_input
    case = "base(images, training=True) on 8 preprocessed target images"
    run(f"{who}, called with training=True", base, x, training=True, case=case)
    return changed_paths(before, weights_of(base, "the base"))


def _require_frozen_layers(base, what, frozen):
    """The layers before the given one are frozen, not only their weights: a call in training
    mode leaves their BatchNormalization statistics as they were."""
    before = weights_of(base, "the base")
    changed = _changed_in_training(base, f"your base after {what}", 56, before)
    changed = [path for path in changed if path.split("/")[0] in frozen]
    if changed:
        fail(
            f"After {what}, base(images, training=True) changed {len(changed)} weights of the "
            "layers before the given one, which should stay frozen.",
            [f"changed: {listing(changed)}"],
            catalogue.WEIGHTS_FROZEN_LAYERS_NOT,
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

"""Checks of lesson 09's transfer workflow (freeze, train_head, unfreeze_from, fine_tune),
and what they share with the TransferModel check.

Each step is judged on its own, with the other steps done by trusted operations (the lesson's
`ops.py`): the student's function gets a fresh copy of the shipped pretrained base or a correct
model around it, and the check reads back the weights, the optimizer and the outputs. When
grading, every check draws fresh data, seeds and (hidden) cases.
"""

import numpy as np

from ...feedback import CheckFailed, fail, passed
from ...harness import cases as drawn
from ...student import perform, run
from . import cases
from . import mistakes as catalogue
from .cases import FLIPS

# --- the pretrained base and models around it ----------------------------------------------------


def fresh_base(near, frozen=True):
    """A new copy of the pretrained base where the student's object `near` lives."""
    base = perform("loading the pretrained base", "pretrained_base", near, forbidden=FLIPS)
    if frozen:
        perform("freezing the base", "set_trainable", base, False, forbidden=FLIPS)
    return base


def weights_of(target, what, values=True) -> list[dict]:
    return perform(f"the weights of {what}", "variables", target, values=values, forbidden=FLIPS)


def count_parameters(infos, trainable) -> int:
    return int(sum(np.prod(i["shape"]) for i in infos if i["trainable"] == trainable))


def changed_paths(before, after) -> list[str]:
    """Paths of the weights whose values differ between two `variables` listings."""
    return [
        b["path"]
        for b, a in zip(before, after, strict=True)
        if not np.array_equal(b["value"], a["value"])
    ]


def listing(paths, limit=4) -> str:
    return ", ".join(paths[:limit]) + (
        f" and {len(paths) - limit} more" if len(paths) > limit else ""
    )


def is_statistic(path: str) -> bool:
    return path.endswith(("moving_mean", "moving_variance"))


def _accuracy(model, x, y, what) -> float:
    probabilities = np.asarray(run(what, model, x, training=False, forbidden=FLIPS))
    return float(np.mean(np.argmax(probabilities, axis=1) == y))


def _require_returned(returned, expected, what, name):
    """`what` (a call) returned `expected`, the object it was given as `name`, as promised."""
    found = perform(f"what {what} returned", "same_object", returned, expected, forbidden=FLIPS)
    if not found["same"]:
        raise CheckFailed(
            f"{what} does not return {name}.",
            [f"it returned a {found['type']}; expected {name} itself, the object it was given"],
            f"end with `return {name}`, so that calls can be chained",
        )


# --- freeze --------------------------------------------------------------------------------------


def check_freeze(freeze):
    """freeze(base) leaves no trainable weight, and neither a call in training mode nor
    training a head on it changes any."""
    base = fresh_base(freeze, frozen=False)
    returned = run(
        "freeze(base)", freeze, base, forbidden=FLIPS, case="freeze(base) on the pretrained base"
    )
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
    _require_returned(returned, base, "freeze(base)", "model")
    images, _ = cases.target(8, 54)
    run(
        "your frozen base, called with training=True",
        base,
        np.asarray(images, "float32") * 2.0 - 1.0,  # pretrained.preprocess_input
        training=True,
        forbidden=FLIPS,
        case="base(images, training=True) on 8 preprocessed target images",
    )
    changed = changed_paths(infos, weights_of(base, "the base"))
    if changed:
        fail(
            f"After freeze(base), base(images, training=True) changed {len(changed)} of the "
            "base's weights.",
            [f"changed: {listing(changed)}"],
            catalogue.WEIGHTS_FROZEN_LAYERS_NOT,
        )
    x, y = cases.target(60, 51)
    model = perform(
        "a new head on your frozen base",
        "transfer_model",
        base,
        10,
        seed=drawn.seed(52),
        forbidden=FLIPS,
    )
    perform(
        "training a new head on your frozen base",
        "compile_fit",
        model,
        x,
        y,
        learning_rate=cases.HEAD_RATE,
        epochs=2,
        batch_size=cases.HEAD_BATCH,
        seed=drawn.seed(53),
        forbidden=FLIPS,
    )
    changed = changed_paths(infos, weights_of(base, "the base"))
    if changed:
        fail(
            f"Training a head on the frozen base changed {len(changed)} of the base's weights.",
            [f"changed: {listing(changed)}"],
            catalogue.BASE_NOT_FROZEN,
        )
    passed(
        f"freeze(base): 0 trainable and {cases.base_parameters():,} non-trainable parameters; "
        "base(images, training=True) and fitting a new head on it leave every weight of the "
        "base as it was"
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
    """A new head trained on 10 labelled letters per class beats HEAD_THRESHOLD on the test
    set; the model is compiled and fitted as asked; the frozen base does not change."""
    if hidden:  # other epochs, batch size and learning rate: nothing may be hard-wired
        images, epochs, batch_size, rate, seed = 50, 3, 25, 3e-3, 63
    else:
        images, epochs, batch_size, rate, seed = (
            cases.HEAD_IMAGES,
            cases.HEAD_EPOCHS,
            cases.HEAD_BATCH,
            cases.HEAD_RATE,
            62,
        )
    base = fresh_base(train_head)
    model = perform(
        "a new model on the frozen base",
        "transfer_model",
        base,
        10,
        seed=drawn.seed(seed),
        forbidden=FLIPS,
    )
    x, y = cases.target(images, seed)
    what = (
        f"train_head(model, x, y, epochs={epochs}, batch_size={batch_size}, learning_rate={rate:g})"
    )
    before = weights_of(base, "the base")
    history = run(
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
    recorded = perform("what train_head returned", "history_keys", history, forbidden=FLIPS)
    if recorded is None or "loss" not in recorded or not any("accuracy" in k for k in recorded):
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
    score = _accuracy(model, x_test, y_test, "the trained model")
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


# --- unfreeze_from -------------------------------------------------------------------------------


def check_unfreeze_from(unfreeze_from, hidden=False):
    """Exactly the layers from the given one on are trainable (BatchNormalization statistics
    never are)."""
    table = cases.unfreeze_cases(hidden)
    layers = cases.base_layers()
    for name in table:
        base = fresh_base(unfreeze_from)
        what = f"unfreeze_from(base, {name!r})"
        returned = run(
            what, unfreeze_from, base, name, forbidden=FLIPS, case=f"{what} on the frozen base"
        )
        infos = weights_of(base, "the base", values=False)
        start = layers.index(name)
        wrong = []
        for info in infos:
            layer = info["path"].split("/")[0]
            wanted = layers.index(layer) >= start and not is_statistic(info["path"])
            if info["trainable"] != wanted:
                wrong.append(f"{info['path']} is {'trainable' if info['trainable'] else 'frozen'}")
        if wrong:
            expected = sum(
                int(np.prod(i["shape"]))
                for i in infos
                if layers.index(i["path"].split("/")[0]) >= start and not is_statistic(i["path"])
            )
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
        _require_returned(returned, base, what, "base")
    unknown = "no_such_layer"
    what = f"unfreeze_from(base, {unknown!r})"
    base = fresh_base(unfreeze_from)
    error = perform(what, "error_of", unfreeze_from, base, unknown, forbidden=FLIPS)
    if error is None or not error["value_error"]:
        raise CheckFailed(
            f"{what} does not raise ValueError, though the base has no such layer.",
            ["it returned" if error is None else f"it raised {error['type']}: {error['message']}"],
            "raise ValueError(...) naming the layer when layer_name is not among the base's "
            "layer names",
        )
    passed(
        f"unfreeze_from makes exactly the layers from the given one on trainable ({len(table)} "
        "cases), returns the base and refuses an unknown layer"
    )


# --- fine_tune -----------------------------------------------------------------------------------


def check_fine_tune(fine_tune):
    """After the head is trained and block 3 unfrozen, fine_tune recompiles at the given low
    rate, trains the unfrozen weights only, and keeps the accuracy."""
    base = fresh_base(fine_tune)
    model = perform(
        "a new model on the frozen base",
        "transfer_model",
        base,
        10,
        seed=drawn.seed(71),
        forbidden=FLIPS,
    )
    x, y = cases.target(cases.HEAD_IMAGES, 72)
    x_test, y_test = cases.target(cases.TEST_IMAGES, 73)
    perform(
        "training the head",
        "compile_fit",
        model,
        x,
        y,
        learning_rate=cases.HEAD_RATE,
        epochs=cases.TUNE_HEAD_EPOCHS,
        batch_size=cases.HEAD_BATCH,
        seed=drawn.seed(74),
        forbidden=FLIPS,
    )
    before_score = _accuracy(model, x_test, y_test, "the model with a trained head")
    perform(
        "unfreezing block 3", "set_trainable", base, True, from_layer="block3_conv", forbidden=FLIPS
    )
    head_state = perform("the model's optimizer", "optimizer_state", model, forbidden=FLIPS)
    before = weights_of(base, "the base")
    what = (
        f"fine_tune(model, x, y, epochs={cases.TUNE_EPOCHS}, batch_size={cases.TUNE_BATCH}, "
        f"learning_rate={cases.TUNE_RATE:g})"
    )
    run(
        what,
        fine_tune,
        model,
        x,
        y,
        epochs=cases.TUNE_EPOCHS,
        batch_size=cases.TUNE_BATCH,
        learning_rate=cases.TUNE_RATE,
        forbidden=FLIPS,
        case="the head trained, layers from block3_conv on unfrozen",
    )
    after = weights_of(base, "the base")
    state = perform("the model's optimizer", "optimizer_state", model, forbidden=FLIPS)
    changed = set(changed_paths(before, after))
    unfrozen = [i["path"] for i in before if i["trainable"]]
    frozen = [i["path"] for i in before if not i["trainable"]]
    if not changed & set(unfrozen):
        ran = state["iterations"] > head_state["iterations"]
        same = np.isclose(state["learning_rate"], head_state["learning_rate"])
        fail(
            f"{what} leaves the unfrozen weights of the base as they were.",
            [
                f"unfrozen, unchanged: {listing(unfrozen)}",
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
        statistics = [p for p in moved if is_statistic(p)]
        raise CheckFailed(
            f"{what} changed weights that were frozen.",
            [f"changed: {listing(moved)}"],
            "fine_tune only recompiles and fits; it does not change what is trainable"
            if not statistics
            else "BatchNormalization statistics moved: do not call the model in training mode "
            "outside fit",
        )
    problem = _check_compiled(
        state, what, cases.TUNE_RATE, _steps(cases.HEAD_IMAGES, cases.TUNE_EPOCHS, cases.TUNE_BATCH)
    )
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
    after_score = _accuracy(model, x_test, y_test, "the fine-tuned model")
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

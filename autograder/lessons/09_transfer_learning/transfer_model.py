"""Lesson 09's check of TransferModel: a Dense head on the pooled features of the preprocessed
images, only the head trainable on a frozen base, augmentation in training only, the base in
inference mode."""

import numpy as np

from ...compare import compare
from ...diagnosis import DIAGNOSIS_TOLERANCE
from ...feedback import CheckFailed, fail, passed
from ...student import label
from . import cases
from . import mistakes as catalogue
from . import model_state as state
from .cases import perform, run


def _head_weights(model, base_paths, num_classes, what):
    """The (kernel, bias) of the model's new Dense head, and all its weights outside the base."""
    infos = state.weights_of(model, what)
    outside = [i for i in infos if i["path"] not in base_paths]
    width = cases.local_base().output.shape[-1]
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
        wrong = cases.head_output(cases.features(x, preprocess), kernel, bias, softmax)
        if compare(out, wrong, DIAGNOSIS_TOLERANCE) is None:
            return mistake
    return None


def check_transfer_model(TransferModel, hidden=False):
    """The head sits on the pooled features of the preprocessed images; only it is trainable
    on a frozen base; augmentation runs in training only; the base stays in inference mode."""
    table = cases.model_cases(hidden)
    base_paths = {i["path"] for i in state.weights_of(cases.local_base(), "the base", values=False)}
    for num_classes, n, seed in table:
        base = state.fresh_base(TransferModel)
        call = f"{label(TransferModel)}(base, {num_classes})"
        model = run(call, TransferModel, base, num_classes)
        x, _ = cases.target(n, seed)
        case = f"{call} on {n} target images, training=False"
        what = f"{call}(images, training=False)"
        out = np.asarray(run(what, model, x, training=False, case=case))
        if out.shape != (n, num_classes):
            raise CheckFailed(
                f"{call} gives outputs of shape {out.shape}; expected {(n, num_classes)}.",
                [f"case: {case}", "output shape = (batch, num_classes): one probability per class"],
            )
        kernel, bias, infos = _head_weights(model, base_paths, num_classes, call)
        expected = cases.head_output(cases.features(x), kernel, bias)
        mismatch = compare(out, expected, cases.OUTPUT_TOL, name="probabilities")
        if mismatch:
            fail(
                f"{call} does not compute softmax(Dense(GlobalAveragePooling2D(base("
                "preprocess_input(images))))).",
                [f"case: {case}", *mismatch.lines],
                _diagnose_output(out, x, kernel, bias),
            )
        head = int(np.prod(kernel.shape) + np.prod(bias.shape))
        trainable, frozen = (state.count_parameters(infos, flag) for flag in (True, False))
        if (trainable, frozen) != (head, cases.base_parameters()):
            raise CheckFailed(
                f"{call} on a frozen base has {trainable:,} trainable and {frozen:,} "
                "non-trainable parameters.",
                [
                    f"expected {head:,} trainable (the head: {kernel.shape[0]} x {num_classes} "
                    f"+ {num_classes}) and {cases.base_parameters():,} non-trainable (the base)",
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
    mirror = perform("a test augmentation layer", "mirror_layer", TransferModel)
    call = f"{label(TransferModel)}(base, {num_classes}, augmentation=mirror)"
    model = run(call, TransferModel, base, num_classes, augmentation=mirror)
    note = (
        "mirror is a test augmentation that reverses the width of the images when called with "
        "training=True (its default, like RandomFlip's) and leaves them alone with training=False"
    )
    outputs = {}
    seen = {}
    for training in (False, True):
        what = f"{call}(images, training={training})"
        outputs[training] = np.asarray(run(what, model, x, training=training))
        so_far = perform("what mirror saw", "call", mirror.flips)
        seen[training] = so_far[len(seen.get(False, [])) :]
    if any(seen[False]):
        fail(
            f"{call} with training=False applies the augmentation.",
            [note, f"mirror mirrored the images in {sum(seen[False])} call(s) at inference"],
            catalogue.AUGMENTATION_AT_INFERENCE,
            "call self.augmentation(x, training=training)",
        )
    kernel, bias, _ = _head_weights(model, base_paths, num_classes, call)
    plain = cases.head_output(cases.features(x), kernel, bias)
    # At inference nothing is random and the augmentation passes the images on: the model
    # with an augmentation computes what it computes without one.
    mismatch = compare(outputs[False], plain, cases.OUTPUT_TOL, name="probabilities")
    if mismatch:
        fail(
            f"{call} with training=False does not compute softmax(Dense(GlobalAveragePooling2D("
            "base(preprocess_input(images))))).",
            [note, *mismatch.lines],
            _diagnose_output(outputs[False], x, kernel, bias),
            "with an augmentation too: images -> augmentation -> preprocess_input -> base -> "
            "pooling -> Dense",
        )
    unused = compare(outputs[True], plain, cases.OUTPUT_TOL) is None
    if not any(seen[True]) or unused:
        detail = (
            "mirror mirrored the images, but the outputs are those of the un-mirrored images"
            if any(seen[True])
            else "mirror was never called to mirror the images"
        )
        fail(
            f"{call} with training=True does not train on augmented images.",
            [note, detail],
            catalogue.AUGMENTATION_IGNORED,
            "x = self.augmentation(x, training=training) first, when it is not None",
        )


def _check_base_mode(model, base, call, x):
    """With the base unfrozen, a training call leaves its BatchNormalization statistics alone."""
    perform("unfreezing the base", "set_trainable", base, True)
    before = state.weights_of(base, "the base")
    case = f"{call} on {len(x)} images, training=True, base unfrozen as for fine-tuning"
    run(f"{call}(images, training=True)", model, x, training=True, case=case)
    after = state.weights_of(base, "the base")
    moved = [p for p in state.changed_paths(before, after) if state.is_statistic(p)]
    if moved:
        fail(
            f"{call} runs the base's BatchNormalization in training mode.",
            [f"case: {case}", f"BatchNormalization statistics changed: {state.listing(moved)}"],
            catalogue.BASE_IN_TRAINING_MODE,
            "call the base as self.base(x, training=False), whatever the model's training flag",
        )

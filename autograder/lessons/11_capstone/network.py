"""Lesson 11's check of the student's network: built from their ResidualBlock, trained by their
`train` on digits drawn here, judged on held-out digits they never see, in at most a minute.

The time is measured here, around the calls that build and train (a network trained inside
`build_network` counts), outside the student's code:
when grading, the student's code runs in the sandbox and cannot change this clock. The
held-out labels never leave this process.
"""

import time

import numpy as np

from ...contract import describe_call
from ...feedback import CheckFailed, fail, passed
from ...harness import cases as drawn
from ...student import error_hint, label, perform, run
from . import cases
from .block import require_block
from .cases import NOTHING


def digits(n: int, stored_seed: int):
    """`n` of the course's digits, from a seed the notebook never uses (fresh when grading)."""
    from course.data import synthetic

    return synthetic.digits(n, seed=drawn.seed(stored_seed))


def check_network(build_network, train, ResidualBlock):
    """build_network() uses ResidualBlock; build_network() and train(model, x, y) on
    TRAIN_IMAGES digits take at most MAX_SECONDS together and leave at least MIN_ACCURACY of
    TEST_IMAGES held-out digits right; train returns the History, with the accuracy metric;
    the loss reads the softmax outputs as probabilities; build_network builds what other
    arguments (OTHER_NETWORK) ask for."""
    require_block(ResidualBlock)
    start = time.perf_counter()
    model = run("build_network()", build_network, forbidden=NOTHING)
    seconds = time.perf_counter() - start
    blocks = perform(
        "counting the ResidualBlocks of build_network()",
        "residual_blocks_in",
        model,
        ResidualBlock,
        forbidden=NOTHING,
    )
    if not blocks:
        fail(
            f"build_network() returns a model without any {label(ResidualBlock)}.",
            hint="the capstone's network is a residual network: use your ResidualBlock in it",
        )
    x, y = digits(cases.TRAIN_IMAGES, cases.TRAIN_SEED)
    x_test, y_test = digits(cases.TEST_IMAGES, cases.TEST_SEED)
    what = f"train(model, x, y) on {cases.TRAIN_IMAGES:,} digits"
    start = time.perf_counter()
    history = run(what, train, model, x, y, forbidden=NOTHING)
    seconds += time.perf_counter() - start
    probabilities = perform(
        f"model.predict on {cases.TEST_IMAGES:,} held-out digits",
        "class_probabilities",
        model,
        x_test,
        forbidden=NOTHING,
    )
    probabilities = np.asarray(probabilities)
    if probabilities.shape != (len(y_test), 10):
        raise CheckFailed(
            f"The trained model predicts shape {probabilities.shape}; expected "
            f"({len(y_test)}, 10), one probability per digit class.",
            [],
            "end the network with keras.layers.Dense(10, activation='softmax')",
        )
    sums = probabilities.sum(axis=1)
    off = ~(np.abs(sums - 1) <= cases.PROBABILITY_TOL) | ~(probabilities.min(axis=1) >= 0)
    if off.any():
        row = int(np.argmax(off))
        fail(
            "The trained model's outputs are not probabilities: build_network() must end in "
            "10 softmax outputs.",
            [
                f"{int(off.sum())} of {len(off)} held-out digits get outputs that are negative or "
                f"do not sum to 1; digit {row}: sum {sums[row]:.4g}, smallest "
                f"{probabilities[row].min():.4g}"
            ],
            hint="end the network with keras.layers.Dense(10, activation='softmax') and compile it "
            "with loss='sparse_categorical_crossentropy' (no from_logits)",
        )
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == y_test))
    result = (
        f"{accuracy:.1%} on {cases.TEST_IMAGES:,} held-out digits after {seconds:.0f} s of "
        f"building and training on {cases.TRAIN_IMAGES:,}"
    )
    if seconds > cases.MAX_SECONDS:
        fail(
            f"Building and training took {seconds:.0f} s; the capstone asks for at most "
            f"{cases.MAX_SECONDS:.0f} s.",
            [result],
            hint="fewer epochs, fewer or narrower blocks, or a larger batch size; a network "
            "of two small blocks at 14x14 and 7x7 reaches 99% in two epochs",
        )
    if accuracy < cases.MIN_ACCURACY:
        fail(
            f"The trained network gets {accuracy:.1%} of the held-out digits right; the "
            f"capstone asks for at least {cases.MIN_ACCURACY:.0%}.",
            [result],
            hint="compile with Adam and sparse categorical cross-entropy, train a few epochs; "
            "with few training steps a batch normalization momentum of 0.9 lets the moving "
            "statistics catch up",
        )
    check_history(history)
    if perform("reading the model's loss", "loss_from_logits", model, forbidden=NOTHING):
        fail(
            "build_network() compiles the loss with from_logits=True, but the network ends in "
            "softmax: its outputs are probabilities already, not logits.",
            [result],
            hint="compile with loss='sparse_categorical_crossentropy' (from_logits=False, the "
            "default)",
        )
    check_arguments(build_network)
    passed(result)


def check_history(history) -> None:
    """train returns model.fit's History, which recorded the accuracy metric: the notebook's
    cells read the epochs from it, and the accuracy from model.evaluate."""
    found = perform(
        "reading what train(model, x, y) returned", "history_summary", history, forbidden=NOTHING
    )
    if found["recorded"] is None:
        what = "None" if found["type"] == "NoneType" else f"a {found['type']}"
        fail(
            f"train(model, x, y) returns {what}; expected the History that model.fit returns.",
            hint="end train with `return model.fit(...)`: the notebook reads the epochs from it",
        )
    if not any("acc" in name for name in found["recorded"]):
        fail(
            "build_network() compiles the model without the accuracy metric.",
            [f"model.fit recorded only: {', '.join(found['recorded']) or 'nothing'}"],
            hint="compile with metrics=['accuracy']: the notebook's cells read the accuracy from "
            "model.evaluate",
        )


def check_arguments(build_network) -> None:
    """build_network(num_classes, input_shape) builds the network its arguments ask for."""
    kwargs = dict(cases.OTHER_NETWORK)
    call = describe_call("build_network", (), kwargs)
    x = drawn.normal((2, *kwargs["input_shape"]), cases.TEST_SEED)
    expected = (2, kwargs["num_classes"])
    hint = (
        "build the network from the arguments: keras.Input(input_shape) first, "
        "Dense(num_classes, activation='softmax') last"
    )
    with error_hint(hint):
        model = run(call, build_network, forbidden=NOTHING, **kwargs)
        found = perform(
            f"model.predict on 2 images of shape {kwargs['input_shape']}",
            "class_probabilities",
            model,
            x,
            case=call,
            forbidden=NOTHING,
        )
    if np.shape(found) != expected:
        fail(
            f"{call} predicts shape {np.shape(found)} for 2 images; expected {expected}.",
            hint=hint,
        )

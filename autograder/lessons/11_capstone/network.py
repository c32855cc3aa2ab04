"""Lesson 11's check of the student's network: built from their ResidualBlock, trained by their
`train` on digits drawn here, judged on held-out digits they never see, in at most a minute.

The time is measured here, around the calls that build and train (a network trained inside
`build_network` counts), outside the student's code:
when grading, the student's code runs in the sandbox and cannot change this clock. The
held-out labels never leave this process.
"""

import time

import numpy as np

from ...feedback import CheckFailed, fail, passed
from ...harness import cases as drawn
from ...student import label, perform, run
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
    TEST_IMAGES held-out digits right."""
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
    run(what, train, model, x, y, forbidden=NOTHING)
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
    passed(result)

"""Where lesson 09's accuracy thresholds come from: the checks' own procedures over many seeds.

For each seed, as `check_train_head` does: a correct head on a fresh frozen base, trained on 100
target images (10 per class), scored on 300 test images. As `check_fine_tune` does: a head
trained for TUNE_HEAD_EPOCHS, block 3 unfrozen, fine-tuned at TUNE_RATE (and, to show the
mistake is caught, at the head's rate). Data and seeds are drawn as when grading. The script
prints the distribution of each score and of the change of accuracy by fine-tuning.

    python benchmarks/transfer_learning_checks.py [--seeds 100]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from autograder import lessons  # noqa: E402
from autograder.harness import cases  # noqa: E402

checks = lessons.module("09_transfer_learning", "cases")  # the checks' tables and data
ops = lessons.module("09_transfer_learning", "ops")  # the trusted operations the checks use


def accuracy(model, x, y) -> float:
    return float(np.mean(np.argmax(np.asarray(model(x, training=False)), axis=1) == y))


def one_seed(seed: int) -> dict[str, float]:
    with cases.fresh(seed):
        found = {}
        x, y = checks.target(checks.HEAD_IMAGES, 62)
        x_test, y_test = checks.target(checks.TEST_IMAGES, 64)
        base = ops.pretrained_base()
        ops.set_trainable(base, False)
        model = ops.transfer_model(base, 10, seed=cases.seed(61))
        ops.compile_fit(model, x, y, checks.HEAD_RATE, checks.HEAD_EPOCHS, checks.HEAD_BATCH)
        found["head"] = accuracy(model, x_test, y_test)

        for rate, name in ((checks.TUNE_RATE, "fine-tune change"), (checks.HEAD_RATE, "at 1e-2")):
            base = ops.pretrained_base()
            ops.set_trainable(base, False)
            model = ops.transfer_model(base, 10, seed=cases.seed(71))
            x, y = checks.target(checks.HEAD_IMAGES, 72)
            x_test, y_test = checks.target(checks.TEST_IMAGES, 73)
            ops.compile_fit(
                model, x, y, checks.HEAD_RATE, checks.TUNE_HEAD_EPOCHS, checks.HEAD_BATCH
            )
            before = accuracy(model, x_test, y_test)
            ops.set_trainable(base, True, from_layer="block3_conv")
            ops.compile_fit(model, x, y, rate, checks.TUNE_EPOCHS, checks.HEAD_BATCH)
            found[name] = accuracy(model, x_test, y_test) - before
        return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = [one_seed(seed) for seed in range(args.seeds)]
    for name in rows[0]:
        values = np.array([row[name] for row in rows])
        print(
            f"{name:>17}: mean {values.mean():+.3f}  min {values.min():+.3f}  "
            f"max {values.max():+.3f}  (over {len(values)} seeds)"
        )
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

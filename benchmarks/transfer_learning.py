"""Does the shipped pretrained base help on the target task? Accuracy against labels per class.

For 3, 10 and 30 labelled images per class of the target task (`course.pretrained.target_data`:
the mirror-symmetric letters A H M O T U V W X Y, in fonts and with distortions the base never
saw), over several seeds, the script trains with the reference solutions of lesson 09:

- scratch: what the notebook runs, `TransferModel` on a fresh base, every weight trained; the
  base runs in inference mode, so its BatchNormalization layers are fixed affine maps;
- scratch + flips: the same with `RandomFlip("horizontal")` as augmentation;
- with --bn-training, also scratch (BN training): the base's architecture and the same head as
  one ordinary network, its BatchNormalization layers learning their statistics in training
  mode (with a few hundred steps on a few images these statistics lag behind, and it scores
  lowest of the three);
  (all scratch variants: Adam 1e-3 for --scratch-steps steps, at most 100 epochs, as in the
  notebook)
- frozen: the pretrained base frozen, a new head trained (`train_head`, Adam 1e-2, HEAD_STEPS);
- frozen + flips: the same with `RandomFlip("horizontal")`;
- fine-tuned: the frozen model, then block 3 of the base unfrozen and trained at Adam 1e-4
  (`fine_tune`, TUNE_STEPS).

Every model is scored on the same 1,000 test images. The script prints the mean accuracy per
method and size, the gain of "frozen" over the best scratch variant at 10 labels per class
(the issue asks for at least 10 points over 5 seeds), and the seconds it took. It is not run by
the tests: with 5 seeds it trains 75 networks, about ten minutes on two cores.

    python benchmarks/transfer_learning.py [--seeds 5] [--sizes 3,10,30] [--scratch-steps 600]
                                           [--bn-training]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from course import pretrained  # noqa: E402
from solutions.transfer_learning import (  # noqa: E402
    RandomFlip,
    TransferModel,
    fine_tune,
    freeze,
    train_head,
    unfreeze_from,
)

POOL = (3000, 100)  # (images, seed) the labelled subsets are drawn from
TEST = (1000, 101)
SCRATCH_STEPS, HEAD_STEPS, TUNE_STEPS = 600, 240, 60  # as in the notebook
BATCH_SIZE = 16
METHODS = (
    "scratch (BN training)",
    "scratch",
    "scratch + flips",
    "frozen",
    "frozen + flips",
    "fine-tuned",
)
SCRATCH = METHODS[:3]


def epochs_for(images: int, steps: int) -> int:
    """Epochs that make about `steps` training steps on `images` images."""
    return int(np.ceil(steps / np.ceil(images / BATCH_SIZE)))


def scratch_epochs(images: int, steps: int) -> int:
    """The notebook's budget for a network from scratch: `steps` steps, at most 100 epochs (3
    images per class reach 100 epochs after 200 steps, and gain little after)."""
    return min(epochs_for(images, steps), 100)


def labelled_subset(x, y, per_class: int, seed: int):
    """`per_class` images of every class, drawn without replacement."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    index = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in classes]
    )
    return x[index], y[index]


def accuracy(model, x, y) -> float:
    return float(np.mean(np.argmax(model.predict(x, batch_size=250, verbose=0), axis=1) == y))


def scratch_in_training_mode(x, y, classes: int, seed: int, steps: int):
    """The base's architecture and the head, trained from scratch as one ordinary network."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(pretrained.INPUT_SHAPE)
    features = pretrained.build_base()(pretrained.preprocess_input(inputs))
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    model = keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(pooled))
    train_head(
        model, x, y, epochs=scratch_epochs(len(y), steps), batch_size=BATCH_SIZE, learning_rate=1e-3
    )
    return model


def scratch(x, y, classes: int, seed: int, steps: int, flips: bool):
    """`TransferModel` on a freshly initialised base, every weight trained."""
    keras.utils.set_random_seed(seed)
    augmentation = RandomFlip("horizontal", seed=seed) if flips else None
    model = TransferModel(pretrained.build_base(), classes, augmentation=augmentation)
    train_head(
        model, x, y, epochs=scratch_epochs(len(y), steps), batch_size=BATCH_SIZE, learning_rate=1e-3
    )
    return model


def transferred(x, y, classes: int, seed: int, flips: bool):
    """The frozen pretrained base with a new head; returns (model, base)."""
    keras.utils.set_random_seed(seed)
    base = freeze(pretrained.load_base())
    augmentation = RandomFlip("horizontal", seed=seed) if flips else None
    model = TransferModel(base, classes, augmentation=augmentation)
    train_head(model, x, y, epochs=epochs_for(len(y), HEAD_STEPS), batch_size=BATCH_SIZE)
    return model, base


def run_one(x, y, x_test, y_test, seed: int, scratch_steps: int, bn_training: bool):
    classes = int(y.max()) + 1
    found = {}
    if bn_training:
        model = scratch_in_training_mode(x, y, classes, seed, scratch_steps)
        found["scratch (BN training)"] = accuracy(model, x_test, y_test)
    found["scratch"] = accuracy(scratch(x, y, classes, seed, scratch_steps, False), x_test, y_test)
    model = scratch(x, y, classes, seed, scratch_steps, True)
    found["scratch + flips"] = accuracy(model, x_test, y_test)
    found["frozen + flips"] = accuracy(transferred(x, y, classes, seed, True)[0], x_test, y_test)
    model, base = transferred(x, y, classes, seed, False)
    found["frozen"] = accuracy(model, x_test, y_test)
    unfreeze_from(base, "block3_conv")
    fine_tune(model, x, y, epochs=epochs_for(len(y), TUNE_STEPS), batch_size=BATCH_SIZE)
    found["fine-tuned"] = accuracy(model, x_test, y_test)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sizes", default="3,10,30", help="labelled images per class")
    parser.add_argument("--scratch-steps", type=int, default=SCRATCH_STEPS)
    parser.add_argument("--bn-training", action="store_true", help="also scratch (BN training)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    started = time.perf_counter()
    x_pool, y_pool = pretrained.target_data(*POOL)
    x_test, y_test = pretrained.target_data(*TEST)
    methods = METHODS if args.bn_training else METHODS[1:]
    results = {size: {method: [] for method in methods} for size in sizes}
    for size in sizes:
        for seed in range(args.seeds):
            x, y = labelled_subset(x_pool, y_pool, size, 1000 + seed)
            found = run_one(x, y, x_test, y_test, seed, args.scratch_steps, args.bn_training)
            for method, value in found.items():
                results[size][method].append(value)
            line = "  ".join(f"{m} {results[size][m][-1]:.3f}" for m in methods)
            print(f"{size:>3} per class, seed {seed}: {line}", flush=True)

    print(f"\nmean test accuracy over {args.seeds} seeds ({len(y_test)} test images each)")
    print("| labels per class | " + " | ".join(methods) + " |")
    print("|" + " --- |" * (len(methods) + 1))
    for size in sizes:
        cells = " | ".join(
            f"{np.mean(results[size][m]):.3f} ± {np.std(results[size][m]):.3f}" for m in methods
        )
        print(f"| {size} | {cells} |")
    if 10 in results:
        best = max((m for m in SCRATCH if m in methods), key=lambda m: np.mean(results[10][m]))
        gain = np.mean(results[10]["frozen"]) - np.mean(results[10][best])
        print(f"\nfrozen minus the best scratch ({best}) at 10 per class: {100 * gain:+.1f} points")
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

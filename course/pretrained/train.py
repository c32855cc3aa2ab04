"""Train the course's pretrained base on its source task and write the weights and their record.

    python -m course.pretrained.train              # writes course/pretrained/glyphs_cnn.*
    python -m course.pretrained.train --out DIR    # writes DIR/glyphs_cnn.* instead
    python -m course.pretrained.train --out DIR --epochs 1 --train-images 500 --test-images 100
                                                   # a quick trial run

The source classifier (`course.pretrained.build_source_model`) is trained with Adam on the 30,000
source training images (`source_data("train")`), then scored on the 3,000 source test images.
Seeds and TensorFlow's deterministic ops make a run repeatable on one machine; another CPU may
round differently and land a few test images away. The record (JSON) says what was run, with
which versions, how long it took and what it scored; the tests check that the shipped weights
still score exactly that.
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

from course import pretrained

EPOCHS = 6
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
SEED = 0


def train(
    folder: Path,
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    learning_rate=LEARNING_RATE,
    seed=SEED,
    train_images=None,
    test_images=None,
):
    """Train the source classifier; write `glyphs_cnn.weights.h5` and `glyphs_cnn.json` into
    `folder`; return the record. `train_images` and `test_images` (default: all) use only the
    first images of each split."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    started = time.perf_counter()
    x_train, y_train = pretrained.source_data("train", train_images)
    model = pretrained.build_source_model()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=2)
    correct, total = pretrained.source_accuracy(model, n=test_images)
    seconds = time.perf_counter() - started

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / pretrained.WEIGHTS.name
    clean = pretrained.build_source_model()  # not compiled: no optimizer state in the file
    clean.set_weights(model.get_weights())
    clean.save_weights(weights)
    base = model.get_layer(pretrained.BASE_NAME)
    record = {
        "model": f"glyphs_cnn: preprocess_input -> {pretrained.BASE_NAME} -> "
        f"GlobalAveragePooling2D -> Dense({len(pretrained.SOURCE_CLASSES)}, softmax)",
        "base": {
            "name": pretrained.BASE_NAME,
            "layers": [layer.name for layer in base.layers[1:]],
            "input_shape": list(pretrained.INPUT_SHAPE),
            "output_shape": list(base.output.shape[1:]),
            "parameters": int(base.count_params()),
        },
        "source_task": {
            "classes": pretrained.SOURCE_CLASSES,
            "data": "course.data.letters (default fonts: course.data.DIGIT_FONTS)",
            "jitter": {
                key: list(value) if isinstance(value, tuple) else value
                for key, value in pretrained.SOURCE_JITTER.items()
            },
            "train": {"images": len(y_train), "seed": pretrained.SOURCE_SPLITS["train"][1]},
            "test": {"images": total, "seed": pretrained.SOURCE_SPLITS["test"][1]},
        },
        "training": {
            "optimizer": "Adam",
            "learning_rate": learning_rate,
            "epochs": epochs,
            "batch_size": batch_size,
            "seed": seed,
            "final_loss": round(float(history.history["loss"][-1]), 5),
            "seconds": round(seconds, 1),
        },
        "source_test": {"correct": correct, "total": total, "accuracy": correct / total},
        "versions": {
            "keras": keras.__version__,
            "tensorflow": tf.__version__,
            "python": platform.python_version(),
        },
        "weights_file": weights.name,
        "weights_bytes": os.path.getsize(weights),
    }
    (folder / pretrained.RECORD.name).write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=pretrained.FOLDER, help="folder to write to")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--train-images", type=int, help="use only the first N training images")
    parser.add_argument("--test-images", type=int, help="use only the first N test images")
    args = parser.parse_args(argv)
    record = train(
        args.out, epochs=args.epochs, train_images=args.train_images, test_images=args.test_images
    )
    test = record["source_test"]
    print(
        f"source test accuracy {test['accuracy']:.4f} ({test['correct']}/{test['total']}), "
        f"{record['training']['seconds']:.0f} s; wrote {args.out}"
    )


if __name__ == "__main__":
    main()

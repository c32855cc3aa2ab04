"""Reference Conv2D (im2col + matmul) vs keras.layers.Conv2D, forward and backward.

Both layers get the same weights and run compiled (tf.function) on the same batch; the
script prints the median time of each and their ratio, measured in the same run.

    python benchmarks/conv.py [--batch 32] [--size 64] [--channels 16] [--filters 32]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from solutions.layers import Conv2D  # noqa: E402


def step_function(layer):
    """A compiled forward + backward pass: gradients of a scalar loss w.r.t. inputs and weights."""

    @tf.function(jit_compile=False)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.square(layer(x)))
        return tape.gradient(loss, [x, *layer.trainable_weights])

    return step


def median_seconds(step, x, repeats):
    step(x)  # trace and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        outputs = step(x)
        _ = [o.numpy() for o in outputs]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--kernel", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    shape = (args.batch, args.size, args.size, args.channels)
    x = tf.constant(np.random.default_rng(0).normal(size=shape).astype("float32"))
    ours = Conv2D(args.filters, args.kernel, activation="relu")
    theirs = keras.layers.Conv2D(args.filters, args.kernel, activation="relu")
    ours.build(shape)
    theirs.build(shape)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x), theirs(x), atol=1e-4, rtol=1e-4)

    t_ours = median_seconds(step_function(ours), x, args.repeats)
    t_keras = median_seconds(step_function(theirs), x, args.repeats)
    print(
        f"batch {shape}, Conv2D({args.filters}, {args.kernel}), forward + backward, "
        f"median of {args.repeats}"
    )
    print(f"  keras.layers.Conv2D      {t_keras * 1e3:8.1f} ms")
    print(f"  solutions Conv2D (im2col) {t_ours * 1e3:8.1f} ms")
    print(f"  ratio ours / keras        {t_ours / t_keras:8.2f}x")


if __name__ == "__main__":
    main()

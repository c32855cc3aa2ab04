"""Lesson 06's checks pass every correct implementation and hold their tolerances over 20 seeds.

The implementations below are written independently of solutions/, in the styles students
use: loops over entries or positions, np.nditer, copies instead of in-place moves, einsum on
patches, im2col with a scatter back, the batch-as-channels trick, NumPy first, float32 inside,
tf.custom_gradient with a one-argument backward.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from autograder import lessons
from autograder.checks import backprop as checks
from autograder.compare import compare
from autograder.feedback import CheckFailed
from autograder.guard import forbid
from autograder.harness import cases
from autograder.harness import ops as harness_ops
from solutions.backprop import Conv2D as ReferenceConv2D
from solutions.backprop import conv2d_backward as reference_conv2d_backward
from solutions.backprop import conv2d_forward
from solutions.backprop import max_pool_backward as reference_max_pool_backward
from solutions.backprop import numerical_gradient as reference_numerical_gradient

catalogue = lessons.module("06_backprop", "mistakes")
lesson_cases = lessons.module("06_backprop", "cases")
pool_cases = lessons.module("06_backprop", "pool_cases")
own_ops = lessons.module("06_backprop", "ops")

# --- independent numerical_gradient ------------------------------------------------------------


def numerical_copies(f, x, eps=1e-5):
    """A fresh copy of x for every evaluation: x itself is never touched."""
    gradient = np.empty_like(x, dtype=np.float64)
    for i in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus.flat[i] += eps
        minus.flat[i] -= eps
        gradient.flat[i] = (f(plus) - f(minus)) / (2 * eps)
    return gradient


def numerical_nditer(f, x, eps=1e-5):
    """cs231n's loop: np.nditer over x, restoring each entry from a saved copy."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + eps
        fxph = f(x)
        x[ix] = old - eps
        fxmh = f(x)
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * eps)
        it.iternext()
    return grad


def numerical_flat_iterator(f, x, eps=1e-5):
    """Through x.flat, which writes into x whatever its layout, restoring from a saved value."""
    gradient = np.zeros(x.size)
    for i, saved in enumerate(x.flat):
        x.flat[i] = saved + eps
        up = f(x)
        x.flat[i] = saved - eps
        down = f(x)
        x.flat[i] = saved
        gradient[i] = (up - down) / (2 * eps)
    return gradient.reshape(x.shape, order="C")


def numerical_reshape_view(f, x, eps=1e-5):
    """Moves entries through x.reshape(-1), a view of x as the notebook's arrays are laid out
    (an independent review's style: the checks must not pass a transposed x)."""
    flat, gradient = x.reshape(-1), np.zeros(x.size)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        up = f(x)
        flat[i] = saved - eps
        down = f(x)
        flat[i] = saved
        gradient[i] = (up - down) / (2 * eps)
    return gradient.reshape(x.shape)


NUMERICAL = [
    reference_numerical_gradient,
    numerical_copies,
    numerical_nditer,
    numerical_flat_iterator,
    numerical_reshape_view,
]

# --- independent conv2d_backward ---------------------------------------------------------------


def conv_numpy_loops(x, kernel, grad_output):
    """NumPy first: loops over output positions, adding into grad_x and grad_kernel."""
    x, kernel, g = (np.asarray(a, np.float64) for a in (x, kernel, grad_output))
    kh, kw = kernel.shape[:2]
    grad_x, grad_kernel = np.zeros_like(x), np.zeros_like(kernel)
    for i in range(g.shape[1]):
        for j in range(g.shape[2]):
            window = x[:, i : i + kh, j : j + kw, :]  # (B, kh, kw, C)
            grad_kernel += np.einsum("bmnc,bf->mncf", window, g[:, i, j, :])
            grad_x[:, i : i + kh, j : j + kw, :] += np.einsum("mncf,bf->bmnc", kernel, g[:, i, j])
    return grad_x, grad_kernel, g.sum(axis=(0, 1, 2))


def conv_im2col(x, kernel, grad_output):
    """keras.ops: im2col patches; grad_kernel = patches^T G; grad_x scattered back with pads."""
    x, kernel, g = (ops.convert_to_tensor(a) for a in (x, kernel, grad_output))
    batch, height, width, channels = x.shape
    kh, kw, _, filters = kernel.shape
    out_h, out_w = height - kh + 1, width - kw + 1
    patches = ops.concatenate(
        [x[:, m : m + out_h, n : n + out_w, :] for m in range(kh) for n in range(kw)], axis=-1
    )
    rows = ops.reshape(patches, (-1, kh * kw * channels))
    g_rows = ops.reshape(g, (-1, filters))
    grad_kernel = ops.reshape(ops.matmul(ops.transpose(rows), g_rows), kernel.shape)
    grad_patches = ops.matmul(g, ops.transpose(ops.reshape(kernel, (-1, filters))))
    grad_x = ops.zeros_like(x)
    for index, (m, n) in enumerate((m, n) for m in range(kh) for n in range(kw)):
        part = grad_patches[..., index * channels : (index + 1) * channels]
        grad_x = grad_x + ops.pad(
            part, [(0, 0), (m, height - out_h - m), (n, width - out_w - n), (0, 0)]
        )
    return grad_x, grad_kernel, ops.sum(g, axis=(0, 1, 2))


def conv_swapped_batch(x, kernel, grad_output):
    """keras.ops: both gradients as forward passes (batch as channels; flipped kernel)."""
    x, kernel, g = (ops.convert_to_tensor(a) for a in (x, kernel, grad_output))
    kh, kw = kernel.shape[0], kernel.shape[1]
    swapped = conv2d_forward(ops.transpose(x, (3, 1, 2, 0)), ops.transpose(g, (1, 2, 0, 3)))
    grad_kernel = ops.transpose(swapped, (1, 2, 0, 3))
    padded = ops.pad(g, [(0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)])
    flipped = ops.transpose(kernel[::-1, ::-1], (0, 1, 3, 2))
    return conv2d_forward(padded, flipped), grad_kernel, ops.sum(g, axis=(0, 1, 2))


def conv_float32_inside(x, kernel, grad_output):
    """keras.ops with everything cast to float32 first, and einsum over an explicit window."""
    x, kernel, g = (ops.cast(ops.convert_to_tensor(a), "float32") for a in (x, kernel, grad_output))
    kh, kw = kernel.shape[0], kernel.shape[1]
    out_h, out_w = g.shape[1], g.shape[2]
    grad_kernel = ops.stack(
        [
            ops.einsum("bijc,bijf->cf", x[:, m : m + out_h, n : n + out_w], g)
            for m in range(kh)
            for n in range(kw)
        ]
    )
    grad_kernel = ops.reshape(grad_kernel, kernel.shape)
    padded = ops.pad(g, [(0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)])
    flipped = ops.flip(kernel, axis=(0, 1))
    height, width = x.shape[1], x.shape[2]
    grad_x = ops.stack(
        [
            ops.stack(
                [
                    ops.einsum("bmnf,mncf->bc", padded[:, p : p + kh, q : q + kw], flipped)
                    for q in range(width)
                ],
                axis=1,
            )
            for p in range(height)
        ],
        axis=1,
    )
    return grad_x, grad_kernel, ops.sum(g, axis=(0, 1, 2))


def conv_batch_loop(x, kernel, grad_output):
    """keras.ops, one image at a time, offsets by slices and matmuls: right on every call
    whose batch size is known, but model.fit traces a smaller last batch as None, where the
    notebook says not to loop over x.shape[0] (see the test below)."""
    x, kernel, g = (ops.convert_to_tensor(a) for a in (x, kernel, grad_output))
    kh, kw, channels, filters = kernel.shape
    out_h, out_w = g.shape[1], g.shape[2]
    grads_x, grad_kernel = [], 0
    for b in range(x.shape[0]):
        image, upstream = x[b], ops.reshape(g[b], (out_h * out_w, filters))
        rows = [
            ops.reshape(image[m : m + out_h, n : n + out_w], (out_h * out_w, channels))
            for m in range(kh)
            for n in range(kw)
        ]
        grad_kernel = grad_kernel + ops.reshape(
            ops.stack([ops.matmul(ops.transpose(r), upstream) for r in rows]), kernel.shape
        )
        padded = ops.pad(g[b : b + 1], [(0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)])
        flipped = ops.transpose(ops.flip(kernel, axis=(0, 1)), (0, 1, 3, 2))
        grads_x.append(conv2d_forward(padded, flipped))
    return ops.concatenate(grads_x, axis=0), grad_kernel, ops.sum(g, axis=(0, 1, 2))


CONV = [
    reference_conv2d_backward,
    conv_numpy_loops,
    conv_im2col,
    conv_swapped_batch,
    conv_float32_inside,
    conv_batch_loop,
]

# --- independent max_pool_backward -------------------------------------------------------------


def pool_loops(x, grad_output, pool_size):
    """One window at a time, np.argmax then np.unravel_index."""
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    x, g = np.asarray(x), np.asarray(grad_output)
    out = np.zeros(x.shape, np.float32)
    for b in range(g.shape[0]):
        for i in range(g.shape[1]):
            for j in range(g.shape[2]):
                for c in range(g.shape[3]):
                    window = x[b, i * kh : (i + 1) * kh, j * kw : (j + 1) * kw, c]
                    m, n = np.unravel_index(np.argmax(window), window.shape)
                    out[b, i * kh + m, j * kw + n, c] = g[b, i, j, c]
    return out


def pool_keras_ops(x, grad_output, pool_size):
    """keras.ops: windows gathered by strided slices, ops.argmax and ops.one_hot."""
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else tuple(pool_size)
    x, g = ops.convert_to_tensor(x), ops.convert_to_tensor(grad_output)
    out_h, out_w = g.shape[1], g.shape[2]
    cells = ops.stack(
        [
            x[:, m : m + (out_h - 1) * kh + 1 : kh, n : n + (out_w - 1) * kw + 1 : kw]
            for m in range(kh)
            for n in range(kw)
        ],
        axis=-1,
    )  # (B, out_h, out_w, C, kh * kw)
    winners = ops.one_hot(ops.argmax(cells, axis=-1), kh * kw) * g[..., None]
    height, width = x.shape[1], x.shape[2]
    grad_x = ops.zeros_like(x)
    for k, (m, n) in enumerate((m, n) for m in range(kh) for n in range(kw)):
        part = winners[..., k]
        # place entry (i, j) at row i * kh + m, column j * kw + n
        spread = ops.reshape(
            ops.pad(
                part[:, :, None, :, None, :],
                [(0, 0), (0, 0), (m, kh - 1 - m), (0, 0), (n, kw - 1 - n), (0, 0)],
            ),
            (-1, out_h * kh, out_w * kw, part.shape[-1]),
        )
        grad_x = grad_x + ops.pad(
            spread, [(0, 0), (0, height - out_h * kh), (0, width - out_w * kw), (0, 0)]
        )
    return grad_x


def pool_put_along_axis(x, grad_output, pool_size):
    """NumPy: windows by reshape, np.put_along_axis at the argmax."""
    kh, kw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    x, g = np.asarray(x, np.float64), np.asarray(grad_output, np.float64)
    b, out_h, out_w, c = g.shape
    covered = x[:, : out_h * kh, : out_w * kw]
    windows = covered.reshape(b, out_h, kh, out_w, kw, c).transpose(0, 1, 3, 5, 2, 4)
    flat = windows.reshape(b, out_h, out_w, c, kh * kw)
    routed = np.zeros_like(flat)
    np.put_along_axis(routed, flat.argmax(axis=-1)[..., None], g[..., None], axis=-1)
    routed = routed.reshape(b, out_h, out_w, c, kh, kw).transpose(0, 1, 4, 2, 5, 3)
    out = np.zeros_like(x)
    out[:, : out_h * kh, : out_w * kw] = routed.reshape(b, out_h * kh, out_w * kw, c)
    return out


POOL = [reference_max_pool_backward, pool_loops, pool_keras_ops, pool_put_along_axis]

# --- independent Conv2D.call -------------------------------------------------------------------

CALL_KERAS_STYLE = """
def call(self, inputs):
    @ops.custom_gradient
    def conv(x, kernel, bias):
        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            gx, gk, gb = conv2d_backward(x, kernel, upstream)
            return gx, gk, gb
        patches = ops.concatenate(
            [x[:, m:m + x.shape[1] - kernel.shape[0] + 1, n:n + x.shape[2] - kernel.shape[1] + 1]
             for m in range(kernel.shape[0]) for n in range(kernel.shape[1])], axis=-1)
        out = ops.matmul(patches, ops.reshape(kernel, (-1, kernel.shape[-1])))
        return out + bias, grad
    bias = self.bias * 1.0 if self.use_bias else ops.zeros((self.filters,))
    return self.activation(conv(inputs, self.kernel * 1.0, bias))
"""
CALL_TF_STYLE = """
def call(self, inputs):
    @tf.custom_gradient
    def conv(x, kernel, bias):
        def grad(upstream):
            return conv2d_backward(x, kernel, upstream)
        return conv2d_forward(x, kernel) + bias, grad
    kernel = tf.identity(self.kernel)
    bias = tf.identity(self.bias) if self.use_bias else tf.zeros((self.filters,))
    return self.activation(conv(inputs, kernel, bias))
"""


def layer_class(call_source, backward, **names):
    """A Conv2D with the reference's constructor and build, `call` from `call_source`, in a
    namespace (a notebook) where `conv2d_backward` is `backward` (and `names` are defined)."""
    namespace = {
        "ops": ops,
        "tf": tf,
        "np": np,
        "conv2d_forward": conv2d_forward,
        "conv2d_backward": backward,
        **names,
    }
    exec(call_source, namespace)
    return type("Conv2D", (ReferenceConv2D,), {"call": namespace["call"]})


CALL_HELD_BACKWARD = """
def call(self, inputs):
    @ops.custom_gradient
    def conv(x, kernel, bias):
        def grad(*args, upstream=None):
            return self.backward_pass(x, kernel, args[0] if upstream is None else upstream)
        return conv2d_forward(x, kernel) + bias, grad
    bias = ops.copy(self.bias) if self.use_bias else ops.zeros((self.filters,))
    return self.activation(conv(inputs, ops.copy(self.kernel), bias))
"""
HELD = layer_class(CALL_HELD_BACKWARD, conv_im2col)
HELD.backward_pass = staticmethod(conv_im2col)  # conv2d_backward, held by the class

LAYERS = {
    "reference": ReferenceConv2D,
    "held_backward": HELD,
    "keras_style+im2col": layer_class(CALL_KERAS_STYLE, conv_im2col),
    "tf_style+swapped": layer_class(CALL_TF_STYLE, conv_swapped_batch),
    "keras_style+float32": layer_class(CALL_KERAS_STYLE, conv_float32_inside),
}


# --- every style passes every check ------------------------------------------------------------


@pytest.mark.parametrize("fn", NUMERICAL, ids=lambda f: f.__name__)
def test_numerical_gradient_checks_pass_correct_code(fn):
    checks.check_numerical_gradient(fn)
    checks.check_numerical_gradient(fn, hidden=True)


@pytest.mark.parametrize("fn", CONV, ids=lambda f: f.__name__)
def test_conv2d_backward_checks_pass_correct_code(fn):
    checks.check_conv2d_backward_hand_example(fn)
    checks.check_conv2d_backward_matches_tensorflow(fn)
    checks.check_conv2d_backward_matches_tensorflow(fn, hidden=True)
    checks.check_conv2d_backward_gradient_check(fn)
    checks.check_conv2d_backward_gradient_check(fn, hidden=True)


@pytest.mark.parametrize("fn", POOL, ids=lambda f: f.__name__)
def test_max_pool_backward_checks_pass_correct_code(fn):
    checks.check_max_pool_backward_hand_example(fn)
    checks.check_max_pool_backward_matches_tensorflow(fn)
    checks.check_max_pool_backward_matches_tensorflow(fn, hidden=True)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_checks_pass_correct_code(name):
    checks.check_conv2d_custom_gradient(LAYERS[name])
    checks.check_conv2d_custom_gradient(LAYERS[name], hidden=True)
    checks.check_conv2d_trains(LAYERS[name])


def test_a_backward_pass_that_loops_over_the_batch_is_told_the_batch_size_is_none():
    layer = layer_class(CALL_TF_STYLE, conv_batch_loop)
    checks.check_conv2d_custom_gradient(layer, hidden=True)  # every batch size is known here
    with pytest.raises(CheckFailed) as failure:
        checks.check_conv2d_trains(layer)
    assert "raised TypeError: 'NoneType' object cannot be interpreted" in failure.value.headline
    assert "the batch size is None inside call()" in failure.value.details[0]
    assert "for b in range(x.shape[0]):" in failure.value.hint


def test_a_kernel_copied_once_and_kept_is_told_its_gradient_is_lost_after_the_first_call():
    kept = CALL_HELD_BACKWARD.replace(
        "    return self.activation(conv(inputs, ops.copy(self.kernel), bias))",
        "    if not hasattr(self, 'kept'):\n        self.kept = ops.copy(self.kernel)\n"
        "    return self.activation(conv(inputs, self.kept, bias))",
    ).replace("self.backward_pass", "conv2d_backward")
    with pytest.raises(CheckFailed) as failure:
        checks.check_conv2d_custom_gradient(layer_class(kept, conv_im2col))
    assert failure.value.headline.endswith(
        "gradient with respect to its kernel is lost after the first call."
    )
    assert (
        failure.value.hint == "read the weight in call() every time: kernel = ops.copy(self.kernel)"
    )


def test_an_activation_applied_only_with_a_bias_fails_the_hidden_cases():
    only_with_bias = CALL_HELD_BACKWARD.replace(
        "    return self.activation(conv(inputs, ops.copy(self.kernel), bias))",
        "    out = conv(inputs, ops.copy(self.kernel), bias)\n"
        "    return self.activation(out) if self.use_bias else out",
    ).replace("self.backward_pass", "conv2d_backward")
    layer = layer_class(only_with_bias, conv_im2col)
    checks.check_conv2d_custom_gradient(layer)
    with pytest.raises(CheckFailed, match="activation='relu', use_bias=False"):
        checks.check_conv2d_custom_gradient(layer, hidden=True)


@pytest.mark.parametrize("seed", range(3))
def test_every_style_passes_on_fresh_cases(seed):
    with cases.fresh(seed):
        for fn in NUMERICAL:
            checks.check_numerical_gradient(fn, hidden=True)
        for fn in CONV:
            checks.check_conv2d_backward_hand_example(fn)
            checks.check_conv2d_backward_matches_tensorflow(fn, hidden=True)
            checks.check_conv2d_backward_gradient_check(fn, hidden=True)
        for fn in POOL:
            checks.check_max_pool_backward_hand_example(fn)
            checks.check_max_pool_backward_matches_tensorflow(fn, hidden=True)
        for cls in LAYERS.values():
            checks.check_conv2d_custom_gradient(cls, hidden=True)


def test_layer_checks_pass_on_fresh_training_data():
    with cases.fresh(11):
        for cls in LAYERS.values():
            checks.check_conv2d_trains(cls)


def five_point_gradient(f, x, eps=1e-5):
    """The fourth-order stencil: more accurate than asked, and exact on the checks' cubics."""
    gradient = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        saved, values = x[index], []
        for k in (2, 1, -1, -2):
            x[index] = saved + k * eps
            values.append(f(x))
        x[index] = saved
        gradient[index] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * eps)
    return gradient


def test_a_five_point_stencil_is_told_how_often_it_evaluates_f_not_that_it_ignores_eps():
    with pytest.raises(CheckFailed) as failure:
        checks.check_numerical_gradient(five_point_gradient)
    assert failure.value.mistake is None
    assert any("4 per entry of x" in line for line in failure.value.details)


def test_x_restored_by_arithmetic_is_told_only_the_last_bits_differ():
    from solutions.mistakes.backprop import numerical_gradient_restored_by_arithmetic

    with pytest.raises(CheckFailed) as failure:
        checks.check_numerical_gradient(numerical_gradient_restored_by_arithmetic)
    assert failure.value.headline == "numerical_gradient changes x."
    assert "only the last bits differ: x[i] + eps - eps is not always x[i]" in failure.value.details


def test_another_default_step_is_named():
    def default_step_1e3(f, x, eps=1e-3):
        return reference_numerical_gradient(f, x, eps)

    with pytest.raises(CheckFailed) as failure:
        checks.check_numerical_gradient(default_step_1e3)
    assert failure.value.headline == "numerical_gradient(f, x) does not step by the default eps."
    assert "moved by 0.001;" in failure.value.details[1]


def test_moves_into_a_copy_of_x_are_told_that_x_never_moved():
    def moves_a_copy(f, x, eps=1e-5):
        moved, gradient = x.copy(), np.zeros(x.shape)
        for index in np.ndindex(x.shape):
            saved = moved[index]
            moved[index] = saved + eps
            up = f(x)
            moved[index] = saved - eps
            down = f(x)
            moved[index] = saved
            gradient[index] = (up - down) / (2 * eps)
        return gradient

    with pytest.raises(CheckFailed) as failure:
        checks.check_numerical_gradient(moves_a_copy)
    assert failure.value.headline == "numerical_gradient never moves x."
    assert failure.value.details[1] == "f was evaluated 8 times, always at x itself"


# --- tolerances, over 20 seeds -----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_numerical_tolerance_holds_and_one_sided_fails(seed):
    rng = np.random.default_rng(700 + seed)
    shape, eps, _ = lesson_cases.draw_numerical_case(rng)
    spec, x = catalogue.cubic_spec(shape, rng), rng.normal(size=shape)
    step = lesson_cases.DEFAULT_EPS if eps is None else eps
    expected = lesson_cases.expected_numerical_gradient(spec, x, step)
    for fn in NUMERICAL:
        result = own_ops.numerical_gradient_of(fn, spec, x, eps=step)
        assert compare(result["gradient"], expected, lesson_cases.NUMERICAL_TOL) is None, (
            fn.__name__
        )
        assert compare(result["x_after"], x, lesson_cases.X_TOL) is None, fn.__name__
    forward = catalogue.differences(spec, x, step, "forward")
    if x.size >= 4:  # one entry may have a second derivative near 0; four never all do
        assert compare(forward, expected, lesson_cases.NUMERICAL_TOL) is not None


@pytest.mark.parametrize("seed", range(20))
def test_conv_tolerances_hold_over_seeds(seed):
    rng = np.random.default_rng(800 + seed)
    x_shape, size, filters, _ = lesson_cases.draw_conv_case(rng)
    with cases.fresh(seed):
        x, kernel, bias, g = lesson_cases.conv_arrays(x_shape, size, filters, 0)
    expected = lesson_cases.keras_conv_gradients(x, kernel, bias, g)
    for fn in CONV:
        got = [np.asarray(v) for v in fn(x, kernel, g)]
        for part, value in zip(checks.PARTS, got, strict=True):
            assert compare(value, expected[part], lesson_cases.CONV_TOL) is None, (
                fn.__name__,
                part,
            )


@pytest.mark.parametrize("seed", range(20))
def test_relative_errors_are_far_below_the_limit_and_mistakes_far_above(seed):
    rng = np.random.default_rng(900 + seed)
    x_shape, size, filters, _ = lesson_cases.draw_gradient_check_case(rng)
    with cases.fresh(seed):
        arrays = lesson_cases.conv_arrays(x_shape, size, filters, 0, dtype="float64")
    x, kernel, bias, g = arrays
    numerical = [
        lesson_cases.finite_differences(lesson_cases.conv_loss, arrays, i) for i in range(3)
    ]
    for fn in CONV:
        for value, estimate in zip(fn(x, kernel, g), numerical, strict=True):
            error = lesson_cases.relative_error(np.asarray(value), estimate)
            limit = lesson_cases.RELATIVE_ERROR_LIMIT / (2 if fn is conv_float32_inside else 1000)
            assert error < limit, (fn.__name__, error)
    wrong = catalogue.kernel_gradients(x, g).mean(axis=0)
    if x.shape[0] > 1:
        assert lesson_cases.relative_error(wrong, numerical[1]) > 1e-2


@pytest.mark.parametrize("seed", range(20))
def test_pool_gradients_are_tensorflow_s_over_seeds(seed):
    rng = np.random.default_rng(1000 + seed)
    shape, pool_size, values, _ = pool_cases.draw_pool_case(rng)
    x = pool_cases.pool_input(shape, values, rng)
    kh, kw = lesson_cases.pair(pool_size)
    g = rng.normal(size=(shape[0], shape[1] // kh, shape[2] // kw, shape[3])).astype("float32")
    expected = pool_cases.keras_max_pool_gradient(x, g, pool_size)
    np.testing.assert_array_equal(catalogue.route(x, g, pool_size, "first"), expected)
    for fn in POOL:
        assert compare(fn(x, g, pool_size), expected, pool_cases.POOL_TOL) is None, fn.__name__


@pytest.mark.parametrize("seed", range(20))
def test_layer_tolerance_holds_over_seeds(seed):
    rng = np.random.default_rng(1100 + seed)
    x_shape, filters, size, activation, use_bias, _ = lesson_cases.draw_layer_case(rng)
    with cases.fresh(seed):
        x, kernel, bias, g0 = lesson_cases.conv_arrays(x_shape, size, filters, 0)
    kwargs = lesson_cases.layer_kwargs(activation, use_bias)
    bias = bias if use_bias else None
    values = {"kernel": kernel} if bias is None else {"kernel": kernel, "bias": bias}
    theirs = checks.CONV2D.reference((filters, size), kwargs, x_shape, values)
    g = rng.normal(size=np.asarray(theirs(x)).shape).astype("float32")
    expected = harness_ops.gradients(theirs, x, upstream=g)
    for name, cls in LAYERS.items():
        layer = cls(filters, size, **kwargs)
        layer.build((None, *x_shape[1:]))
        layer.set_weights([kernel] if bias is None else [kernel, bias])
        found = harness_ops.gradients(layer, x, upstream=g)
        assert compare(found["inputs"], expected["inputs"], lesson_cases.LAYER_TOL) is None, name
        for part, value in expected["weights"].items():
            assert compare(found["weights"][part], value, lesson_cases.LAYER_TOL) is None, (
                name,
                part,
            )


# --- the worked examples are TensorFlow's answers ----------------------------------------------


def test_hand_examples_are_tensorflow_s_answers():
    x = lesson_cases.HAND_CONV_X[None, :, :, None].astype("float32")
    kernel = lesson_cases.HAND_CONV_KERNEL[:, :, None, None].astype("float32")
    g = lesson_cases.HAND_CONV_G[None, :, :, None].astype("float32")
    found = lesson_cases.keras_conv_gradients(x, kernel, np.zeros(1, "float32"), g)
    np.testing.assert_array_equal(found["grad_x"][0, :, :, 0], lesson_cases.HAND_CONV_GRAD_X)
    np.testing.assert_array_equal(
        found["grad_kernel"][:, :, 0, 0], lesson_cases.HAND_CONV_GRAD_KERNEL
    )
    np.testing.assert_array_equal(found["grad_bias"], lesson_cases.HAND_CONV_GRAD_BIAS)
    for x, g, expected in (
        (pool_cases.HAND_POOL_X, pool_cases.HAND_POOL_G, pool_cases.HAND_POOL_GRAD),
        (pool_cases.TIED_POOL_X, pool_cases.TIED_POOL_G, pool_cases.TIED_POOL_GRAD),
    ):
        got = pool_cases.keras_max_pool_gradient(
            x[None, :, :, None].astype("float32"), g[None, :, :, None].astype("float32"), 2
        )
        np.testing.assert_array_equal(got[0, :, :, 0], expected)


def test_the_lecture_s_statements_hold_in_the_worked_example():
    """d/dw1 = a g11 + b g12 + d g21 + e g22 + g g31 + h g32; d/de = w4 g11 + w3 g12 +
    w2 g21 + w1 g22; d/da = w1 g11 (the seeds' statements about the kernel and the input)."""
    (a, b, c), (d, e, f), (g_, h, i), (j, k, l) = lesson_cases.HAND_CONV_X
    (w1, w2), (w3, w4) = lesson_cases.HAND_CONV_KERNEL
    (g11, g12), (g21, g22), (g31, g32) = lesson_cases.HAND_CONV_G
    assert (
        lesson_cases.HAND_CONV_GRAD_KERNEL[0, 0]
        == a * g11 + b * g12 + d * g21 + e * g22 + g_ * g31 + h * g32
    )
    assert lesson_cases.HAND_CONV_GRAD_X[1, 1] == w4 * g11 + w3 * g12 + w2 * g21 + w1 * g22
    assert lesson_cases.HAND_CONV_GRAD_X[0, 0] == w1 * g11


def test_the_lecture_s_statements_about_channels_hold():
    """ "Each weight affects all elements of one output channel through one channel of the
    previous layer's output"; "each element of the input affects multiple channels of the
    output through different filters": with several channels, grad_kernel[:, :, c, f] is the
    one-channel kernel gradient of input channel c and output channel f, and grad_x[..., c]
    the sum over the filters f of one-channel input gradients."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 6, 5, 3)).astype("float32")
    kernel = rng.normal(size=(3, 2, 3, 4)).astype("float32")
    g = rng.normal(size=(2, 4, 4, 4)).astype("float32")
    full = lesson_cases.keras_conv_gradients(x, kernel, np.zeros(4, "float32"), g)
    grad_x = np.zeros_like(x)
    for c in range(3):
        for f in range(4):
            one = lesson_cases.keras_conv_gradients(
                x[..., c : c + 1],
                kernel[:, :, c : c + 1, f : f + 1],
                np.zeros(1, "float32"),
                g[..., f : f + 1],
            )
            np.testing.assert_allclose(
                full["grad_kernel"][:, :, c, f], one["grad_kernel"][:, :, 0, 0], atol=1e-4
            )
            grad_x[..., c] += one["grad_x"][..., 0]
    np.testing.assert_allclose(full["grad_x"], grad_x, atol=1e-4)


def test_the_lecture_s_statements_about_pooling_hold():
    """ "Average pooling: gradient is equally distributed to all inputs; max pooling: gradient
    is solely assigned to the max input" (TensorFlow's gradients of Keras's layers)."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 6, 8, 3)).astype("float32")
    g = rng.normal(size=(2, 3, 4, 3)).astype("float32")
    average = harness_ops.gradients(keras.layers.AveragePooling2D(2), x, upstream=g)["inputs"]
    spread = np.repeat(np.repeat(g, 2, axis=1), 2, axis=2) / 4
    np.testing.assert_allclose(average, spread, rtol=1e-6)
    maximum = pool_cases.keras_max_pool_gradient(x, g, 2)
    assert (np.count_nonzero(maximum.reshape(2, 3, 2, 4, 2, 3), axis=(2, 4)) == 1).all()
    np.testing.assert_array_equal(maximum, catalogue.route(x, g, 2, "first"))


@pytest.mark.parametrize("seed", range(20))
def test_disguised_hand_examples_are_tensorflow_s_answers(seed):
    with cases.fresh(seed):
        x, kernel, g, expected, words = lesson_cases.hand_conv_example()
        pools = pool_cases.hand_pool_examples()
    assert "times" in words
    found = lesson_cases.keras_conv_gradients(
        x[None, :, :, None].astype("float32"),
        kernel[:, :, None, None].astype("float32"),
        np.zeros(1, "float32"),
        g[None, :, :, None].astype("float32"),
    )
    for part in checks.PARTS:
        np.testing.assert_allclose(found[part], expected[part], atol=1e-3)
    for x, g, expected, _, words in pools:
        assert "times" in words
        got = pool_cases.keras_max_pool_gradient(
            x[None, :, :, None].astype("float32"), g[None, :, :, None].astype("float32"), 2
        )
        np.testing.assert_array_equal(got[0, :, :, 0], expected)


# --- the guard ---------------------------------------------------------------------------------

X = np.random.default_rng(0).normal(size=(2, 6, 5, 3)).astype("float32")
K = np.random.default_rng(1).normal(size=(3, 2, 3, 4)).astype("float32")
G = np.random.default_rng(2).normal(size=(2, 4, 4, 4)).astype("float32")


def _tape_backward(x, kernel, grad_output):
    x, kernel = tf.convert_to_tensor(x), tf.convert_to_tensor(kernel)
    with tf.GradientTape() as tape:
        tape.watch([x, kernel])
        loss = tf.reduce_sum(conv2d_forward(x, kernel) * grad_output)
    gx, gk = tape.gradient(loss, [x, kernel])
    return gx, gk, ops.sum(grad_output, axis=(0, 1, 2))


def _conv_transpose_backward(x, kernel, grad_output):
    gx = ops.conv_transpose(grad_output, kernel, 1, padding="valid")
    return (gx, *reference_conv2d_backward(x, kernel, grad_output)[1:])


def _builtin_filter_backward(x, kernel, grad_output):
    gk = tf.compat.v1.nn.conv2d_backprop_filter(x, kernel.shape, grad_output, [1, 1, 1, 1], "VALID")
    gx, _, gb = reference_conv2d_backward(x, kernel, grad_output)
    return gx, gk, gb


def _scipy_full(x, kernel, grad_output):
    from scipy.signal import convolve2d

    gx = np.zeros(np.shape(x))
    for b in range(x.shape[0]):
        for c in range(x.shape[3]):
            for f in range(kernel.shape[3]):
                gx[b, :, :, c] += convolve2d(grad_output[b, :, :, f], kernel[:, :, c, f], "full")
    return (gx, *reference_conv2d_backward(x, kernel, grad_output)[1:])


@pytest.mark.parametrize(
    "fn",
    [_tape_backward, _conv_transpose_backward, _builtin_filter_backward, _scipy_full],
    ids=["GradientTape", "conv_transpose", "conv2d_backprop_filter", "scipy"],
)
def test_builtin_backward_passes_are_refused(fn):
    with pytest.raises(CheckFailed, match="built-in convolution, pooling or differentiation"):
        checks.check_conv2d_backward_matches_tensorflow(fn)


def test_builtin_pooling_gradients_are_refused():
    def tape_pool(x, grad_output, pool_size):
        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(keras.layers.MaxPooling2D(pool_size)(x) * grad_output)
        return tape.gradient(loss, x)

    def raw_grad(x, grad_output, pool_size):
        k = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
        out = tf.nn.max_pool2d(x, k, k, "VALID")
        return tf.raw_ops.MaxPoolGrad(
            orig_input=x,
            orig_output=out,
            grad=grad_output,
            ksize=[1, *k, 1],
            strides=[1, *k, 1],
            padding="VALID",
        )

    for fn in (tape_pool, raw_grad):
        with pytest.raises(CheckFailed, match="built-in convolution, pooling or differentiation"):
            checks.check_max_pool_backward_matches_tensorflow(fn)


def test_numerical_derivatives_of_scipy_are_refused():
    def scipy_gradient(f, x, eps=1e-5):
        from scipy.optimize import approx_fprime

        return approx_fprime(x.reshape(-1), lambda v: f(v.reshape(x.shape)), eps).reshape(x.shape)

    with pytest.raises(CheckFailed, match="differentiation"):
        checks.check_numerical_gradient(scipy_gradient)


def test_the_guard_allows_what_the_lesson_needs():
    with forbid(checks.BACKPROP.names, checks.BACKPROP.op_types) as hits:
        for fn in CONV:
            fn(X, K, G)
        for fn in POOL:
            fn(X, G[..., :3][:, :3, :2], 2)
        reference_numerical_gradient(lambda v: float(np.sum(v**2)), np.ones(3))
        ops.flip(K, axis=(0, 1)), ops.pad(G, [(0, 0), (1, 1), (1, 1), (0, 0)])
    assert hits == []


def test_a_layer_differentiated_by_a_tape_inside_its_backward_is_refused():
    def tape_inside(x, kernel, grad_output):
        return _tape_backward(x, kernel, grad_output)

    cls = layer_class(CALL_TF_STYLE, tape_inside)
    with pytest.raises(CheckFailed, match="built-in convolution, pooling or differentiation"):
        checks.check_conv2d_custom_gradient(cls)


# --- where the layer's gradient comes from -----------------------------------------------------

CALL_AUTODIFF = """
def call(self, inputs):
    outputs = conv2d_forward(inputs, self.kernel)
    return self.activation(outputs + self.bias if self.use_bias else outputs)
"""
# A custom gradient whose backward computes the gradients itself, never calling conv2d_backward.
CALL_HAND_WRITTEN = CALL_TF_STYLE.replace("conv2d_backward(x, kernel", "by_hand(x, kernel")
# One that calls conv2d_backward but returns a grad_x of its own.
CALL_PARTLY_HAND_WRITTEN = CALL_TF_STYLE.replace(
    "return conv2d_backward(x, kernel, upstream)",
    "_, gk, gb = conv2d_backward(x, kernel, upstream)\n"
    "            return by_hand(x, kernel, upstream)[0], gk, gb",
)


def test_a_hand_written_backward_is_told_apart_from_automatic_differentiation():
    hand_written = layer_class(
        CALL_HAND_WRITTEN, reference_conv2d_backward, by_hand=conv_swapped_batch
    )
    with pytest.raises(CheckFailed, match="backward function of your custom gradient") as failure:
        checks.check_conv2d_custom_gradient(hand_written)
    assert "without calling conv2d_backward" in failure.value.headline
    assert "automatic differentiation" not in str(failure.value)
    assert "TensorFlow differentiated" not in str(failure.value)

    autodiff = layer_class(CALL_AUTODIFF, reference_conv2d_backward)
    with pytest.raises(CheckFailed, match="never ran while TensorFlow") as failure:
        checks.check_conv2d_custom_gradient(autodiff)
    assert "TensorFlow differentiated your forward pass itself" in str(failure.value)
    assert "Likely mistake: gradient left to automatic differentiation." in str(failure.value)


def test_a_backward_that_replaces_one_of_conv2d_backward_s_results_is_told_so():
    partly = layer_class(
        CALL_PARTLY_HAND_WRITTEN, reference_conv2d_backward, by_hand=conv_swapped_batch
    )
    with pytest.raises(
        CheckFailed, match="its inputs does not come from conv2d_backward"
    ) as failure:
        checks.check_conv2d_custom_gradient(partly)
    assert "another gradient with respect to inputs than its grad_x" in str(failure.value)
    assert "automatic differentiation" not in str(failure.value)


# The bias goes into the decorated function with x and the kernel, but backward sums upstream
# itself for the bias instead of taking conv2d_backward's third result.
CALL_OWN_BIAS_GRADIENT = """
def call(self, inputs):
    bias = tf.identity(self.bias) if self.use_bias else tf.zeros((self.filters,))

    @tf.custom_gradient
    def forward(x, w, b):
        def backward(dy):
            dx, dw, _unused = conv2d_backward(x, w, dy)
            return dx, dw, tf.reduce_sum(dy, axis=[0, 1, 2])
        return tf.nn.bias_add(conv2d_forward(x, w), b), backward

    return self.activation(forward(inputs, tf.identity(self.kernel), bias))
"""


def test_a_bias_added_inside_with_its_own_gradient_is_not_said_to_be_outside():
    own_bias = layer_class(CALL_OWN_BIAS_GRADIENT, reference_conv2d_backward)
    with pytest.raises(CheckFailed, match="its bias does not come from conv2d_backward") as failure:
        checks.check_conv2d_custom_gradient(own_bias)
    message = str(failure.value)
    assert "another gradient with respect to bias than its grad_bias" in message
    assert "outside the custom gradient" not in message
    assert "Likely mistake" not in message
    # A bias really added outside is still named so.
    from solutions.mistakes import backprop as wrong

    outside = type("Conv2D", (ReferenceConv2D,), {"call": wrong.call_bias_outside})
    with pytest.raises(CheckFailed, match="bias added outside the custom gradient"):
        checks.check_conv2d_custom_gradient(outside)


# --- what a student may get wrong on the way ---------------------------------------------------


def test_untouched_stubs_fail_with_advice():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for check in (
        checks.check_numerical_gradient,
        checks.check_conv2d_backward_hand_example,
        checks.check_conv2d_backward_matches_tensorflow,
        checks.check_conv2d_backward_gradient_check,
        checks.check_max_pool_backward_hand_example,
        checks.check_max_pool_backward_matches_tensorflow,
    ):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(stub)

    class Conv2D(ReferenceConv2D):
        def call(self, inputs):
            raise NotImplementedError()

    for check in (checks.check_conv2d_custom_gradient, checks.check_conv2d_trains):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(Conv2D)


def test_variables_passed_to_the_custom_gradient_get_advice():
    source = CALL_TF_STYLE.replace("tf.identity(self.kernel)", "self.kernel")
    with pytest.raises(CheckFailed, match="ops.copy"):
        checks.check_conv2d_custom_gradient(layer_class(source, reference_conv2d_backward))
    # ops.convert_to_tensor(self.kernel) is still the variable; a backward that takes **kwargs
    # accepts TensorFlow's variables= and returns three gradients where TensorFlow unpacks two
    # ("too many values to unpack"): the same advice.
    source = CALL_KERAS_STYLE.replace("self.kernel * 1.0", "ops.convert_to_tensor(self.kernel)")
    source = source.replace("def grad(*args, upstream=None):", "def grad(*args, **kwargs):")
    source = source.replace("args[0] if upstream is None else upstream", "args[0]")
    with pytest.raises(CheckFailed, match="ops.copy") as failure:
        checks.check_conv2d_custom_gradient(layer_class(source, reference_conv2d_backward))
    assert "unpack" not in str(failure.value)


def test_a_numpy_backward_works_eagerly_but_not_in_model_fit():
    cls = layer_class(CALL_KERAS_STYLE, conv_numpy_loops_float32)
    checks.check_conv2d_custom_gradient(cls)
    with pytest.raises(CheckFailed, match="keras.ops") as failure:
        checks.check_conv2d_trains(cls)
    assert "graph" in str(failure.value)
    # float64 gradients for float32 tensors: eager gradients let them through, fit does not
    # ("Input 'dy' of 'TanhGrad' Op has type float64 ..."); the hint says to cast them back.
    cls = layer_class(CALL_TF_STYLE, conv_float64_results)
    checks.check_conv2d_custom_gradient(cls)
    with pytest.raises(CheckFailed, match=r"ops\.cast\(grad_x, x\.dtype\)"):
        checks.check_conv2d_trains(cls)


def conv_float64_results(x, kernel, grad_output):
    """keras.ops in float64 throughout, never cast back: right values, wrong dtype for a layer."""
    return reference_conv2d_backward(*(ops.cast(a, "float64") for a in (x, kernel, grad_output)))


def conv_numpy_loops_float32(x, kernel, grad_output):
    return tuple(v.astype(np.float32) for v in conv_numpy_loops(x, kernel, grad_output))


def test_a_wrong_number_of_results_is_named():
    with pytest.raises(CheckFailed, match="expected a tuple"):
        checks.check_conv2d_backward_matches_tensorflow(lambda x, k, g: conv_im2col(x, k, g)[:2])


def test_nan_is_named():
    def nan_pool(x, grad_output, pool_size):
        out = pool_loops(x, grad_output, pool_size)
        out[0, 0, 0, 0] = np.nan
        return out

    with pytest.raises(CheckFailed, match="NaN"):
        checks.check_max_pool_backward_matches_tensorflow(nan_pool)


def test_a_layer_without_its_activation_is_not_said_to_apply_it_inside():
    """Its gradients are those of an activation inside the custom gradient (tanh's derivative
    left out), but its output lacks the tanh: no catalogued mistake is named."""
    source = CALL_TF_STYLE.replace(
        "return self.activation(conv(inputs, kernel, bias))", "return conv(inputs, kernel, bias)"
    )
    layer_diagnosis = lessons.module("06_backprop", "custom_gradient")._diagnose_layer
    assert layer_diagnosis(layer_class(source, reference_conv2d_backward)) is None
    inside = source.replace(
        "return conv2d_forward(x, kernel) + bias, grad",
        "return self.activation(conv2d_forward(x, kernel) + bias), grad",
    )
    assert inside != source
    found = layer_diagnosis(layer_class(inside, reference_conv2d_backward))
    assert found is catalogue.ACTIVATION_INSIDE


def test_a_float32_gradient_is_refused():
    """Its values pass the comparison (float32 keeps 6 to 7 digits); the notebook asks for
    float64, the precision a referee of gradient checks needs."""

    def float32_gradient(f, x, eps=1e-5):
        return numerical_nditer(f, x, eps).astype(np.float32)

    with pytest.raises(CheckFailed, match="returns float32 values"):
        checks.check_numerical_gradient(float32_gradient)


def test_a_flattened_x_is_refused_by_f():
    def flat(f, x, eps=1e-5):
        return numerical_copies(lambda v: f(v.reshape(-1)), x, eps)

    with pytest.raises(CheckFailed, match="shape of x"):
        checks.check_numerical_gradient(flat)


# --- the operations added for this lesson ------------------------------------------------------


def test_backward_probe_restores_the_notebook_s_function_even_on_errors():
    def broken(x, kernel, grad_output):
        raise ValueError("boom")

    cls = layer_class(CALL_TF_STYLE, broken)
    namespace = cls.call.__globals__
    layer = cls(2, 2)
    layer.build((None, 4, 4, 1))
    with pytest.raises(ValueError, match="boom"):
        own_ops.backward_probe(layer, np.ones((1, 4, 4, 1), "float32"), np.ones((1, 3, 3, 2)))
    assert namespace["conv2d_backward"] is broken


def test_backward_probe_scales_what_the_backward_pass_returns():
    layer = LAYERS["tf_style+swapped"](3, (2, 3))
    layer.build((None, 5, 6, 2))
    x = np.random.default_rng(3).normal(size=(2, 5, 6, 2)).astype("float32")
    g = np.random.default_rng(4).normal(size=(2, 4, 4, 3)).astype("float32")
    plain = own_ops.backward_probe(layer, x, g)
    scaled = own_ops.backward_probe(layer, x, g, factors=(2.0, 3.0, 5.0))
    assert plain["calls"] == scaled["calls"] == 1
    np.testing.assert_allclose(scaled["inputs"], 2 * plain["inputs"], rtol=1e-6)
    np.testing.assert_allclose(
        scaled["weights"]["kernel"], 3 * plain["weights"]["kernel"], rtol=1e-6
    )
    np.testing.assert_allclose(scaled["weights"]["bias"], 5 * plain["weights"]["bias"], rtol=1e-6)


def test_fit_starts_from_the_given_weights():
    spec = [("keras", "Flatten", (), {}), ("keras", "Dense", (1,), {})]
    x = np.ones((4, 2, 2, 1), "float32")
    y = np.zeros((4, 1), "float32")
    weights = [np.full((4, 1), 0.5, "float32"), np.zeros(1, "float32")]
    result = harness_ops.fit(
        spec, (None, 2, 2, 1), x, y, "mse", weights=weights, optimizer="sgd", epochs=1
    )
    assert result["loss"][0] == pytest.approx(4.0)  # (4 * 0.5 - 0) ** 2 on the first batch

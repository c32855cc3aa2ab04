"""Checks of lesson 07's functions batch_statistics and batchnorm_backward (`checks.py` offers
them to the notebook's test cells)."""

import numpy as np

from ...compare import compare
from ...feedback import CheckFailed, passed
from ...student import Raised, perform, run
from . import cases
from . import mistakes as catalogue
from .forbidden import BACKWARD, BATCHNORM
from .layers import wrong


def check_batch_statistics(batch_statistics, hidden=False):
    """Mean and biased variance of each channel, over every other axis, on 2-D and 4-D inputs."""
    x, mean, variance, words = cases.hand_example()
    examples = [(x, mean, variance, f"the worked example{words}: x = {x.tolist()}", cases.HAND_TOL)]
    for shape, seed in cases.statistics(hidden):
        rng = np.random.default_rng(cases.drawn.seed(seed))
        batch = cases.draw_batches(rng, shape, 1, cases.channel_spread(rng, shape[-1]))[0]
        examples.append(
            (batch, *catalogue.statistics(batch), f"a random batch {shape}", cases.STATISTICS_TOL)
        )
    for x, mean, variance, case, tolerance in examples:
        result = run("batch_statistics", batch_statistics, x.copy(), forbidden=BATCHNORM, case=case)
        if not (isinstance(result, tuple | list) and len(result) == 2):
            raise CheckFailed(
                f"batch_statistics(x of shape {x.shape}) returned {type(result).__name__}; "
                "expected a pair (mean, variance).",
                [],
                "return mean, variance",
            )
        for name, got, wanted in zip(("mean", "variance"), result, (mean, variance), strict=True):
            mismatch = compare(got, wanted, tolerance, name=name)
            if mismatch:
                hint = ""
                if mismatch.kind == "shape":
                    hint = (
                        f"one {name} per channel: shape (C,) = ({x.shape[-1]},), reduced over "
                        f"axes {tuple(range(x.ndim - 1))}"
                    )
                wrong("batch_statistics", name, mismatch, case, hint, batch_statistics)
    _check_statistics_dtype(batch_statistics, examples[1][0].astype("float32"))
    passed(f"batch_statistics is right on {len(examples)} batches, the worked example included")


STATISTICS_DTYPE_HINT = (
    "cast them back to the dtype of x: return ops.cast(mean, x.dtype), ops.cast(variance, "
    "x.dtype), even when you compute in float64 inside. BatchNormalization combines them with "
    "its float32 weights, and TensorFlow does not add a float64 tensor to a float32 one"
)


def _check_statistics_dtype(fn, x):
    """The statistics of a float32 tensor are float32 tensors: the layer mixes them with its
    float32 weights. NumPy results are left alone (a NumPy batch_statistics is right on its
    own; inside the layer it cannot be traced, which the layer's checks say)."""
    case = f"a random float32 batch {x.shape}, as a tensor, as BatchNormalization passes it"
    try:
        dtypes = perform(
            "batch_statistics", "statistics_dtypes", fn, x, forbidden=BATCHNORM, case=case
        )
    except Raised:  # fails on a tensor only: the layer's checks show the line
        return
    found = [
        f"{name} is {dtype}"
        for name, dtype in zip(("mean", "variance"), dtypes, strict=False)
        if dtype is not None and dtype != str(x.dtype)
    ]
    if found:
        raise CheckFailed(
            f"batch_statistics returns {' and '.join(n.split()[0] for n in found)} in another "
            f"dtype than its input's ({x.dtype}).",
            [f"case: {case}", *(f"{line}; x is {x.dtype}" for line in found)],
            STATISTICS_DTYPE_HINT,
        )


def check_batchnorm_backward(batchnorm_backward, hidden=False):
    """grad_x, grad_gamma and grad_beta equal TensorFlow's autodiff of Keras's layer in
    training mode (float64), on 2-D and 4-D inputs."""
    table = cases.backward(hidden)
    for shape, epsilon, seed in table:
        x, gamma, grad_output = cases.backward_data(shape, seed)
        case = f"inputs {shape}, epsilon={epsilon}, a random grad_output"
        args = (x.copy(), gamma.copy(), grad_output.copy(), epsilon)
        result = run("batchnorm_backward", batchnorm_backward, *args, forbidden=BACKWARD, case=case)
        grads = tuple(result) if isinstance(result, tuple | list) else ()
        if len(grads) != 3:
            raise CheckFailed(
                f"batchnorm_backward returned {type(result).__name__}; expected a triple "
                "(grad_x, grad_gamma, grad_beta).",
                [f"case: {case}"],
                "return grad_x, grad_gamma, grad_beta",
            )
        expected = cases.autodiff_backward(x, gamma, grad_output, epsilon)
        shapes = {"grad_x": shape, "grad_gamma": (shape[-1],), "grad_beta": (shape[-1],)}
        for name, got, wanted in zip(shapes, grads, expected, strict=True):
            mismatch = compare(got, wanted, cases.BACKWARD_TOL, name=name)
            if mismatch:
                hint = ""
                if mismatch.kind == "shape":
                    hint = f"{name} has shape {shapes[name]}: summed over every axis but the last"
                elif name == "grad_x":
                    hint = (
                        "grad_x = gamma / sqrt(var + eps) * (g - mean(g) - x_hat * "
                        "mean(g * x_hat)), means over every axis but the last"
                    )
                wrong("batchnorm_backward", name, mismatch, case, hint, batchnorm_backward)
    passed(f"batchnorm_backward matches automatic differentiation on {len(table)} cases")

"""Mutants of lesson 06's reference (`solutions/backprop.py`) that its checks rightly let live.

Read by `cnn-course mutants 06_backprop` (autograder/authoring/mutants.py): each entry is a
surviving mutant's id and why it behaves as the reference on every input the lesson's contract
allows (the notebook's text and the functions' docstrings), or differs only outside it.
"""

_AXIS = "a negative axis counts from the end: on these {n}-d arrays {neg} is axis {pos}"
_LEADING = (
    "the two axes are split by one reshape and merged by the next, with no transpose between "
    "them that moves either: only their product {what} matters, so any order of its factors "
    "gives the same array (checked on 265 random shapes and pool sizes)"
)
_TENSOR = (
    "every keras.ops function it goes through (einsum, pad, flip, transpose, sum, matmul) "
    "accepts a NumPy array or a tensor alike, and slicing and .shape work on both"
)
_ASARRAY = (
    "the docstring and the exercise's text make x and grad_output arrays ('NumPy is fine "
    "here'), and every caller (the saliency cells, the checks) passes NumPy arrays: on them "
    "np.asarray returns its argument unchanged"
)

EQUIVALENT_MUTANTS = {
    "numerical_gradient: drop `dtype=` from `np.zeros(...)`": (
        "np.zeros is float64 by default, the dtype the line names"
    ),
    "conv2d_backward: `x = ops.convert_to_tensor(x)` -> `pass`": _TENSOR,
    "conv2d_backward: `kernel = ops.convert_to_tensor(kernel)` -> `pass`": _TENSOR,
    "conv2d_backward: `grad_output = ops.convert_to_tensor(grad_output)` -> `pass`": _TENSOR,
    "conv2d_backward: in `grad_output.shape[2]`: `2` -> `-2`": _AXIS.format(n=4, neg=-2, pos=2),
    "conv2d_backward: in `(0, 1, 3, 2)`: `2` -> `-2`": _AXIS.format(n=4, neg=-2, pos=2),
    "conv2d_backward: in `(0, 1, 2)`: `2` -> `-2`": _AXIS.format(n=4, neg=-2, pos=2),
    "max_pool_backward: `x = np.asarray(x)` -> `pass`": _ASARRAY,
    "max_pool_backward: `grad_output = np.asarray(grad_output)` -> `pass`": _ASARRAY,
    "max_pool_backward: swap `batch` and `out_h` in "
    "`x[:, :out_h * kh, :out_w * kw].reshape(...)`": (_LEADING.format(what="batch * out_h")),
    "max_pool_backward: swap `kw` and `channels` in "
    "`x[:, :out_h * kh, :out_w * kw].reshape(...)`": (_LEADING.format(what="kw * channels")),
    "max_pool_backward: in `windows.transpose(0, 1, 3, 2, 4, 5)`: `3` -> `-3`": _AXIS.format(
        n=6, neg=-3, pos=3
    ),
    "max_pool_backward: swap `batch` and `out_h` in `routed.reshape(...)`": _LEADING.format(
        what="batch * out_h"
    ),
    "max_pool_backward: swap `kw` and `channels` in `routed.reshape(...)`": _LEADING.format(
        what="kw * channels"
    ),
    "max_pool_backward: in `routed.reshape(batch, out_h, out_w, kh, kw, channels).tra...`: "
    "`3` -> `-3`": _AXIS.format(n=6, neg=-3, pos=3),
    "max_pool_backward: drop `dtype=` from `np.zeros(...)`": (
        "outside the contract: the docstring promises a NumPy array of x's shape, not its "
        "dtype; the gradient is then float64, and every float32 upstream value it holds is "
        "exactly representable there, so the values are the same"
    ),
}

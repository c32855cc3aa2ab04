"""Lesson 05's surviving mutants that behave as the reference on everything the lesson's
contract allows (`cnn-course mutants 05_pooling`; docs/authoring.md, "Mutation testing").

Several concern the padding of `pool_windows` with `"same"`: its windows read the padded
input's rows 0 to (out - 1) * s + k - 1 only, so cells added after the last of these (at the
bottom or the right, `top` and `left` unchanged) change no window.
"""

_MAX_SYMMETRIC = "max of two ints is symmetric: max(0, p) == max(p, 0), the same int"
_UNREAD_ROW = (
    "max(p, 1) differs from max(p, 0) only where p <= 0, and then pads 1 // 2 = 0 cells before "
    "the input and 1 after it: windows read rows up to (out - 1) * s + k - 1 = n - 1 + p <= "
    "n - 1, so the added cell is never read"
)
_UNREAD_AFTER = (
    "the cells after the input grow from pad - before to pad + before (before = pad // 2 is "
    "unchanged): windows read up to (out - 1) * s + k - 1 = before + n + (pad - before) - 1, "
    "so the extra cells are never read"
)

EQUIVALENT_MUTANTS = {
    "pool_windows: `x = ops.convert_to_tensor(x)` -> `pass`": (
        "x is a tensor (the docstring's contract; NumPy arrays work too): .shape, strided "
        "slices and ops.pad behave the same on either, and ops.stack returns a tensor of the "
        "same dtype in both cases"
    ),
    "pool_windows: swap `(out_h - 1) * sh + kh - height` and `0` in `max(...)`": _MAX_SYMMETRIC,
    "pool_windows: swap `(out_w - 1) * sw + kw - width` and `0` in `max(...)`": _MAX_SYMMETRIC,
    "pool_windows: in `max((out_h - 1) * sh + kh - height, 0)`: `0` -> `1`": _UNREAD_ROW,
    "pool_windows: in `max((out_w - 1) * sw + kw - width, 0)`: `0` -> `1`": _UNREAD_ROW,
    "pool_windows: `pad_h - top` -> `pad_h + top`": _UNREAD_AFTER,
    "pool_windows: `pad_w - left` -> `pad_w + left`": _UNREAD_AFTER,
    "GlobalAveragePooling2D.call: in `(1, 2)`: `2` -> `-2`": (
        "axis -2 is axis 2 of a 4-D tensor, and the layer's InputSpec(ndim=4) refuses any "
        "other rank"
    ),
}

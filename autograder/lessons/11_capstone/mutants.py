"""Lesson 11's surviving mutants that are equivalent to the reference
(`cnn-course mutants 11_capstone` reads them)."""

_TRAINING = (
    "Keras 3 passes the training flag of a layer's call on to the layers it calls inside "
    "(the call context), so a sublayer called without `training=` runs in the same mode as "
    "with it"
)
_STRICT = "the sizes (height, width) and the strides are both pairs: `strict` never acts"

EQUIVALENT_MUTANTS = {
    "ResidualBlock.call: drop `training=` from `self.bn1(...)`": _TRAINING,
    "ResidualBlock.call: drop `training=` from `self.bn2(...)`": _TRAINING,
    "ResidualBlock.call: drop `training=` from `self.projection_bn(...)`": _TRAINING,
    "ResidualBlock.compute_output_shape: drop `strict=` from `zip(...)`": _STRICT,
    "ResidualBlock.compute_output_shape: in `zip((height, width), self.strides, strict=True)`: "
    "`True` -> `False`": _STRICT,
}

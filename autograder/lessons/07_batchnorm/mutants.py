"""Lesson 07's surviving mutants that behave as the reference on everything the lesson's
contract allows (`cnn-course mutants 07_batchnorm`; docs/authoring.md, "Mutation testing")."""

_TRAINABLE_DEFAULT = (
    "Layer.add_weight's trainable defaults to True, the value the reference passes for gamma "
    "and beta"
)
_FLOAT64_ALREADY = (
    "batchnorm_backward is given NumPy arrays (the docstring's contract; the checks pass float64 "
    "ones, so the conversion changes nothing); with float32 arrays the computation runs in "
    "float32, which BACKWARD_TOL accepts by design ('a float32 computation stays within this "
    "bound')"
)

EQUIVALENT_MUTANTS = {
    "BatchNormalization.build: drop `trainable=` from `self.add_weight(...)`": _TRAINABLE_DEFAULT,
    "BatchNormalization.build: drop `trainable=` from `self.add_weight(...)` #2": (
        _TRAINABLE_DEFAULT
    ),
    "batchnorm_backward: `x = np.asarray(x, dtype=np.float64)` -> `pass`": _FLOAT64_ALREADY,
    "batchnorm_backward: drop `dtype=` from `np.asarray(...)`": _FLOAT64_ALREADY,
    "batchnorm_backward: drop `dtype=` from `np.asarray(...)` #2": _FLOAT64_ALREADY,
    "batchnorm_backward: drop `dtype=` from `np.asarray(...)` #3": _FLOAT64_ALREADY,
}

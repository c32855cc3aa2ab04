"""Lesson 08's surviving mutants that behave as the reference on everything the lesson's
contract allows (`cnn-course mutants 08_dropout`; docs/authoring.md, "Mutation testing").

Not listed, because they are gaps rather than equivalents: the mutants of `Dropout.__init__`'s
validation of `noise_shape` (Keras's ValueError for a string, a non-integer entry or an entry
of 0 or less), which the checks do not exercise yet.
"""

EQUIVALENT_MUTANTS = {
    "mask_shape: drop `strict=` from `zip(...)`": (
        "strict only matters when noise_shape and input_shape differ in length, and "
        "mask_shape's docstring requires noise_shape to be a tuple as long as input_shape"
    ),
    "mask_shape: in `zip(input_shape, noise_shape, strict=True)`: `True` -> `False`": (
        "strict only matters when noise_shape and input_shape differ in length, and "
        "mask_shape's docstring requires noise_shape to be a tuple as long as input_shape"
    ),
    "Dropout.__init__: `noise_shape = tuple(noise_shape)` -> `pass`": (
        "a tuple noise_shape is already a tuple; a list one stays a list, which mask_shape "
        "zips the same way into a tuple mask shape, and get_config's list equals Keras's "
        "tuple once serialized (JSON has only lists; the contract compares them as equal)"
    ),
    "Dropout.call: in `self.rate == 0`: `0` -> `-1`": (
        "at rate=0 the mask is drawn instead of skipped: every uniform draw is >= 0, so "
        "everything is kept and divided by 1 - 0 = 1, which returns x exactly, with the same "
        "gradient; the only difference, a step of the seed generator, cannot show in outputs "
        "whose masks at rate=0 keep everything"
    ),
    "Dropout.call: `keras.random.uniform(shape, seed=self.seed_generator) >= ...` -> "
    "`keras.random.uniform(shape, seed=self.seed_generator) > s...`": (
        "the two differ only where a float32 uniform draw equals the rate exactly: the keep "
        "probability moves by at most one float32 step of [0, 1) (2^-23, about 1e-7); the "
        "lesson promises a keep probability of 1 - rate, not Keras's exact masks"
    ),
}

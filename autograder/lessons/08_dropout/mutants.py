"""Lesson 08's surviving mutants that behave as the reference on everything the lesson's
contract allows, or change only what it leaves open (`cnn-course mutants 08_dropout`;
docs/authoring.md, "Mutation testing").

The contract is the notebook and the docstrings in solutions/dropout.py. Exercise 2 asks
`Dropout.__init__` to refuse a rate outside [0, 1] with Keras's ValueError and to store
`noise_shape` "(a tuple, or None)"; the docstring defines noise_shape as None or a tuple of
sizes (None or an int). Neither asks for an error on any other noise_shape: the reference's
refusal of one (Keras's ValueError for a string, a non-integer entry, an entry of 0 or less)
sits inside the hidden solution only, so grading it would grade code students are never told
to write. Its mutants are listed below as outside the contract.
"""

NOISE_SHAPE_REFUSAL = (
    "outside the contract: changes only what Dropout does with an invalid noise_shape (a "
    "string, a non-integer entry, an entry of 0 or less), which neither Exercise 2 (it asks to "
    "refuse invalid rates only) nor the docstring (noise_shape is None or a tuple of sizes) "
    "promises to refuse; every valid noise_shape takes the same path as in the reference"
)

EQUIVALENT_MUTANTS = {
    **dict.fromkeys(
        (
            "Dropout.__init__: `invalid = 'Invalid value received for argument `noise_sha...` "
            "-> `pass`",
            "Dropout.__init__: `expected = 'a tuple or list of integers'` -> `pass`",
            "Dropout.__init__: `expected = 'all elements to be integers or None'` -> `pass`",
            "Dropout.__init__: `size > 0` -> `size >= 0`",
            "Dropout.__init__: in `size > 0`: `0` -> `-1`",
            "Dropout.__init__: `expected = 'all dimensions to be positive integers or None'` -> "
            "`pass`",
            "Dropout.__init__: `raise ValueError(invalid.format(expected) + f'noise_shape...` -> "
            "`pass`",
            "Dropout.__init__: `invalid.format(expected) + f'noise_shape={noise_shape}'` -> "
            "`invalid.format(expected) - f'noise_shape={noise_shape}'`",
        ),
        NOISE_SHAPE_REFUSAL,
    ),
    "mask_shape: drop `strict=` from `zip(...)`": (
        "strict only matters when noise_shape and input_shape differ in length, and "
        "mask_shape's docstring requires noise_shape to be a tuple as long as input_shape"
    ),
    "mask_shape: in `zip(input_shape, noise_shape, strict=True)`: `True` -> `False`": (
        "strict only matters when noise_shape and input_shape differ in length, and "
        "mask_shape's docstring requires noise_shape to be a tuple as long as input_shape"
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

"""Mutants of lesson 09's reference (`solutions/transfer_learning.py`) that its checks rightly
let live.

Read by `cnn-course mutants 09_transfer_learning` (autograder/authoring/mutants.py): each entry
is a surviving mutant's id and why it behaves as the reference on every input the lesson's
contract allows (the notebook's text and the docstrings), or differs only outside it.
"""

_UNIFORM = "`keras.random.uniform(one_per_image, seed=self.generator) ...`"
_AT_HALF = (
    "`< 0.5` -> `<= 0.5`: keras.random.uniform draws float32 values on a grid of 2**-23 or "
    "finer, so a draw equals 0.5 with probability at most 2**-23: the flip probability moves "
    "from 1/2 by that much, which no test with a false-failure rate of 1e-9 can see"
)
_OTHER_HALF = (
    "flips the images whose draw is >= 0.5 instead of < 0.5: each image still flips with "
    "probability 1/2, independently of the others and of the other axis, the same way for the "
    "same seed; the lesson promises that, not which draws flip"
)
_VERBOSE = (
    "outside what is graded: verbose only sets what fit prints in the notebook (a progress "
    "bar); the model, its optimizer and the returned History are the same. The docstring's "
    "'silently' keeps the notebook readable; no check reads a student's printed output"
)

EQUIVALENT_MUTANTS = {
    f"RandomFlip.call: {_UNIFORM} -> {_UNIFORM}": _AT_HALF,
    f"RandomFlip.call: {_UNIFORM} -> {_UNIFORM} #2": _AT_HALF,
    "RandomFlip.call: swap `ops.flip(images, axis=2)` and `images` in `ops.where(...)`": (
        _OTHER_HALF
    ),
    "RandomFlip.call: swap `ops.flip(images, axis=1)` and `images` in `ops.where(...)`": (
        _OTHER_HALF
    ),
    "RandomFlip.call: in `ops.flip(images, axis=2)`: `2` -> `-2`": (
        "images are always 4-d here (a single image was made a batch of one above): axis -2 "
        "is axis 2, the width"
    ),
    "train_head: drop `verbose=` from `model.fit(...)`": _VERBOSE,
    "train_head: in `model.fit(x, y, epochs=epochs, batch_size=batch_size, ver...`: `0` -> `1`": (
        _VERBOSE
    ),
    "train_head: in `model.fit(x, y, epochs=epochs, batch_size=batch_size, ver...`: `0` -> `-1`": (
        _VERBOSE
    ),
    "TransferModel.call: drop `training=` from `self.augmentation(...)`": (
        "Keras 3 passes the model's training flag on to a layer called inside its call() "
        "without one (its call context), so the augmentation flips in training and not at "
        "inference either way; a student may write it so, and the check accepts it (a test "
        "of lesson 09 calls the augmentation without training)"
    ),
    "unfreeze_from: `raise ValueError(f'The base has no layer {layer_name!r}; ...` -> `pass`": (
        "for an unknown layer `names.index(layer_name)` two lines below raises ValueError "
        "itself, as the docstring promises; only the message is plainer"
    ),
    "unfreeze_from: in `base.layers[:names.index(layer_name)]`: `:names.index(layer_name)` -> "
    "`1:names.index(layer_name)`": (
        "the base's first layer is its InputLayer ('images'), which has no weights: leaving it "
        "trainable changes nothing that trains"
    ),
}

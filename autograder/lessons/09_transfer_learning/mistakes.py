"""Known mistakes of lesson 09 (transfer learning) and how they show.

RandomFlip's mistakes show in what a call does to a batch of distinct random images: each
output image is the input, one of its flips, or something else, and `flip_outcome` says which.
The transfer-learning mistakes show in data the checks collect about a model: which weights
changed in training, which are trainable, the optimizer it was compiled with, and its outputs
compared with what the pretrained base and the head give with and without preprocessing.
"""

from dataclasses import replace

import numpy as np

from ...diagnosis import Mistake

BATCH_FLIP = Mistake(
    "batch_flip",
    "one flip decision for the whole batch",
    "Each image must decide on its own whether it is flipped: draw one random number per image, "
    "of shape (batch, 1, 1, 1), not a single number for the batch. With one decision, a batch "
    "is either all flipped or all as it was, and the network sees every image of it mirrored "
    "together.",
)
NEVER_FLIPS = Mistake(
    "never_flips",
    "no image ever flipped in this mode",
    "Called again and again in this mode, your layer returned every image as it was: the mode "
    "never reaches the flip code, or the flip changes nothing. Check the test of self.mode for "
    'each mode ("horizontal_and_vertical" flips too), and flip axis 2 (width) or 1 (height): on '
    "images with one channel, a flip of the channel axis (axis -1) leaves them as they were.",
)
FLIPS_AT_INFERENCE = Mistake(
    "flips_at_inference",
    "images flipped at inference",
    "Augmentation belongs to training only: with training=False (what predict and evaluate "
    "pass) the layer must return its input unchanged. Start call with `if not training: return "
    "inputs` (cast to the layer's dtype).",
)
AXES_SWAPPED = Mistake(
    "axes_swapped",
    "horizontal and vertical swapped",
    "A horizontal flip mirrors left and right, so it reverses the width axis (axis 2 of "
    "(batch, height, width, channels)); a vertical flip mirrors top and bottom, the height "
    "axis 1.",
)
CHANNELS_FLIPPED = Mistake(
    "channels_flipped",
    "the channel axis flipped",
    "ops.flip(x, axis=-1) reverses the last axis, which is the channels in channels-last "
    "images, not the width. Flip axis 2 (width) for horizontal and axis 1 (height) for vertical.",
)
SAME_FLIPS_EVERY_CALL = Mistake(
    "same_flips_every_call",
    "the same images flipped at every call",
    "Passing the integer seed to keras.random.uniform(..., seed=self.seed) on every call draws "
    "the same numbers each time, so the same images of every batch are flipped, epoch after "
    "epoch. Create a keras.random.SeedGenerator(seed) once in __init__ and pass it as the seed: "
    "its state moves on at every draw, and two layers with the same seed still agree.",
)
FLIPS_KEPT_ON_SELF = Mistake(
    "flips_kept_on_self",
    "the flip decisions drawn once and kept on self",
    "Draw the decisions anew inside every call. Yours draws them at the first call, keeps them "
    "on self and reuses them at every later call, so the same images of every batch are "
    "flipped, epoch after epoch (drawing them from the SeedGenerator does not help: it moves "
    "on only when it draws). Inside model.fit a kept tensor belongs to the graph of another "
    "trace, which TensorFlow refuses (InaccessibleTensorError: ... is out of scope). Call "
    "keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.generator) in every call "
    "and keep no tensor from an earlier call on self.",
)
NUMPY_FLIPS = Mistake(
    "numpy_flips",
    "flip decisions drawn with NumPy or Python inside call (frozen under tf.function)",
    "model.fit traces call into a graph once: what NumPy or Python's random module draws there "
    "becomes a constant of the graph, so every training step flips the same images, and with "
    "the batch size unknown while tracing (None) there is one decision for the whole batch. "
    "Draw the decisions with keras.random.uniform((ops.shape(images)[0], 1, 1, 1), "
    "seed=self.generator): an op of the graph, drawn anew at every step.",
)
BASE_NOT_FROZEN = Mistake(
    "base_not_frozen",
    "base not frozen",
    "Set `model.trainable = False` on the base itself (an assignment, not a comparison): that "
    "freezes every layer inside it, Conv2D and BatchNormalization alike. A trainable "
    "BatchNormalization also keeps updating its moving mean and variance.",
)
WEIGHTS_FROZEN_LAYERS_NOT = Mistake(
    "weights_frozen_layers_not",
    "the weights frozen one by one, the layers left trainable",
    "Setting `trainable = False` on each weight keeps it out of the gradient, but the layers "
    "stay trainable, and a trainable BatchNormalization in training mode (in fit, or "
    "base(x, training=True)) keeps updating its moving mean and variance. Set `trainable = "
    "False` on the layers instead (`model.trainable = False` freezes every layer of a model): a "
    "frozen BatchNormalization runs in inference mode.",
)
PREPROCESSING_SKIPPED = Mistake(
    "preprocessing_skipped",
    "the base's input preprocessing skipped",
    "The base was trained on images scaled from [0, 1] to [-1, 1]; feed it "
    "pretrained.preprocess_input(images), as a Keras application needs its own preprocess_input. "
    "Raw images give every feature map a different offset and scale from what the base learned.",
)
NO_SOFTMAX = Mistake(
    "no_softmax",
    "the head outputs scores, not probabilities",
    "The loss 'sparse_categorical_crossentropy' expects probabilities: give the head's Dense "
    "layer activation='softmax'.",
)
BASE_IN_TRAINING_MODE = Mistake(
    "base_in_training_mode",
    "base called in training mode",
    "Call the base with training=False: its BatchNormalization layers then normalise with the "
    "statistics learned on the source task, even when the base is unfrozen for fine-tuning. In "
    "training mode they normalise each batch by its own statistics and overwrite the moving "
    "mean and variance with those of a few target images. If your code already says "
    "base(x, training=False) inside a functional model (keras.Model(inputs, outputs), even one "
    "built in __init__), Keras 3 overrides it with fit's training=True: call the base in the "
    "subclassed model's own call, where training=False holds.",
)
AUGMENTATION_AT_INFERENCE = Mistake(
    "augmentation_at_inference",
    "augmentation applied at inference",
    "Pass the model's own training flag on: self.augmentation(x, training=training). With "
    "training=True written in, a RandomFlip flips images at prediction time too, and the "
    "model's predictions change from one call to the next.",
)
AUGMENTATION_IGNORED = Mistake(
    "augmentation_ignored",
    "augmentation never applied",
    "When an augmentation layer is given, call it on the images before the preprocessing, with "
    "training=training, so that the model sees augmented images while it trains.",
)
BASE_LEFT_FROZEN = Mistake(
    "base_left_frozen",
    "the base itself left frozen",
    "A frozen model hides the weights of all its layers, whatever their own flags say: set "
    "base.trainable = True first (which unfreezes every layer), then freeze again the layers "
    "before the given one.",
)
NO_RECOMPILE = Mistake(
    "no_recompile",
    "trainable changed without recompiling",
    "A model trains the weights that were trainable when it was compiled. After unfreezing part "
    "of the base, call model.compile(...) again before fit, or the newly unfrozen weights never "
    "move.",
)
FINE_TUNE_RATE_TOO_HIGH = Mistake(
    "fine_tune_rate_too_high",
    "fine-tuning learning rate too high",
    "Fine-tune with the small learning_rate you are given (the head's rate is 100 times larger): "
    "the pretrained weights are already good, and large steps on a few target images wreck "
    "them. Fine-tuning block 3 at the head's rate 1e-2 costs 31 points of test accuracy on "
    "average here; at 1e-4 it gains one.",
)

CATALOGUE = tuple(v for v in tuple(globals().values()) if isinstance(v, Mistake))

# What a flip layer may do to one image (batch axis dropped: axes are height, width, channels).
FLIPS = {
    "unchanged": lambda image: image,
    "horizontal": lambda image: image[:, ::-1],
    "vertical": lambda image: image[::-1],
    "both": lambda image: image[::-1, ::-1],
    "channels": lambda image: image[:, :, ::-1],
}
# The outcomes each mode allows. Keras 3 turns an image by 180 degrees ("both") or leaves it in
# mode "horizontal_and_vertical"; earlier versions flipped each axis on its own, which adds
# "horizontal" and "vertical". Both are accepted.
ALLOWED = {
    "horizontal": ("unchanged", "horizontal"),
    "vertical": ("unchanged", "vertical"),
    "horizontal_and_vertical": ("unchanged", "horizontal", "vertical", "both"),
}
# Whether an outcome reversed the width axis (a horizontal component) and the height axis.
REVERSES_WIDTH = {"unchanged": False, "horizontal": True, "vertical": False, "both": True}
REVERSES_HEIGHT = {"unchanged": False, "horizontal": False, "vertical": True, "both": True}


def flip_outcome(output: np.ndarray, image: np.ndarray) -> str:
    """Which of `FLIPS` turns `image` into `output` ("other" when none does, exactly).

    Flipping only moves values, so the comparison is exact; the images must be distinct from
    their own flips (random noise is, with probability 1).
    """
    output = np.asarray(output)
    for name, flip in FLIPS.items():
        expected = flip(image)
        if output.shape == expected.shape and np.array_equal(output, expected):
            return name
    return "other"


def outcomes(outputs: np.ndarray, images: np.ndarray) -> list[str]:
    """`flip_outcome` of every image of a batch."""
    return [flip_outcome(out, image) for out, image in zip(outputs, images, strict=True)]


def mode_mistake(mode: str, found: list[str]) -> Mistake | None:
    """The catalogued mistake that explains the outcomes `found` of a call in `mode`."""
    swapped = {"horizontal": "vertical", "vertical": "horizontal"}.get(mode)
    if "channels" in found and set(found) <= {"unchanged", "channels"}:
        return CHANNELS_FLIPPED
    if swapped in found and set(found) <= {"unchanged", swapped}:
        turns = "turns images upside down" if mode == "horizontal" else "mirrors left and right"
        return replace(
            AXES_SWAPPED, explanation=f"{AXES_SWAPPED.explanation} Your {mode} flip {turns}."
        )
    return None

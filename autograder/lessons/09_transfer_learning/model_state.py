"""What lesson 09's checks read back from a model built around the pretrained base: its
weights, how many are trainable, which changed, and how it was compiled, through trusted
operations (`ops.py`)."""

import numpy as np

from ...feedback import CheckFailed
from .cases import perform


def fresh_base(near, frozen=True):
    """A new copy of the pretrained base where the student's object `near` lives."""
    base = perform("loading the pretrained base", "pretrained_base", near)
    if frozen:
        perform("freezing the base", "set_trainable", base, False)
    return base


def weights_of(target, what, values=True) -> list[dict]:
    return perform(f"the weights of {what}", "variables", target, values=values)


def count_parameters(infos, trainable) -> int:
    return int(sum(np.prod(i["shape"]) for i in infos if i["trainable"] == trainable))


def changed_paths(before, after) -> list[str]:
    """Paths of the weights whose values differ between two `variables` listings."""
    pairs = zip(before, after, strict=True)
    return [b["path"] for b, a in pairs if not np.array_equal(b["value"], a["value"])]


def listing(paths, limit=4) -> str:
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more


def is_statistic(path: str) -> bool:
    return path.endswith(("moving_mean", "moving_variance"))


def compile_problem(state, what, rate, images, epochs, batch_size):
    """What is wrong with how `what` compiled and fitted (an Adam optimizer at `rate`, one
    step per batch of `images` per epoch), or None."""
    if state is None:
        raise CheckFailed(
            f"{what} did not compile the model.",
            [],
            "call model.compile(optimizer=keras.optimizers.Adam(learning_rate), ...)",
        )
    if state["class"] != "Adam" or not np.isclose(state["learning_rate"], rate, rtol=1e-6):
        found = f"{state['class']}(learning_rate={state['learning_rate']:g})"
        return f"compiled with {found}; expected Adam(learning_rate={rate:g})"
    steps = epochs * -(-images // batch_size)
    if state["iterations"] != steps:
        return (
            f"took {state['iterations']} training steps; the given epochs and batch_size "
            f"make {steps}"
        )
    return None


def require_loss(model, what, hint):
    """`what` compiled `model` with sparse categorical cross-entropy on probabilities, judged
    by its value on fixed probabilities, so that every spelling of the right loss passes."""
    labels = np.array([0, 2, 1, 2])
    probabilities = np.array(
        [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25], [0.6, 0.3, 0.1]], "float32"
    )
    found = perform(f"the loss {what} compiled", "compiled_loss", model, labels, probabilities)
    value = found["value"]
    picked = probabilities[np.arange(len(labels)), labels].astype(np.float64)
    expected = float(np.mean(-np.log(picked)))
    if value is not None and np.isclose(value, expected, rtol=1e-4):
        return
    if found["error"]:
        lines = [
            f"on labels {labels.tolist()} (class numbers) and 4 rows of probabilities, your "
            f"loss raised {found['error']}"
        ]
    elif value is None:
        lines = ["the model was compiled without a loss"]
    else:
        lines = [
            f"on 4 probe rows of probabilities your loss gives {value:.4f}; sparse categorical "
            f"cross-entropy gives {expected:.4f}"
        ]
        as_logits = np.exp(probabilities) / np.exp(probabilities).sum(axis=1, keepdims=True)
        picked_as_logits = as_logits[np.arange(len(labels)), labels]
        if np.isclose(value, np.mean(-np.log(picked_as_logits)), rtol=1e-4):
            lines.append(
                "that is the loss with from_logits=True: the model's outputs are probabilities "
                "already (its Dense layer has a softmax), so they must not be taken for logits"
            )
    raise CheckFailed(f"{what} does not compile with the loss asked for.", lines, hint)

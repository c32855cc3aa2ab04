"""What lesson 09's checks read back from a model built around the pretrained base: its
weights, how many are trainable, and which changed, through trusted operations (`ops.py`)."""

import numpy as np

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

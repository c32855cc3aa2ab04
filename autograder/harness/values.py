"""What crosses between a check and the student's code: plain data, by value.

Results of student code are turned into plain data (NumPy arrays and scalars, Python numbers,
strings, None, and tuples, lists and dicts of them) while the guard still watches, so a lazy
object cannot run a forbidden op after the check looked away. What is not data (a layer, a
model, a function) stays where it was made; across the grading sandbox it is named by a `Ref`.

`encode`/`decode` carry such values as bytes: JSON, with arrays as `.npy` bytes. Nothing is
ever unpickled, and decoding refuses oversized input.
"""

import base64
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from numbers import Integral, Rational

import numpy as np

MAX_BYTES = 64 * 2**20  # one message, either way
MAX_DEPTH = 12
MAX_ITEMS = 100_000


@dataclass(frozen=True)
class Opaque:
    """A value inside a result that is not plain data, shown by its type and repr."""

    type: str
    repr: str

    def __str__(self) -> str:
        return self.repr


@dataclass(frozen=True)
class Symbolic:
    """A symbolic tensor (what a layer returns for `keras.Input`): its shape and dtype."""

    shape: tuple
    dtype: str


class NotData(Exception):
    """The value is an object, not plain data: keep it where it is."""


def _is_keras_tensor(value) -> bool:
    return type(value).__name__ == "KerasTensor" and type(value).__module__.startswith("keras")


def _tensor_to_numpy(value):
    """A tensor or variable of TensorFlow or Keras as a NumPy array; NotData for anything else."""
    module = type(value).__module__
    if not module.startswith(("tensorflow", "keras")):
        raise NotData
    if _is_keras_tensor(value):
        return Symbolic(tuple(value.shape), str(value.dtype))
    if type(value).__name__ == "TensorShape":
        return tuple(None if d is None else int(d) for d in value.as_list())
    numpy = getattr(value, "numpy", None)
    if callable(numpy):
        try:
            return np.array(numpy(), copy=True)
        except Exception as exc:  # a symbolic tf.Tensor inside a graph
            raise NotData from exc
    if hasattr(value, "value") and hasattr(value, "assign"):  # keras.Variable
        import keras

        return np.array(keras.ops.convert_to_numpy(value.value), copy=True)
    raise NotData


def to_plain(value, depth: int = 0, budget: list | None = None):
    """`value` as plain data; raise NotData if the value itself is an object.

    Inside containers, objects become `Opaque` (type and repr) rather than failing the whole.
    """
    budget = [MAX_ITEMS] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise NotData
    kind = type(value)
    if value is None or kind in (bool, int, float, str, Opaque, Symbolic):
        return value
    if isinstance(value, bool | int | float | str) and kind.__module__ != "numpy":
        # subclasses of the builtins: keep the builtin value only
        for base in (bool, int, float, str):
            if isinstance(value, base):
                return base(value)
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise NotData
        return np.array(value, copy=True, subok=False)
    if isinstance(value, np.generic):
        if isinstance(value, np.object_):
            raise NotData
        return value
    # Subclasses (Keras's TrackedList for a list attribute, a namedtuple) as their builtin,
    # read through the builtin's own methods: never a method the subclass overrides. By the
    # real type: isinstance believes a `__class__` that an object claims.
    if issubclass(kind, tuple | list):
        base = tuple if issubclass(kind, tuple) else list
        items = [_plain_item(v, depth, budget) for v in base.__iter__(value)]
        return tuple(items) if base is tuple else items
    if issubclass(kind, dict):
        return {_plain_key(k): _plain_item(v, depth, budget) for k, v in dict.items(value)}
    if isinstance(value, Decimal) or (
        isinstance(value, Rational) and not isinstance(value, Integral)
    ):
        return float(value)  # an exact fraction or decimal (`fractions.Fraction`): a number
    return _tensor_to_numpy(value)


def _plain_item(value, depth, budget):
    try:
        return to_plain(value, depth + 1, budget)
    except NotData:
        return opaque(value)


def _plain_key(key):
    if type(key) in (str, int, bool) or key is None:
        return key
    if type(key) is tuple:
        return tuple(_plain_key(k) for k in key)
    return opaque(key).repr


def opaque(value) -> Opaque:
    """An `Opaque` stand-in for an object (its repr is cut to 200 characters)."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return Opaque(type(value).__name__, text if len(text) <= 200 else text[:197] + "...")


# --- bytes ---------------------------------------------------------------------------------------


class DecodeError(ValueError):
    """Bytes that are not a valid message."""


def encode(value, ref_encoder=None, object_encoder=None) -> bytes:
    """`value` (plain data, `Ref`s, `Opaque`, `Symbolic`) as bytes.

    `ref_encoder(ref)` gives the JSON form of a `Ref`; `object_encoder(obj)` that of any other
    object (None: refuse it).
    """

    def walk(v, depth=0):
        if depth > MAX_DEPTH + 2:
            raise ValueError("value nested too deeply to send")
        if v is None or type(v) in (bool, str):
            return v
        if type(v) in (int, float):
            return v
        if isinstance(v, np.ndarray | np.generic):
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(v), allow_pickle=False)
            entry = {"$nd": base64.b64encode(buffer.getvalue()).decode("ascii")}
            if isinstance(v, np.generic):
                entry["scalar"] = True
            return entry
        if type(v) is tuple:
            return {"$t": [walk(x, depth + 1) for x in v]}
        if type(v) is list:
            return [walk(x, depth + 1) for x in v]
        if type(v) is dict:
            return {"$d": [[walk(k, depth + 1), walk(x, depth + 1)] for k, x in v.items()]}
        if type(v) is Opaque:
            return {"$o": [v.type, v.repr]}
        if type(v) is Symbolic:
            return {"$s": [walk(v.shape, depth + 1), v.dtype]}
        if ref_encoder is not None and getattr(v, "_is_ref", False):
            return {"$r": ref_encoder(v)}
        if object_encoder is not None:
            return object_encoder(v)
        raise TypeError(f"cannot send a {type(v).__name__} to or from student code")

    return json.dumps(walk(value), allow_nan=True, separators=(",", ":")).encode("utf-8")


def decode(data: bytes, ref_decoder=None, tag_decoders: dict | None = None):
    """The value `encode` wrote; refs and extra tags are turned back by the given decoders."""
    if len(data) > MAX_BYTES:
        raise DecodeError(f"message of {len(data):,} bytes is larger than {MAX_BYTES:,}")
    try:
        tree = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"not a valid message: {exc}") from exc
    tag_decoders = tag_decoders or {}
    count = [0]

    def walk(v, depth=0):
        count[0] += 1
        if depth > MAX_DEPTH + 2 or count[0] > 4 * MAX_ITEMS:
            raise DecodeError("message nested too deeply or too long")
        if v is None or type(v) in (bool, int, float, str):
            return v
        if type(v) is list:
            return [walk(x, depth + 1) for x in v]
        if type(v) is not dict or len(v) not in (1, 2):
            raise DecodeError("unexpected JSON object in message")
        tag = next(iter(v))
        body = v[tag]
        if tag == "$nd":
            return _array(body, v.get("scalar", False))
        if tag == "$t":
            return tuple(walk(x, depth + 1) for x in _list(body))
        if tag == "$d":
            pairs = [_list(pair) for pair in _list(body)]
            if any(len(pair) != 2 for pair in pairs):
                raise DecodeError("bad dict entry in message")
            return {_hashable(walk(k, depth + 1)): walk(x, depth + 1) for k, x in pairs}
        if tag == "$o":
            kind, text = _list(body)
            return Opaque(str(kind), str(text))
        if tag == "$s":
            shape, dtype = _list(body)
            return Symbolic(walk(shape, depth + 1), str(dtype))
        if tag == "$r" and ref_decoder is not None:
            return ref_decoder(body)
        if tag in tag_decoders:
            return tag_decoders[tag](body)
        raise DecodeError(f"unknown tag {tag!r} in message")

    return walk(tree)


def _list(value) -> list:
    if type(value) is not list:
        raise DecodeError("expected a list in message")
    return value


def _hashable(key):
    if isinstance(key, list | dict | np.ndarray):
        raise DecodeError("unhashable dict key in message")
    return key


def _array(text, scalar: bool):
    fmt = np.lib.format
    try:
        raw = base64.b64decode(text, validate=True)
        stream = io.BytesIO(raw)
        major, _ = fmt.read_magic(stream)
        header = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
        shape, _, dtype = header(stream)
        # np.load allocates the array the header declares before reading its data
        if dtype.hasobject or dtype.itemsize * int(np.prod(shape)) > len(raw):
            raise ValueError("the header declares more data than the message holds")
        stream.seek(0)
        array = np.load(stream, allow_pickle=False)
    except Exception as exc:
        raise DecodeError(f"bad array in message: {exc}") from exc
    return array[()] if scalar else array

"""Student objects that live in another process, and the agent that serves them there.

For grading, the student's code runs in a sandboxed kernel and the checks in the grader. A
check then holds a `Ref` for each student object: the name of a notebook global
(`Ref(session, name="Conv2D")`), or an object an operation made (a layer), with an attribute
path (`layer.build`). A `Ref` is only a name; an operation on it is sent to the kernel's
`Agent`, which resolves it, runs the operation under the guard, and answers with plain data or
a new `Ref`. Nothing but data crosses, and nothing the kernel sends is executed.

`LoopbackSession` runs an `Agent` in this process, through the same bytes, so the test suite
proves without a sandbox that every check works across the boundary.
"""

import json
from collections.abc import Iterable

from .execution import Pending, Result, execute
from .student_errors import StudentError
from .values import DecodeError, decode, encode


class Ref:
    """A student object in another process: a notebook global or an object an operation made,
    followed by an attribute path. Attribute access makes a longer path; nothing else works."""

    _is_ref = True
    __slots__ = ("_session", "_id", "_global", "_path", "_label")

    def __init__(self, session, ident=None, name=None, path=(), label=""):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_id", ident)
        object.__setattr__(self, "_global", name)
        object.__setattr__(self, "_path", tuple(path))
        object.__setattr__(self, "_label", label or name or "object")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Ref(self._session, self._id, self._global, (*self._path, name), self._label)

    def __setattr__(self, name, value):
        raise TypeError("a student object in the sandbox cannot be changed from a check")

    def __call__(self, *args, **kwargs):
        raise TypeError(
            f"{self}: a student object in the sandbox is only called through an operation "
            "(autograder.student.run)"
        )

    def __bool__(self):
        raise TypeError(f"{self}: the truth of a student object is not known here")

    def __iter__(self):
        raise TypeError(f"{self}: a student object in the sandbox cannot be iterated here")

    def __repr__(self):
        return f"<student {'.'.join((self._label, *self._path))}>"

    @property
    def __name__(self):  # noqa: PLW3201 - lets feedback name a class as with a local one
        return self._path[-1] if self._path else self._label

    def spec(self) -> dict:
        return {"id": self._id, "global": self._global, "path": list(self._path)}


def session_of(values: Iterable):
    """The session of the first `Ref` found in `values` (searched inside lists, tuples and
    dict values), or None when every value is local."""
    for value in values:
        if isinstance(value, Ref):
            return value._session
        if type(value) in (list, tuple):
            found = session_of(value)
        elif type(value) is dict:
            found = session_of(value.values())
        else:
            continue
        if found is not None:
            return found
    return None


# --- the grader's side ---------------------------------------------------------------------------


def _keras_object(value) -> dict:
    """A Keras object (initializer, regularizer, constraint, ...) sent by its config."""
    import keras

    if not hasattr(value, "get_config"):
        raise TypeError(f"cannot send a {type(value).__name__} to student code")
    return {"$k": json.dumps(keras.saving.serialize_keras_object(value))}


def encode_request(op, args, kwargs, names, op_types) -> bytes:
    request = {"op": op, "args": list(args), "kwargs": dict(kwargs)}
    request["names"], request["op_types"] = list(names), list(op_types)
    return encode(request, ref_encoder=Ref.spec, object_encoder=_keras_object)


def decode_result(session, data: bytes) -> Result:
    """The agent's answer as a `Result`; a malformed answer is an error of the student's code
    (only a tampered kernel sends one)."""

    def ref(spec):
        return Ref(session, spec["id"], None, (), spec.get("label", ""))

    try:
        answer = decode(data, ref_decoder=ref)
        result = Result(
            value=answer.get("value"),
            is_object=bool(answer.get("object", False)),
            forbidden=[str(name) for name in answer.get("forbidden", [])],
        )
        error = answer.get("error")
        if error is not None:
            result.error = StudentError(
                str(error[0]),
                str(error[1]),
                bool(error[2]),
                str(error[3])[:300],
                str(error[4])[:300] if len(error) > 4 else "",
            )
    except (DecodeError, AttributeError, KeyError, TypeError, IndexError) as exc:
        return Result(error=StudentError("MalformedAnswer", f"the kernel's answer: {exc}"))
    return result


class Session:
    """A connection to the process where the student's objects live."""

    def perform(self, op: str, args, kwargs, names=(), op_types=()) -> Result:
        raise NotImplementedError


class LoopbackSession(Session):
    """An agent in this process, reached through the same bytes as a sandboxed kernel."""

    def __init__(self, namespace: dict):
        self.agent = Agent(namespace)

    def perform(self, op, args, kwargs, names=(), op_types=()) -> Result:
        request = encode_request(op, args, kwargs, names, op_types)
        return decode_result(self, self.agent.handle(request))

    def globals(self, names: Iterable[str]) -> dict:
        """A `Ref` for each of these notebook globals."""
        return {name: Ref(self, name=name) for name in names}


# --- the kernel's side ---------------------------------------------------------------------------


class _Lookup(Pending):
    def __init__(self, agent, spec):
        self.agent, self.spec = agent, spec

    def resolve(self):
        spec = self.spec
        if spec.get("global") is not None:
            name = str(spec["global"])
            if name not in self.agent.namespace:
                raise NameError(f"name {name!r} is not defined")
            target = self.agent.namespace[name]
        else:
            target = self.agent.objects[int(spec["id"])]
        for attribute in spec.get("path", []):
            target = getattr(target, str(attribute))
        return target


def _keras_from_config(body):
    import keras

    return keras.saving.deserialize_keras_object(json.loads(body))


class Agent:
    """Serves operations on the objects of `namespace` (the notebook's globals) and on the
    objects operations made, which it keeps until `reset`."""

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.objects: dict[int, object] = {}
        self._next = 1

    def reset(self) -> None:
        self.objects.clear()

    def handle(self, data: bytes, catch_interrupt: bool = False) -> bytes:
        """Answer one encoded request."""
        request = decode(
            data,
            ref_decoder=lambda spec: _Lookup(self, spec),
            tag_decoders={"$k": _keras_from_config},
        )
        result = execute(
            request["op"],
            request["args"],
            request["kwargs"],
            request.get("names", ()),
            request.get("op_types", ()),
            catch_interrupt=catch_interrupt,
        )
        return self.encode(result)

    def encode(self, result: Result) -> bytes:
        answer = {"forbidden": result.forbidden, "value": None}
        if result.error is not None:
            e = result.error
            answer["error"] = [e.type, e.message, e.stub, e.where, e.called_from]
        elif result.is_object:
            ident = self._next
            self._next += 1
            self.objects[ident] = result.value
            answer["value"] = _ObjectRef(ident, type(result.value).__name__)
            answer["object"] = True
        else:
            answer["value"] = result.value
        try:
            return encode(answer, ref_encoder=_ObjectRef.spec)
        except (TypeError, ValueError) as exc:
            failure = {"forbidden": result.forbidden, "value": None}
            reason = f"the result cannot be sent to the grader: {exc}"
            failure["error"] = ["TypeError", reason, 0, ""]
            return encode(failure)


class _ObjectRef:
    _is_ref = True

    def __init__(self, ident, label):
        self.ident, self.label = ident, label

    def spec(self) -> dict:
        return {"id": self.ident, "label": self.label}

"""Run one operation on student code here, under the guard, and report what happened as data.

This is the same in the student's own kernel (a check calls it directly) and in the grading
sandbox (the agent calls it for a request from the grader): the result is plain data or an
object that stays here, the student's exception is described rather than raised, and the
forbidden functions entered are listed.
"""

from dataclasses import dataclass, field

from ..guard import forbid
from . import ops
from .guarding import ACTIVE
from .student_errors import StudentError, describe
from .values import NotData, to_plain


@dataclass
class Result:
    """What an operation gave.

    `value` is plain data, or (when `is_object`) an object that stays where it was made;
    `integrity` lists what the grading sandbox saw the code do that it should not (always
    empty in the student's own kernel).
    """

    value: object = None
    is_object: bool = False
    error: StudentError | None = None
    forbidden: list[str] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)


class Pending:
    """An argument to resolve just before the operation runs, under the guard (attribute
    lookups on student objects run student code)."""

    def resolve(self):
        raise NotImplementedError


def _resolve(value):
    if isinstance(value, Pending):
        return value.resolve()
    if type(value) in (list, tuple):
        return type(value)(_resolve(v) for v in value)
    if type(value) is dict:
        return {k: _resolve(v) for k, v in value.items()}
    return value


def execute(op: str, args, kwargs, names=(), op_types=(), catch_interrupt=False) -> Result:
    """Run `ops.OPERATIONS[op](*args, **kwargs)` guarded against `names` and `op_types`."""
    operation = ops.OPERATIONS[op]
    result = Result()
    caught = (Exception, KeyboardInterrupt) if catch_interrupt else Exception
    with forbid(names, op_types) as hits:
        token = ACTIVE.set((tuple(names), tuple(op_types), hits))
        try:
            raw = operation(*_resolve(list(args)), **_resolve(dict(kwargs)))
            try:
                result.value = to_plain(raw)
            except NotData:
                result.value, result.is_object = raw, True
        except caught as exc:
            result.error = describe(exc)
        finally:
            ACTIVE.reset(token)
    result.forbidden = list(hits)
    return result

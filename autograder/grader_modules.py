"""Which of the grader's modules no operation runs in the student's kernel, and how the guard
knows their code when graded code enters it.

A notebook imports its lesson's `checks`, so the checks' cases, catalogues and NumPy answers
(`checks.catalogue`, `autograder.oracles`) are objects in the student's kernel, in the grading
sandbox too. No operation of a check calls them there: the grader calls them on its side. So
their code entered while an operation runs is graded code asking the grader for its answers,
and the guard counts it as a forbidden call in every lesson (`GRADER_CODE`).

The guard knows that code by the namespace it runs in (a frame's globals are its module's
dictionary, which no code can swap for another), not by a name a student could rebind. It
tells namespaces apart by identity with `object.__hash__`, a bijection of the object's address:
`id()` would do the same, but it is an audited event, and the guard looks at every call.
"""

import sys
from types import MappingProxyType

PACKAGE = "autograder"
# Parts of the package that only the grader's side runs (the checks, their catalogues and
# answers, the nbgrader integration): the kernel imports some of them, but no operation calls
# them.
GRADER_ONLY = (
    "autograder.checks",
    "autograder.grading",
    "autograder.authoring",
    "autograder.references",
    "autograder.oracles",
)
# A lesson's own modules are the grader's too (`autograder.lessons.NN_topic.checks`, its
# cases, catalogue, samples), except its operations (`ops`): they run in the kernel.
LESSONS = PACKAGE + ".lessons."
KERNEL_SIDE = ".ops"
# How feedback names a hit: "the grader's own code (autograder.oracles.correlate)".
GRADER_CODE = "the grader's own code"


def grader_only(name: str) -> bool:
    """Whether the module `name` is one that no operation runs in the student's kernel."""
    if name.startswith(LESSONS):
        return not name.endswith(KERNEL_SIDE)
    return any(name == part or name.startswith(part + ".") for part in GRADER_ONLY)


identity = object.__hash__  # of a dict too, whose own __hash__ is None

# identity of a module's namespace -> (module name, the namespace, kept alive so that no other
# object takes its address), fixed by `fix()` in the grading kernel
_FIXED: MappingProxyType | None = None
_seen: list = [-1, MappingProxyType({})]  # (len(sys.modules) when found, what was found)


def _find() -> MappingProxyType:
    found = {}
    for name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None)
        if type(name) is str and grader_only(name) and type(namespace) is dict:
            found[identity(namespace)] = (name, namespace)
    return MappingProxyType(found)


def namespaces() -> MappingProxyType:
    """The namespaces of the grader-only modules imported here: as `fix()` found them, or (in
    the student's own kernel) as they are now."""
    if _FIXED is not None:
        return _FIXED
    if _seen[0] != len(sys.modules):
        _seen[:] = [len(sys.modules), _find()]
    return _seen[1]


def fix() -> None:
    """Fix the grader-only modules as imported now (the grading kernel, before any student
    code runs): removing one from `sys.modules` later hides nothing."""
    global _FIXED
    _FIXED = _find()

"""Wrong versions of the reference code, one per catalogued mistake.

They make the demo's mistake submissions and let the tests prove that each mistake in
`autograder.mistakes` is caught and named. A wrong version replaces top-level objects of the
lesson notebook ("cross_correlate2d") or single methods of a class ("Conv2D.call").
"""

import importlib
import linecache
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WrongVersion:
    """A submission that makes one catalogued mistake.

    Attributes:
        mistake: id of the mistake in `autograder.mistakes.<lesson>`.
        replacements: notebook object ("name" or "Class.method") -> "module:object" holding the
            wrong code.
        breaks: grade ids of the test cells this mistake fails; every other cell passes.
        variant: tells apart two wrong versions of one mistake in the same objects.
    """

    mistake: str
    replacements: dict[str, str] = field(default_factory=dict)
    breaks: tuple[str, ...] = ()
    variant: str = ""

    @property
    def name(self) -> str:
        """A short, unique label, e.g. "flipped_kernel-Conv2D.call" ("...-<variant>" if any)."""
        name = f"{self.mistake}-{'+'.join(sorted(self.replacements))}"
        return f"{name}-{self.variant}" if self.variant else name


def wrong_versions(assignment: str) -> tuple[WrongVersion, ...]:
    """All wrong versions of lesson "NN_topic", from `solutions.mistakes.topic` (may be none)."""
    topic = assignment.partition("_")[2]
    try:
        module = importlib.import_module(f"solutions.mistakes.{topic}")
    except ModuleNotFoundError:
        return ()
    return module.WRONG_VERSIONS


def load(ref: str):
    """The object named by "module:name"."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def materialize(version: WrongVersion, reference_module: str) -> dict:
    """Run the reference module's code with the wrong code swapped in; return its namespace.

    Objects keep referring to each other by global name, as in the notebook: a wrong `im2col`
    is the one the reference `Conv2D` then calls.
    """
    from autograder.authoring.sources import module_path, object_source, replace_definition

    source = module_path(reference_module).read_text()
    for target, ref in version.replacements.items():
        source = replace_definition(source, target, object_source(ref))
    filename = f"<{version.name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace = {"__name__": f"{reference_module}__{version.mistake}"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace

"""Read a submission's own code, before it runs, for what graded code may not contain.

Every obfuscation of a cheat goes through a few doors: dynamic imports and code (`__import__`,
`importlib`, `exec`), the interpreter's internals (`sys.modules`, frames, `gc`, dunder
attributes such as `__globals__`), threads and processes, the grader's own modules, and
TensorFlow's or SciPy's raw entry points. Honest lesson code needs none of them. This scan finds
them in the cells a student wrote or changed (cells identical to the released ones are the
course's own), without running anything; the grader withholds the points of a notebook with
findings until the instructor has reviewed it.
"""

import ast
from dataclasses import dataclass

DENIED_MODULES = frozenset(
    """ctypes _ctypes cffi gc _thread threading multiprocessing concurrent subprocess signal
    importlib imp pkgutil runpy zipimport builtins inspect code codeop pickle _pickle marshal
    dill cloudpickle shelve pydoc socket ssl http urllib requests sqlite3 pty faulthandler
    tracemalloc autograder solutions IPython ipykernel jupyter_client zmq traitlets nbgrader
    asyncio selectors mmap resource sysconfig site""".split()
)
DENIED_ATTRIBUTES = {
    "sys": frozenset(
        """setprofile settrace _getframe modules meta_path path_hooks path_importer_cache
        addaudithook audit _current_frames path getrefcount settrace_all_threads
        setprofile_all_threads""".split()
    ),
    "os": frozenset(
        """system popen fork forkpty kill killpg execv execve execl execle execlp execlpe execvp
        execvpe spawnl spawnle spawnlp spawnlpe spawnv spawnve spawnvp spawnvpe posix_spawn
        posix_spawnp dup dup2 close closerange open write _exit setuid setgid chroot""".split()
    ),
    "tf": frozenset({"raw_ops", "py_function", "numpy_function", "load_op_library"}),
    "tensorflow": frozenset({"raw_ops", "py_function", "numpy_function", "load_op_library"}),
    "types": frozenset({"FunctionType", "CodeType", "ModuleType", "LambdaType", "MethodType"}),
}
DENIED_CALLS = frozenset(
    "exec eval compile __import__ globals locals vars breakpoint get_ipython delattr".split()
)
DENIED_DUNDERS = frozenset(
    """__code__ __globals__ __closure__ __builtins__ __subclasses__ __dict__ __mro__ __bases__
    __base__ __getattribute__ __reduce__ __reduce_ex__ __import__ __loader__ __spec__ __self__
    __func__ __wrapped__ __defaults__ __kwdefaults__ __traceback__ __subclasshook__
    __init_subclass__ __set_name__ __class_getitem__""".split()
)
FRAME_ATTRIBUTES = frozenset(
    """f_back f_locals f_globals f_builtins f_code f_trace tb_frame tb_next gi_frame gi_code
    cr_frame ag_frame co_code co_consts co_names""".split()
)
RAW_TENSORFLOW = frozenset({"pywrap_tfe", "_pywrap_tfe", "gen_nn_ops", "gen_array_ops", "execute"})
# IPython magics that only time or configure plots; their argument is scanned as code.
HARMLESS_MAGICS = frozenset({"matplotlib", "time", "timeit", "precision"})
RESERVED = frozenset({"checks"})


@dataclass(frozen=True)
class Finding:
    """One construct a graded notebook may not contain, and where it is."""

    cell: int
    line: int
    what: str

    def __str__(self) -> str:
        return f"cell {self.cell}, line {self.line}: {self.what}"


def python_source(source: str) -> tuple[str, list[tuple[int, str]]]:
    """The cell as plain Python, and the magics and shell commands it held ((line, name))."""
    lines, magics = [], []
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.lstrip()
        if stripped.startswith(("!", "%")):
            name = stripped.lstrip("!%").split(maxsplit=1)
            if stripped.startswith("!"):
                magics.append((number, "!"))
            elif name and name[0] in HARMLESS_MAGICS:
                rest = name[1] if len(name) > 1 else ""
                if name[0] in ("time", "timeit") and rest:
                    lines.append(line[: len(line) - len(stripped)] + rest)
                    continue
            else:
                magics.append((number, name[0] if name else "%"))
            lines.append("")
            continue
        lines.append(line)
    return "\n".join(lines), magics


class _Scanner(ast.NodeVisitor):
    def __init__(self, modules: set[str]):
        self.modules = modules  # names bound to imported modules
        self.found: list[tuple[int, str]] = []

    def flag(self, node, what):
        self.found.append((getattr(node, "lineno", 0), what))

    def _module(self, name: str, node) -> None:
        root = name.split(".")[0]
        parts = name.split(".")
        if root in DENIED_MODULES:
            self.flag(node, f"imports {name}")
        elif any(p.startswith("_") and not p.startswith("__") for p in parts):
            self.flag(node, f"imports the private module {name}")
        elif root in ("tensorflow", "tf") and "python" in parts:
            self.flag(node, f"imports TensorFlow's internals ({name})")
        elif set(parts) & RAW_TENSORFLOW and root in ("tensorflow", "keras"):
            self.flag(node, f"imports TensorFlow's raw op interface ({name})")

    def visit_Import(self, node):
        for alias in node.names:
            self._module(alias.name, node)
            self.modules.add((alias.asname or alias.name).split(".")[0])
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        module = node.module or ""
        if node.level:
            self.flag(node, "uses a relative import")
        self._module(module, node)
        for alias in node.names:
            full = f"{module}.{alias.name}"
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                self.flag(node, f"imports the private name {full}")
            elif alias.name in DENIED_ATTRIBUTES.get(module.split(".")[-1], ()):
                self.flag(node, f"imports {full}")
            elif alias.name in RAW_TENSORFLOW and module.split(".")[0] in ("tensorflow", "keras"):
                self.flag(node, f"imports TensorFlow's raw op interface ({full})")
            elif alias.name in DENIED_CALLS or alias.name in DENIED_DUNDERS:
                self.flag(node, f"imports {full}")
            self.modules.add(alias.asname or alias.name)
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in DENIED_CALLS or node.id in DENIED_DUNDERS:
            self.flag(node, f"uses {node.id}")
        elif node.id in RESERVED:
            self.flag(node, f"uses `{node.id}`, the grader's module, outside the test cells")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        attr = node.attr
        base = node.value
        if attr in DENIED_DUNDERS:
            self.flag(node, f"reaches into Python's internals (.{attr})")
        elif attr in FRAME_ATTRIBUTES:
            self.flag(node, f"reaches into the interpreter's frames (.{attr})")
        elif isinstance(base, ast.Name) and base.id in self.modules:
            if attr in DENIED_ATTRIBUTES.get(base.id, ()):
                self.flag(node, f"uses {base.id}.{attr}")
            elif attr.startswith("_") and not attr.startswith("__"):
                self.flag(node, f"reaches the private internals of {base.id} (.{attr})")
            elif attr in RAW_TENSORFLOW and base.id in ("tf", "tensorflow", "keras"):
                self.flag(node, f"uses TensorFlow's raw op interface ({base.id}.{attr})")
        elif attr in RAW_TENSORFLOW - {"execute"} or attr == "raw_ops":
            self.flag(node, f"uses TensorFlow's raw op interface (.{attr})")
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "hasattr"):
            target = node.args[0] if node.args else None
            name = node.args[1] if len(node.args) > 1 else None
            on_self = isinstance(target, ast.Name) and target.id == "self"
            constant = isinstance(name, ast.Constant) and isinstance(name.value, str)
            if constant and (name.value in DENIED_DUNDERS or name.value in FRAME_ATTRIBUTES):
                self.flag(node, f"reaches into Python's internals ({func.id} {name.value!r})")
            elif not on_self and (func.id == "setattr" or not constant):
                self.flag(node, f"uses {func.id} with a computed name on something not its own")
            elif constant and not on_self and name.value.startswith("_"):
                self.flag(node, f"reaches private internals ({func.id} {name.value!r})")
        self.generic_visit(node)


def scan_cell(source: str, cell: int, modules: set[str]) -> list[Finding]:
    """Findings in one cell's source (unparseable cells have none: they fail when run)."""
    code, magics = python_source(source)
    findings = [
        Finding(cell, line, "runs a shell command" if name == "!" else f"uses the magic %{name}")
        for line, name in magics
    ]
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return findings
    scanner = _Scanner(modules)
    scanner.visit(tree)
    return findings + [Finding(cell, line, what) for line, what in scanner.found]


def given_modules(sources) -> set[str]:
    """Names that the course's own cells bind to imported modules (np, keras, ops, ...)."""
    modules: set[str] = set()
    for source in sources:
        code, _ = python_source(source)
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                modules |= {a.asname or a.name for a in node.names}
    return modules - RESERVED


def scan_notebook(nb, release_nb, is_test_cell) -> list[Finding]:
    """Findings in the cells of `nb` that the student wrote or changed (cell numbers from 1).

    Lines that the released notebook has too (the course's own import of its checks, say) are
    not the student's and are not reported.
    """
    release_code = [cell.source for cell in release_nb.cells if cell.cell_type == "code"]
    given = {source.strip() for source in release_code}
    given_lines = {line.strip() for source in release_code for line in source.splitlines()}
    modules = given_modules(release_code)
    findings = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or is_test_cell(cell) or cell.source.strip() in given:
            continue
        lines = python_source(cell.source)[0].splitlines()
        for finding in scan_cell(cell.source, number, set(modules)):
            text = lines[finding.line - 1].strip() if 0 < finding.line <= len(lines) else ""
            if text not in given_lines or not text:
                findings.append(finding)
    return findings

"""An audit hook in the sandboxed kernel that reports what graded code must not do.

Python's audit hooks (PEP 578) cannot be removed once installed: not by rebinding, patching or
restoring anything. The hook writes each report at once to a socket the grader reads, so a
report cannot be taken back; closing or replacing that socket shows on the grader's side.

What counts as the student's code: frames of notebook cells (and of TensorFlow's autograph
conversions of them). A report needs the student's code to be the cause: it called the audited
function itself, or (for processes, threads, sockets and foreign memory) it is the first caller
outside Python's standard library (`threading`, `subprocess` are only the means); a write
outside its folder is reported wherever it comes from. Other libraries at work (TensorFlow
starting threads as it imports, a library probing for IPv6, Keras compiling) are not the
student's and are not reported. The network is gone either way: the sandbox has none.

Reports are JSON lines {"event", "detail", "where"}; the grader's markers of the start and end
of each operation ("cnn_course.begin" / "cnn_course.end" with a nonce) pass through the same
channel, so the grader knows which operation a report belongs to.
"""

import json
import os
import re
import sys
import sysconfig
import threading

STUDENT_FILE = re.compile(r"(/ipykernel_\d+/\d+\.py|__autograph_generated_file[^/]*\.py)$")

# event -> which frame must be the student's: "caller" (the direct caller), "importer" (the
# frame that imports), "origin" (the first caller outside the standard library), "stack"
# (any: for writes and sockets, which the sandbox stops and which are only reported),
# "always" (the profiler: anyone but the guard during an operation)
WATCHED = {
    "sys.setprofile": "always",
    "sys.settrace": "always",
    "sys.addaudithook": "always",
    "sys._getframe": "caller",
    "sys._current_frames": "caller",
    "gc.get_objects": "caller",
    "gc.get_referrers": "caller",
    "gc.get_referents": "caller",
    "object.__getattr__": "caller",
    "object.__setattr__": "caller",
    "object.__delattr__": "caller",
    "compile": "caller",
    "exec": "caller",
    "code.__new__": "caller",
    "function.__new__": "caller",
    "marshal.loads": "caller",
    "import": "import",
    "open": "open",
    "os.system": "origin",
    "os.exec": "origin",
    "os.posix_spawn": "origin",
    "os.spawn": "origin",
    "os.fork": "origin",
    "os.forkpty": "origin",
    "os.kill": "origin",
    "os.killpg": "origin",
    "subprocess.Popen": "origin",
    "socket.connect": "origin",
    "socket.bind": "origin",
    "socket.sendto": "origin",
    "pickle.find_class": "origin",
    "cnn_course.thread": "origin",
}
CTYPES_PREFIX = "ctypes."
# Modules that give graded code powers it must not have (their import by the student's own
# code is reported; Keras and TensorFlow import what they like).
DENIED_IMPORTS = frozenset(
    """ctypes _ctypes cffi gc _thread threading multiprocessing concurrent subprocess signal
    importlib imp pkgutil runpy zipimport builtins inspect code codeop pickle _pickle marshal
    dill cloudpickle shelve pydoc socket ssl http urllib requests autograder solutions
    sqlite3 _posixsubprocess pty faulthandler tracemalloc sys""".split()
)
MARKERS = ("cnn_course.begin", "cnn_course.end")
READY = "cnn_course.ready"  # the kernel is made and no student code has run: record the trusted


STDLIB = (os.path.realpath(sysconfig.get_paths()["stdlib"]) + os.sep, "<frozen ")


def is_student_file(filename: str) -> bool:
    return bool(STUDENT_FILE.search(filename))


def _where(frame) -> str:
    code = frame.f_code
    return f"{os.path.basename(code.co_filename)}:{frame.f_lineno}"


IMPORT_MACHINERY = re.compile(
    r"(<frozen importlib\._bootstrap(_external)?>|/importlib/__init__\.py)$"
)


def _denied(name: str) -> bool:
    parts = name.split(".")
    return parts[0] in DENIED_IMPORTS or any(
        part.startswith("_") and not part.startswith("__") for part in parts
    )


def _module_name(filename: str) -> str:
    """The module a source file is ("shelve" for .../shelve.py, "ctypes" for its __init__)."""
    if not filename.endswith(".py") or filename.startswith("<"):
        return ""
    head, base = os.path.split(filename[:-3])
    return os.path.basename(head) if base == "__init__" else base


def _is_stdlib(frame) -> bool:
    return frame.f_code.co_filename.startswith(STDLIB)


def _is_witness(frame) -> bool:
    return frame.f_code.co_filename == __file__


def _is_import_machinery(frame) -> bool:
    return frame.f_code.co_filename == __file__ or bool(
        IMPORT_MACHINERY.search(frame.f_code.co_filename)
    )


# Where graded code may write: its home (which holds its working folder), files right in
# /tmp, and the folders there that libraries and tempfile make.
WRITABLE_HOME = "/home/student/"
TMP_NAMES = re.compile(
    r"^/tmp(/[^/]+|/(tmp|ipykernel_|matplotlib|ipython|jupyter|keras)[^/]*/.*)?$"
)


def may_write(path: str) -> bool:
    return path.startswith(WRITABLE_HOME) or bool(TMP_NAMES.match(path))


def install(channel, allowed_codes=(), marker_codes=(), ready_codes=()):
    """Install the hook; it writes reports to the socket `channel` (kept in a closure).

    `allowed_codes` are the code objects allowed to call sys.setprofile (the guard's);
    `marker_codes` those allowed to mark the start and end of an operation (the agent's);
    `ready_codes` the one that says the kernel is ready, when the witness records what the
    grader trusts in the kernel (`integrity`) and compares it before every operation.
    """
    from . import integrity

    allowed = frozenset(allowed_codes)
    markers_from = frozenset(marker_codes)
    ready_from = frozenset(ready_codes)
    local = threading.local()
    send = channel.sendall
    getframe = sys._getframe
    take_snapshot = integrity.take
    snapshot = [None]

    def report(event, detail, frame):
        where = _where(frame) if frame else ""
        line = {"event": event, "detail": str(detail)[:300], "where": where}
        try:
            send((json.dumps(line) + "\n").encode())
        except OSError:
            pass  # the grader sees the channel close

    def student_frame(frame, rule):
        """The frame of student code that makes this event the student's, or None."""
        if rule in ("caller", "importer"):
            # the direct caller; for imports, the frame whose import statement (or call) it is
            skip = _is_import_machinery if rule == "importer" else _is_witness
            while frame is not None and skip(frame):
                frame = frame.f_back
            if frame is not None and is_student_file(frame.f_code.co_filename):
                return frame
            return None
        if rule == "stack":  # anywhere on the stack (for what is only reported, never scored)
            while frame is not None and not is_student_file(frame.f_code.co_filename):
                frame = frame.f_back
            return frame
        # "origin": the first frame outside the standard library and this module
        while frame is not None and (_is_witness(frame) or _is_stdlib(frame)):
            frame = frame.f_back
        if frame is not None and is_student_file(frame.f_code.co_filename):
            return frame
        return None

    in_operation = [False]
    looked_at = frozenset([*WATCHED, *MARKERS, READY])

    def hook(event, args):
        # the hook runs for every audited event (id() and frame.f_code are among them): most
        # return on this line
        if event not in looked_at and not event.startswith(CTYPES_PREFIX):
            return
        if event == READY:
            if getattr(local, "busy", False):
                return
            local.busy = True
            try:
                caller = getframe(1)
                if caller.f_code not in ready_from or snapshot[0] is not None:
                    report("forged marker", event, caller)
                    return
                snapshot[0] = take_snapshot(caller.f_locals.get("self"))
            except Exception as exc:  # the record is missing: every operation says so
                report("tamper", f"the record could not be made ({type(exc).__name__})", None)
            finally:
                local.busy = False
            return
        if event in MARKERS:
            if getattr(local, "busy", False):
                return
            local.busy = True
            try:
                caller = getframe(1)
                if caller.f_code not in markers_from:
                    report("forged marker", event, caller)
                    return
                in_operation[0] = event == MARKERS[0]
                send((json.dumps({"event": event, "detail": str(args[0])}) + "\n").encode())
                if event == MARKERS[0] and ready_from:
                    if snapshot[0] is None:
                        report("tamper", "its record of the grader's code is missing", None)
                    else:
                        for problem in snapshot[0].verify():
                            report("tamper", problem, None)
            finally:
                local.busy = False
            return
        rule = WATCHED.get(event)
        if getattr(local, "busy", False):
            return
        local.busy = True
        try:
            caller = getframe(1)
            if rule == "always":
                # during an operation nothing but the guard may touch the profiler; outside
                # them, only the student's own code is reported (the debugger traces at start)
                frame = student_frame(caller, "origin")
                if caller.f_code not in allowed and (in_operation[0] or frame is not None):
                    report(event, "", frame or caller)
            elif rule == "import":
                name = str(args[0])
                if _denied(name):
                    frame = student_frame(caller, "importer")
                    if frame is not None:
                        report(event, name, frame)
            elif rule == "open":
                path, mode, flags = (list(args) + [None, None, None])[:3]
                writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR)
                )
                if writing and isinstance(path, str | bytes):
                    real = os.path.realpath(os.fsdecode(path))
                    if not may_write(real):
                        frame = student_frame(caller, "stack")
                        if frame is not None:
                            report("write", real, frame)
            elif event.startswith("socket."):
                address = args[1] if len(args) > 1 else None
                # local (Unix domain) sockets are the sandbox's own; the network is not
                if not isinstance(address, str | bytes):
                    frame = student_frame(caller, rule)
                    if frame is not None:
                        report(event, repr(address), frame)
            else:
                frame = student_frame(caller, rule or "origin")
                if frame is not None:
                    detail = args[0] if args and isinstance(args[0], str) else ""
                    report(event, detail, frame)
                elif event == "exec":
                    # importlib.import_module loads modules without the "import" event; the
                    # module's code is then executed on behalf of the student's frame
                    name = _module_name(getattr(args[0], "co_filename", "")) if args else ""
                    if _denied(name):
                        frame = student_frame(caller, "importer")
                        if frame is not None:
                            report("import", name, frame)
        except Exception:  # a report must never break the student's code
            pass
        finally:
            local.busy = False

    sys.addaudithook(hook)
    _watch_threads()


def _watch_threads() -> None:
    """Report every thread the student's code starts (threads escape the guard's profiler)."""
    import _thread

    original = _thread.start_new_thread

    def start_new_thread(function, args, kwargs=None):
        sys.audit("cnn_course.thread", getattr(function, "__qualname__", "thread"))
        if kwargs is None:
            return original(function, args)
        return original(function, args, kwargs)

    _thread.start_new_thread = start_new_thread
    threading._start_new_thread = start_new_thread


def student_threads() -> list[str]:
    """Threads other than this one that are running the student's code right now."""
    found = []
    current = threading.get_ident()
    for ident, frame in sys._current_frames().items():
        if ident == current:
            continue
        while frame is not None:
            if is_student_file(frame.f_code.co_filename):
                found.append(_where(frame))
                break
            frame = frame.f_back
    return found

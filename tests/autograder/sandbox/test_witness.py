"""The witness reports what the student's code does, not what libraries do on its behalf.

Audit hooks cannot be removed, so each case runs in a child interpreter: the witness is
installed, code is compiled under a notebook cell's file name, and the reports are read.
"""

import json
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import json, socket, sys
    a, b = socket.socketpair()
    from autograder.sandbox import witness
    witness.install(a, (), ())
    code = sys.stdin.read()
    try:
        exec(compile(code, "/tmp/ipykernel_7/1234.py", "exec"), {"__name__": "__main__"})
    except BaseException as exc:
        print("raised", type(exc).__name__, file=sys.stderr)
    b.setblocking(False)
    data = b""
    try:
        while True:
            data += b.recv(65536)
    except BlockingIOError:
        pass
    print(json.dumps([json.loads(line) for line in data.decode().splitlines()]))
    """
)


def reports(code: str) -> list[dict]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=textwrap.dedent(code),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def events(code: str) -> list[str]:
    return [report["event"] for report in reports(code)]


@pytest.mark.parametrize(
    ("code", "event"),
    [
        ("import sys\nsys.setprofile(None)", "sys.setprofile"),
        ("import sys\nsys.settrace(None)", "sys.settrace"),
        ("import gc\ngc.get_objects()", "gc.get_objects"),
        ("import sys\nsys._getframe()", "sys._getframe"),
        ("exec('x = 1')", "exec"),
        ("compile('1', 'x', 'eval')", "compile"),
        ("import threading\nthreading.Thread(target=print).start()", "cnn_course.thread"),
        ("import ctypes", "import"),
        ("import importlib\nimportlib.import_module('shelve')", "import"),
        ("open('/etc/owned', 'w')", "write"),
        ("import os\nos.kill(os.getpid(), 0)", "os.kill"),
        ("import subprocess\nsubprocess.run(['true'])", "subprocess.Popen"),
        ("def f(): pass\nf.__code__ = (lambda: 1).__code__", "object.__setattr__"),
        # the guard's one blind spot (a watched function rebuilt with other globals) starts here
        ("import json\ncode = json.dumps.__code__", "object.__getattr__"),
        ("import types, json\ntypes.FunctionType(json.dumps.__code__, {})", "function.__new__"),
        ("import sys\nsys.audit('cnn_course.end', '1')", "forged marker"),
    ],
)
def test_the_students_own_doing_is_reported(code, event):
    assert event in events(code)


def test_where_names_the_cell_and_line():
    (report,) = [r for r in reports("x = 1\nimport sys\nsys.setprofile(None)") if r["event"]]
    assert report["where"] == "1234.py:3"


def test_libraries_at_work_are_not_the_students():
    quiet = """
    import json, dataclasses, collections, typing, tempfile
    from dataclasses import dataclass

    @dataclass
    class Point:
        x: int

    Pair = collections.namedtuple("Pair", "a b")
    with tempfile.NamedTemporaryFile("w") as handle:
        handle.write("scratch")
    open("/home/student/work/notes.txt", "w") if False else None
    json.dumps({"a": 1})
    """
    assert reports(quiet) == []


def test_only_the_guard_may_touch_the_profiler_but_debuggers_at_start_are_not_students():
    # sys.settrace called by library code (not a cell) outside an operation is not reported
    assert events("import threading\nthreading.settrace(None)") == []

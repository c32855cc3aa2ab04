"""A sandboxed kernel, started as `cnn-course grade` starts it: what its code can and cannot
reach, and operations served across the boundary."""

import asyncio
import os
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from jupyter_client import BlockingKernelClient

from autograder.feedback import CheckFailed
from autograder.guard import ForbiddenOps
from autograder.sandbox.manager import SandboxKernelManager
from autograder.sandbox.policy import Limits, is_root, unavailable_reason
from autograder.sandbox.session import KernelSession
from autograder.student import run

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason="needs bubblewrap")
NOTHING = ForbiddenOps("nothing", (), "")
REPO = Path(__file__).resolve().parents[3]


@contextmanager
def started_kernel(folder: Path):
    """A sandboxed kernel as `cnn-course grade` starts it, and a function that runs code in it
    and gives (stdout, errors)."""
    secret = folder / "gradebook.db"
    secret.write_text("grades")
    manager = SandboxKernelManager(limits=Limits(memory_mb=1024, processes=64, tmp_mb=64))
    manager.notebook_bytes = b'{"cells": []}'
    manager.notebook_name = "lesson.ipynb"
    asyncio.run(manager.start_kernel())
    client = BlockingKernelClient()
    client.load_connection_info(manager.get_connection_info())
    client.start_channels(hb=False)
    client.wait_for_ready(timeout=60)

    def execute(code: str) -> tuple[str, str]:
        msg_id = client.execute(code)
        out, err = [], []
        while True:
            msg = client.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                err.append(f"{content['ename']}: {content['evalue']}")
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out), "\n".join(err)

    try:
        yield manager, execute, secret
    finally:
        client.stop_channels()
        asyncio.run(manager.shutdown_kernel(now=True))
        asyncio.run(manager.cleanup_resources())


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    with started_kernel(tmp_path_factory.mktemp("course")) as started:
        yield started


def test_it_runs_as_an_unprivileged_user_in_its_own_folder(kernel):
    _, execute, _ = kernel
    out, err = execute("import os\nprint(os.getuid(), os.getcwd(), sorted(os.listdir('.')))")
    uid, cwd, listing = out.split(" ", 2)
    assert not err and int(uid) != 0 and cwd == "/home/student/work"
    assert "lesson.ipynb" in listing
    if is_root():
        out, _ = execute("print(open('/proc/self/status').read())")
        assert "CapEff:\t0000000000000000" in out and "NoNewPrivs:\t1" in out


def test_the_course_solutions_and_references_are_out_of_sight(kernel):
    _, execute, secret = kernel
    checks = [
        f"os.path.exists({str(secret)!r})",
        f"os.path.exists({str(REPO / 'solutions')!r})",
        f"os.path.exists({str(REPO / 'notebooks')!r})",
        "bool(__import__('importlib.util').util.find_spec('solutions'))",
        f"bool(os.listdir({str(REPO / 'autograder' / 'references' / 'stored')!r}))",
    ]
    out, err = execute("import os\nprint([" + ", ".join(checks) + "])")
    assert not err and out.strip() == str([False] * len(checks))


def test_installed_software_is_read_only_and_the_network_is_gone(kernel):
    _, execute, _ = kernel
    import autograder

    target = Path(autograder.__file__)
    _, err = execute(f"open({str(target)!r}, 'a')")
    assert err.startswith(("OSError", "PermissionError")), err
    _, err = execute("import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=2)")
    assert err.startswith(("ConnectionRefusedError", "OSError")), err
    out, _ = execute("import os\nprint(sorted(p for p in os.listdir('/proc') if p.isdigit()))")
    assert len(eval(out)) <= 3  # its own processes only


def test_memory_beyond_the_cap_kills_only_the_kernel():
    manager = SandboxKernelManager(limits=Limits(memory_mb=512))
    manager.notebook_bytes = b"{}"
    asyncio.run(manager.start_kernel())
    client = BlockingKernelClient()
    client.load_connection_info(manager.get_connection_info())
    client.start_channels(hb=False)
    client.wait_for_ready(timeout=60)
    client.execute("hog = bytearray(2 * 2**30)")
    deadline = time.monotonic() + 60
    while manager.provisioner.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert manager.provisioner.process.poll() is not None
    if manager.confinement.kind != "rlimits":
        assert "memory limit of 512 MB" in manager.why_died()
    client.stop_channels()
    asyncio.run(manager.cleanup_resources())
    assert not os.path.exists(manager.folder)


def test_operations_cross_the_boundary_as_data(kernel):
    manager, execute, _ = kernel
    execute("def add(a, b):\n    return a + b\ndef stub():\n    raise NotImplementedError()")
    session = KernelSession(manager, lambda: time.monotonic() + 30)
    try:
        assert run("add", session.ref("add"), np.arange(3), 1, forbidden=NOTHING).tolist() == [
            1,
            2,
            3,
        ]
        with pytest.raises(CheckFailed, match="stub is not implemented yet"):
            run("stub", session.ref("stub"), forbidden=NOTHING)
        execute("def sneaky():\n    import sys\n    sys.setprofile(None)\n    return 1")
        with pytest.raises(CheckFailed, match=r"the grader saw it remove or replace"):
            run("sneaky", session.ref("sneaky"), forbidden=NOTHING)
    finally:
        session.close()


def test_no_folder_it_can_write_grows_past_its_cap(kernel):
    """The grader's folder (connection file, sockets) is read-only or a tiny tmpfs inside the
    sandbox: 100 MB written anywhere the kernel may write ends in ENOSPC/EROFS/EACCES, and
    nothing of it reaches the host."""
    manager, execute, _ = kernel
    before = sorted(os.listdir(manager.folder))
    code = f"""
import errno, os
found = []
for root, dirs, _ in os.walk("/"):
    if root.startswith(("/proc", "/sys", "/dev")):
        dirs[:] = []
    elif os.access(root, os.W_OK):
        found.append(root)
found += [{manager.folder!r}, {manager.sandbox_ip!r}.rsplit("/", 1)[0]]
for folder in found:
    try:
        with open(os.path.join(folder, "fill.bin"), "wb") as handle:
            for _ in range(100):
                handle.write(b"x" * 2**20)
        print(folder, "wrote 100 MB")
    except OSError as exc:
        print(folder, errno.errorcode[exc.errno])
    finally:
        try:
            os.unlink(os.path.join(folder, "fill.bin"))
        except OSError:
            pass
"""
    out, err = execute(code)
    results = dict(line.rsplit(" ", 1) for line in out.splitlines())
    assert not err and manager.folder in results, (out, err)
    assert all(r in ("ENOSPC", "EROFS", "EACCES") for r in results.values()), results
    assert results[manager.folder] in ("EROFS", "EACCES")
    assert sorted(os.listdir(manager.folder)) == before


CONVOLUTION = ForbiddenOps(
    "a built-in convolution", ("tensorflow.nn.conv2d", "scipy.signal.correlate2d"), ""
)


@pytest.mark.parametrize(
    ("attack", "seen"),
    [
        # the guard's own function, rebound in the module that calls it
        (
            "import sys as s, contextlib\n"
            "m = s.modules['autograder.harness.execution']\n"
            "m.forbid = lambda *a, **k: contextlib.nullcontext([])",
            "autograder.harness.execution.forbid was replaced",
        ),
        # an agent of its own that ignores the forbidden list
        (
            "k = get_ipython().kernel\n"
            "class Lax(type(k._agent)):\n"
            "    def handle(self, data, catch_interrupt=False):\n"
            "        return super().handle(data.replace(b'scipy', b'nothing'), catch_interrupt)\n"
            "k._agent = Lax(k._agent.namespace)",
            "the kernel.agent was replaced",
        ),
        # the name TensorFlow executes ops by, routed around the guard
        (
            "from tensorflow.python.eager import execute as e\n"
            "e.execute = lambda *a, **k: e.quick_execute(*a, **k)",
            "tensorflow.python.eager.execute.execute, which the guard watches, was replaced",
        ),
        # the guard's cached list of what it watches, emptied
        (
            "import sys as s\n"
            "for w in s.modules['autograder.guard']._WATCHLISTS.values(): w.codes.clear()",
            ".codes.<code object",
        ),
    ],
)
def test_changes_to_what_the_grader_trusts_in_the_kernel_fail_the_check(tmp_path, attack, seen):
    with started_kernel(tmp_path) as (manager, execute, _):
        _attack_then_check(manager, execute, attack, seen)


def _attack_then_check(manager, execute, attack, seen):
    session = KernelSession(manager, lambda: time.monotonic() + 60)
    try:
        out, err = execute("import scipy.signal\n" + attack)
        assert not err, err
        execute("def cc(x, k):\n    return scipy.signal.correlate2d(x, k, mode='valid')")
        with pytest.raises(CheckFailed) as failed:
            run("cc", session.ref("cc"), np.ones((3, 3)), np.ones((2, 2)), forbidden=CONVOLUTION)
        assert seen in str(failed.value)
    finally:
        session.close()


def test_a_convolution_traced_in_an_earlier_cell_is_caught_in_the_check(kernel):
    manager, execute, _ = kernel
    execute(
        "import tensorflow as tf\n"
        "conv = tf.function(lambda x, k: tf.nn.conv2d(x, k, 1, 'VALID'))\n"
        "conv(tf.ones((1, 4, 4, 1)), tf.ones((2, 2, 1, 1)))\n"
        "def layer(x):\n    return conv(x, tf.ones((2, 2, 1, 1))).numpy()"
    )
    session = KernelSession(manager, lambda: time.monotonic() + 60)
    try:
        with pytest.raises(CheckFailed, match=r"tensorflow.nn.conv2d \(in a traced tf.function\)"):
            run(
                "layer",
                session.ref("layer"),
                np.ones((1, 4, 4, 1), "float32"),
                forbidden=CONVOLUTION,
            )
    finally:
        session.close()

"""A Jupyter kernel manager whose kernels run in the grading sandbox.

It is `jupyter_client`'s own manager with three changes: the kernel's sockets are Unix domain
sockets in a private folder (the sandbox has no network, not even the host's loopback), the
command that starts the kernel is the sandbox launcher (`launch`) around bubblewrap, and a
witness socket in the same folder receives the kernel's audit reports (`WitnessReader`).

The folder is read-only inside the sandbox; the kernel makes its sockets in `s/`, a tmpfs of
1 MB that exists only in the sandbox's mount namespace, and the grader connects to them through
`/proc/<sandbox pid>/root/...` (bubblewrap says the pid). A kernel therefore cannot write a
byte to the host's disk.
"""

import asyncio
import base64
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import Any, Bool, Bytes, Dict, Instance, Unicode

from . import view as views
from .limits import Confinement
from .policy import Limits, bubblewrap, is_root, namespace_flags

INFO = "info.json"  # where bubblewrap writes the sandbox's pid
MAX_LINE = 65536  # bytes of one witness report
MAX_EVENTS = 20000  # reports kept per kernel
UID_BASE = 61000
UID_RANGE = 20000
# Environment of the kernel: nothing of the grader's, except what these names say.
PASSED_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "LANG",
)


def sandbox_uid() -> int:
    """An unprivileged uid of this sandbox's own (root only; distinct for concurrent ones)."""
    return UID_BASE + (os.getpid() * 7919 + int(time.monotonic_ns() // 1000)) % UID_RANGE


class WitnessReader:
    """Reads the kernel's audit reports from the witness socket into a list, in a thread."""

    def __init__(self, path: str, uid: int | None):
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        os.chmod(path, 0o600)
        if uid is not None:
            os.chown(path, uid, uid)
        self.listener.listen(1)
        self.events: list[dict] = []
        self.flooded = False
        self.connected = threading.Event()
        self.closed = threading.Event()
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._read, name="witness", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        self.listener.settimeout(600)
        try:
            connection, _ = self.listener.accept()
        except OSError:
            self.closed.set()
            return
        finally:
            self.listener.close()
            try:
                os.unlink(self.path)
            except OSError:
                pass
        self.connected.set()
        buffer = b""
        with connection:
            while True:
                try:
                    chunk = connection.recv(65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                if len(buffer) > MAX_LINE:  # no report is this long: garbage, dropped
                    lines, buffer = [*lines, buffer[:200]], b""
                with self.changed:
                    room = MAX_EVENTS - len(self.events)
                    self.events += [_parse(line) for line in lines[: max(room, 0)]]
                    if room < len(lines) and not self.flooded:
                        self.flooded = True
                        self.events.append({"event": "garbage", "detail": "flooded", "where": ""})
                    self.changed.notify_all()
        with self.changed:
            self.closed.set()
            self.changed.notify_all()

    def wait_for(self, event: str, detail: str, timeout: float) -> int | None:
        """The index of the report (event, detail), waiting up to `timeout` s; None if it
        did not come."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for index, item in enumerate(self.events):
                    if item.get("event") == event and item.get("detail") == detail:
                        return index
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed.is_set():
                    return None
                self.changed.wait(remaining)

    def since(self, start: int, stop: int | None = None) -> list[dict]:
        with self.changed:
            return list(self.events[start:stop])

    def count(self) -> int:
        with self.changed:
            return len(self.events)

    def close(self) -> None:
        try:
            self.listener.close()
        except OSError:
            pass


def _parse(line: bytes) -> dict:
    try:
        item = json.loads(line)
        if isinstance(item, dict):
            return {k: str(v)[:300] for k, v in item.items()}
    except ValueError:
        pass
    return {"event": "garbage", "detail": line[:120].decode("utf-8", "replace"), "where": ""}


class SandboxKernelManager(AsyncKernelManager):
    """Starts the kernel of one submission in the sandbox (see the module docstring)."""

    limits = Instance(Limits, kw={})
    notebook_bytes = Bytes(b"")
    notebook_name = Unicode("notebook.ipynb")
    folder = Unicode("")
    uid = Any(None)
    witness = Any(None)
    confinement = Any(None)
    sandbox_env = Dict({})
    isolate = Bool(True, help="False: run the kernel unconfined, with the grader's rights")
    preload = Any((), help="modules the kernel imports before the student's code runs")
    extra_paths = Any((), help="more read-only folders of modules, put on the kernel's PYTHONPATH")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.folder = tempfile.mkdtemp(prefix="cnnsb-", dir="/tmp")
        self.uid = sandbox_uid() if is_root() else None
        if self.uid is not None:
            os.chown(self.folder, self.uid, self.uid)
        os.chmod(self.folder, 0o700)
        self.transport = "ipc"
        os.mkdir(os.path.join(self.folder, views.SOCKETS), 0o700)
        self.sandbox_ip = os.path.join(self.folder, views.SOCKETS, "k")
        self.ip = self.sandbox_ip
        self.connection_file = os.path.join(self.folder, "kernel.json")
        self._kernel_spec = KernelSpec(
            argv=["sandbox"],
            display_name="Python 3 (grading sandbox)",
            language="python",
            interrupt_mode="message",
        )

    @property
    def kernel_spec(self):
        return self._kernel_spec

    @property
    def ipykernel(self) -> bool:
        return True

    async def _async_pre_start_kernel(self, **kw):
        self.ip = self.sandbox_ip  # the kernel's own path (again, on a restart)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw) -> None:
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if self.isolate:
            pid = await self._sandbox_pid()
            self.ip = f"/proc/{pid}/root{self.sandbox_ip}" if pid else self.sandbox_ip

    async def _sandbox_pid(self, timeout: float = 60.0) -> int | None:
        """The pid of the sandbox's first process, from bubblewrap's --info-fd file (None when
        the launcher died first: the kernel then never answers, and is reported dead)."""
        path = os.path.join(self.folder, INFO)
        deadline = time.monotonic() + timeout
        process = getattr(self.provisioner, "process", None)
        while time.monotonic() < deadline:
            try:
                with open(path) as handle:
                    return int(json.load(handle)["child-pid"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
            if process is not None and process.poll() is not None:
                return None
            await asyncio.sleep(0.02)
        return None

    def write_connection_file(self, **kwargs) -> None:
        super().write_connection_file(**kwargs)
        if self.uid is not None:
            os.chown(self.connection_file, self.uid, self.uid)

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        uid = self.uid if self.isolate else None
        self.witness = WitnessReader(os.path.join(self.folder, "w"), uid)
        kernel = [
            sys.executable,
            "-m",
            "autograder.sandbox.kernel",
            "-f",
            self.connection_file,
            "--witness",
            self.witness.path,
            *(f"--path={os.path.realpath(folder)}" for folder in self.extra_paths),
            *(f"--preload={module}" for module in self.preload),
            *(extra_arguments or []),
        ]
        if not self.isolate:
            return kernel
        name = os.path.basename(self.folder)
        self.confinement = Confinement(self.limits, name)
        self.confinement.prepare()
        uid = self.uid if self.uid is not None else 65534
        view = views.build(
            self.folder,
            self.notebook_bytes,
            self.notebook_name,
            uid,
            uid,
            self.limits.tmp_mb * 2**20,
        )
        for folder in self.extra_paths:
            view.ro_bind(os.path.realpath(folder))
        if self.uid is not None:
            setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
            drop = ["--reuid", str(self.uid), "--regid", str(self.uid), "--clear-groups"]
            kernel = [setpriv, *drop, "--inh-caps=-all", "--", *kernel]
        config = {
            "bwrap": [bubblewrap(), *namespace_flags(), *view.args, *self._env_args()],
            "data": {k: base64.b64encode(v).decode("ascii") for k, v in view.data.items()},
            "confinement": self.confinement.launch_config(),
            "command": kernel,
            "info": os.path.join(self.folder, INFO),
        }
        path = os.path.join(self.folder, "launch.json")
        with open(path, "w") as handle:
            json.dump(config, handle)
        return [sys.executable, "-m", "autograder.sandbox.launch", path]

    def _env_args(self) -> list[str]:
        env = {
            "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
            "HOME": views.HOME,
            "CNN_COURSE_WORK": views.WORK,
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLCONFIGDIR": "/tmp/matplotlib",
            "KERAS_HOME": f"{views.HOME}/.keras",
            "IPYTHONDIR": "/tmp/ipython",
            "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_ENABLE_ONEDNN_OPTS": "0",
            "KERAS_BACKEND": "tensorflow",
        }
        env.update({k: os.environ[k] for k in PASSED_ENV if k in os.environ})

        env.update(self.sandbox_env)
        args = ["--clearenv"]
        for key, value in env.items():
            args += ["--setenv", key, value]
        return [*args, "--chdir", views.WORK]

    async def cleanup_resources(self, restart: bool = False) -> None:
        """jupyter_client's cleanup, then the sandbox's (its control groups and folder)."""
        await self._async_cleanup_resources(restart=restart)
        if not restart:
            self.release()

    def release(self) -> None:
        """Kill what is left of the sandbox and delete its folder."""
        if self.confinement is not None:
            self.confinement.release()
        if self.witness is not None:
            self.witness.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def why_died(self) -> str:
        return self.confinement.why_killed() if self.confinement is not None else ""

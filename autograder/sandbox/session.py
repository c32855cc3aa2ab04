"""The grader's side of the boundary: operations sent to a sandboxed kernel, data back.

`KernelSession.perform` sends one operation as a `cnn_course_request` message, waits for the
answer (interrupting the kernel when the check's time is up), decodes it as data only, and
adds what the witness reported between the operation's start and end markers.
"""

import base64
import secrets
import time

import zmq
from jupyter_client import BlockingKernelClient

from ..harness.execution import Result
from ..harness.remote import Ref, Session, decode_result, encode_request
from ..harness.student_errors import StudentError
from .manager import SandboxKernelManager

MAX_MESSAGE_BYTES = 100 * 2**20  # an answer larger than this cuts the kernel off
INTERRUPT_GRACE = 10.0  # seconds a kernel gets to stop after an interrupt
MARKER_WAIT = 5.0  # seconds to wait for the witness's end marker after an answer


SILENCED = "silence the grader's witness (its report channel was closed or replaced)"


class KernelGone(Exception):
    """The kernel did not answer even after an interrupt, or died; it cannot run more."""


PROFILER = "remove or replace the grader's profiler"
EVENT_WORDS = {
    "sys.setprofile": f"{PROFILER} (sys.setprofile)",
    "sys.settrace": "install a trace function (sys.settrace)",
    "sys.addaudithook": "add an audit hook",
    "sys._getframe": "walk the interpreter's frames (sys._getframe)",
    "sys._current_frames": "read other threads' frames (sys._current_frames)",
    "gc.get_objects": "search the interpreter's objects (gc.get_objects)",
    "gc.get_referrers": "search the interpreter's objects (gc.get_referrers)",
    "gc.get_referents": "search the interpreter's objects (gc.get_referents)",
    "object.__getattr__": "reach into Python's internals ({detail})",
    "object.__setattr__": "change Python's internals ({detail})",
    "object.__delattr__": "change Python's internals ({detail})",
    "compile": "compile code at run time",
    "exec": "run code made at run time (exec/eval)",
    "code.__new__": "make code objects",
    "function.__new__": "make functions from code objects",
    "marshal.loads": "load marshalled code",
    "pickle.find_class": "unpickle objects ({detail})",
    "import": "import {detail}",
    "write": "write to {detail}, outside its folder",
    "cnn_course.thread": "start a thread ({detail})",
    "socket.connect": "use the network ({detail})",
    "socket.bind": "use the network ({detail})",
    "socket.sendto": "use the network ({detail})",
    "garbage": "write to the grader's report channel",
    "forged marker": "forge the grader's markers ({detail})",
    "tamper": "change the grader's code in its kernel: {detail}",
}


# Reports that only go to the instructor: the sandbox already stops them from doing harm, and
# they cannot make a check pass. Every other report fails the check it happened in (or every
# later check, when it happened outside one).
HARMLESS = frozenset({"write", "socket.connect", "socket.bind", "socket.sendto"})


def is_harmless(event: dict) -> bool:
    return event.get("event") in HARMLESS


def describe_event(event: dict, cell_names: dict | None = None) -> str:
    """One event of the witness in words, with where it happened ("cell 5, line 3")."""
    name, detail = event.get("event", ""), event.get("detail", "")
    if name.startswith("ctypes."):
        words = f"use ctypes ({name})"
    elif name.startswith(("os.", "subprocess.")):
        words = f"start or signal processes ({name})"
    else:
        words = EVENT_WORDS.get(name, name).format(detail=detail)
    where = event.get("where", "")
    if where:
        file, _, line = where.rpartition(":")
        cell = (cell_names or {}).get(file)
        words += f" (cell {cell}, line {line})" if cell is not None else f" ({where})"
    return words


class KernelSession(Session):
    """Operations on the student objects of one sandboxed kernel.

    `deadline()` gives the monotonic time by which the current check must end; `cell_names`
    maps the kernel's cell file names to notebook cell numbers, for reports.
    """

    def __init__(self, manager: SandboxKernelManager, deadline, cell_names=None):
        self.manager = manager
        self.deadline = deadline
        self.cell_names = cell_names or {}
        self.client = BlockingKernelClient()
        self.client.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        self.client.load_connection_info(manager.get_connection_info())
        self.client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=True)
        self.reset_next = True
        self.reports: list[str] = []
        self.silenced = False  # the witness stopped answering: no more waiting for it

    def take_reports(self) -> list[str]:
        """What the witness reported during operations since the last call."""
        reports, self.reports = self.reports, []
        return reports

    def close(self) -> None:
        self.client.stop_channels()

    def ref(self, name: str) -> Ref:
        return Ref(self, name=name)

    def new_check(self) -> None:
        """Objects made by earlier checks are dropped with the next request."""
        self.reset_next = True

    def perform(self, op, args, kwargs, names=(), op_types=()) -> Result:
        nonce = secrets.token_hex(8)
        data = encode_request(op, args, kwargs, names, op_types)
        content = {"data": base64.b64encode(data).decode("ascii"), "nonce": nonce}
        content["reset"] = self.reset_next
        self.reset_next = False
        msg = self.client.session.msg("cnn_course_request", content)
        self.client.shell_channel.send(msg)
        reply = self._reply(msg["header"]["msg_id"])
        if reply is None:
            self.interrupt()
            reply = self._reply(msg["header"]["msg_id"], INTERRUPT_GRACE)
            if reply is None:
                raise KernelGone("it did not stop when interrupted")
        answer = reply.get("content", {})
        if "failure" in answer:
            failure = answer["failure"]
            raise RuntimeError(f"the kernel could not read the grader's request: {failure}")
        try:
            result = decode_result(self, base64.b64decode(answer.get("data", "")))
        except ValueError as exc:
            result = Result(error=StudentError("MalformedAnswer", f"the kernel's answer: {exc}"))
        serious, harmless = self._integrity(nonce, answer)
        if result.error is not None and result.error.type == "KeyboardInterrupt":
            # Interrupted (out of time) while the guard's profiler ran: Python then removes
            # the profiler itself, which the witness sees as a change of profiler.
            serious = [note for note in serious if not note.startswith(PROFILER)]
        result.integrity = serious
        self.reports += serious + harmless
        return result

    def interrupt(self) -> None:
        """Interrupt what the kernel runs (its spec asks for interrupts as messages)."""
        self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))

    def _reply(self, msg_id: str, timeout: float | None = None):
        if timeout is None:
            timeout = max(0.0, self.deadline() - time.monotonic())
        end = time.monotonic() + timeout
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                return None
            if not self.manager.has_kernel or not _alive(self.manager):
                raise KernelGone(self.manager.why_died() or "its kernel died")
            try:
                msg = self.client.get_shell_msg(timeout=min(remaining, 1.0))
            except Exception:  # queue.Empty
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg

    def _integrity(self, nonce: str, answer: dict) -> tuple[list[str], list[str]]:
        """(serious, harmless) reports of the witness about this operation."""
        witness = self.manager.witness
        serious, harmless = [], []
        if self.silenced:
            return serious, harmless
        begin = witness.wait_for("cnn_course.begin", nonce, MARKER_WAIT)
        end = witness.wait_for("cnn_course.end", nonce, MARKER_WAIT)
        if begin is None or end is None or end < begin:
            self.silenced = True
            serious.append(SILENCED)
        else:
            for event in witness.since(begin + 1, end):
                words = describe_event(event, self.cell_names)
                (harmless if is_harmless(event) else serious).append(words)
        for where in answer.get("threads", []):
            cell = self.cell_names.get(str(where).rpartition(":")[0])
            place = f"cell {cell}" if cell is not None else str(where)
            serious.append(f"keep a thread of its own running during the check ({place})")
        return serious, harmless


def _alive(manager) -> bool:
    provisioner = manager.provisioner
    process = getattr(provisioner, "process", None)
    return process is None or process.poll() is None

"""The sandboxed kernel: `python -m autograder.sandbox.kernel -f CONNECTION --witness SOCKET`.

Before any student code runs it connects to the grader's witness socket and installs the
witness; then it starts an IPython kernel that also answers the grader's `cnn_course_request`
messages: each is one operation on student code (`autograder.harness.remote.Agent`), run under
the guard with the witness watching, and answered with data.
"""

import argparse
import base64
import importlib
import signal
import socket
import sys


def kernel_class():
    from ipykernel.ipkernel import IPythonKernel

    from autograder.guard import forbid
    from autograder.harness.remote import Agent

    from . import witness

    class GradingKernel(IPythonKernel):
        """An IPython kernel that also serves the grader's operations on student objects."""

        msg_types = [*IPythonKernel.msg_types, "cnn_course_request"]

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self._agent = Agent(self.shell.user_ns)
            # no student code has run yet: the witness records what the grader trusts here
            sys.audit("cnn_course.ready")

        def cnn_course_request(self, stream, ident, parent):
            content = parent.get("content", {})
            nonce = str(content.get("nonce", ""))
            if content.get("reset"):
                self._agent.reset()
            sys.audit("cnn_course.begin", nonce)
            threads = witness.student_threads()
            # the kernel ignores SIGINT between cells; an operation, like a cell, can be
            # interrupted (the grader's time limit)
            previous = signal.signal(signal.SIGINT, signal.default_int_handler)
            try:
                data = self._agent.handle(
                    base64.b64decode(content.get("data", "")), catch_interrupt=True
                )
                reply = {"data": base64.b64encode(data).decode("ascii")}
            except KeyboardInterrupt:  # between the student's code and the answer
                reply = {"failure": "interrupted"}
            except Exception as exc:  # a malformed request: the grader's fault, said as such
                reply = {"failure": f"{type(exc).__name__}: {exc}"}
            finally:
                signal.signal(signal.SIGINT, previous)
            threads += witness.student_threads()
            if threads:
                reply["threads"] = sorted(set(threads))
            sys.audit("cnn_course.end", nonce)
            self.session.send(stream, "cnn_course_reply", reply, parent, ident)

    GradingKernel.allowed_profile_codes = (forbid.__wrapped__.__code__,)
    return GradingKernel


def prepare_trusted() -> None:
    """Import what the grader's operations use and resolve every lesson's forbidden names,
    before any student code can rebind them."""
    from autograder import guard, lessons
    from autograder.harness import ops

    for name in lessons.names():
        lessons.module(name, "checks")  # each lesson's ForbiddenOps
    guard.prepare()
    ops.prepare()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="autograder.sandbox.kernel")
    parser.add_argument("-f", dest="connection_file", required=True)
    parser.add_argument("--witness", required=True)
    parser.add_argument(
        "--preload", action="append", default=[], help="modules the course's own cells import"
    )
    parser.add_argument("--path", action="append", default=[], help="more module folders")
    args, kernel_args = parser.parse_known_args(argv)

    channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    channel.connect(args.witness)
    sys.path[:0] = args.path
    for module in args.preload:  # imported now, the course's imports are not the student's
        try:
            importlib.import_module(module)
        except ImportError:  # `from package import name` of a name that is no module
            pass
    prepare_trusted()
    cls = kernel_class()
    from . import witness

    witness.install(
        channel,
        cls.allowed_profile_codes,
        (cls.cnn_course_request.__code__,),
        ready_codes=(cls.__init__.__code__,),
    )

    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(
        # parent_handle=1: no parent to watch (the sandbox ends the kernel), and no
        # "Ctrl-C will not work" banner in the grading log for every submission
        argv=["-f", args.connection_file, "--IPKernelApp.parent_handle=1", *kernel_args],
        kernel_class=cls,
    )


if __name__ == "__main__":
    main()

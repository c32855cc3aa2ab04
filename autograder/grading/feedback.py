"""Feedback pages under a time limit: one submission's feedback never holds up a grading run.

nbgrader's `GenerateFeedback` runs after the sandbox, on what a submission wrote. Its steps
take time linear in the notebook (markdown cells are capped, see `safe_html`), but a limit
must not rest on that alone: `generate_with_limit` runs it in a child process (forked from
the grading worker, so it costs no imports) and kills it when the limit is up. A submission
whose feedback was not written in time gets a plain page that says so; its grade stands.
"""

import html
import json
import os
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from .course_dir import CourseDir

FEEDBACK_SECONDS = 300  # a legitimate notebook's feedback takes a few seconds
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(function: Callable[[], dict], fd: int) -> None:
    """In the forked child: run `function`, write its result (JSON) to `fd`, exit."""
    try:
        _die_with_parent()
        try:
            result = function()
        except BaseException as exc:  # the parent reports it; the child only exits
            result = {"success": False, "text": "".join(traceback.format_exception(exc))}
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(json.dumps(result, default=str).encode())
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)


def _read_until(fd: int, deadline: float) -> bytes | None:
    """All that is written to `fd` until its writer closes it; None if the deadline passes."""
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def generate_with_limit(function: Callable[[], dict], seconds: float) -> dict:
    """`function()` (a dict with "success" and "text") in a forked child process, killed
    after `seconds`; "timed_out" in the dict returned says whether it was.

    A plain fork, not multiprocessing: grading workers are daemon processes, which
    multiprocessing does not let have children.
    """
    try:
        reader, writer = os.pipe()
        pid = os.fork()
    except OSError as exc:  # no process left to fork: no feedback, the grade stands
        return {"success": False, "timed_out": False, "text": f"could not fork: {exc}"}
    if pid == 0:
        os.close(reader)
        _child(function, writer)
    os.close(writer)
    try:
        data = _read_until(reader, time.monotonic() + seconds)
    finally:
        os.close(reader)
        if data is None:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if data is None:
        return {
            "success": False,
            "timed_out": True,
            "text": f"feedback was not written within {seconds:g} s; the process was stopped",
        }
    if not data:
        code = os.waitstatus_to_exitcode(status)
        return {
            "success": False,
            "timed_out": False,
            "text": f"the feedback process died (exit code {code})",
        }
    return {"timed_out": False, **json.loads(data)}


def write_plain_feedback(
    course: CourseDir,
    student: str,
    assignment: str,
    notebooks: list[str],
    score: str,
    message: str,
) -> list[Path]:
    """A plain page per notebook, in place of nbgrader's feedback: the score and `message`."""
    folder = course.feedback_dir(student, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    for name in notebooks:
        page = folder / f"{name}.html"
        page.write_text(
            "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>{html.escape(name)}</title></head><body>\n"
            f"<h1>{html.escape(assignment)} / {html.escape(name)}: {html.escape(score)}</h1>\n"
            f"<p>{html.escape(message)}</p>\n</body></html>\n"
        )
        pages.append(page)
    return pages

"""Feedback pages under a time limit: one submission's feedback never holds up a grading run.

nbgrader's `GenerateFeedback` runs after the sandbox, on what a submission wrote. Its steps
take time linear in the notebook (markdown cells are capped, see `safe_html`), but a limit
must not rest on that alone: `generate_with_limit` runs it in a child process (forked from
the grading worker, so it costs no imports) and kills it when the limit is up. A submission
whose feedback was not written in time gets a plain page that says so; its grade stands.
"""

import html
import multiprocessing
import traceback
from collections.abc import Callable
from pathlib import Path

from .course_dir import CourseDir

FEEDBACK_SECONDS = 300  # a legitimate notebook's feedback takes a few seconds
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _child(function: Callable[[], dict], connection) -> None:
    try:
        result = function()
    except BaseException as exc:  # the parent reports it; the child only exits
        result = {"success": False, "text": "".join(traceback.format_exception(exc))}
    connection.send(result)
    connection.close()


def generate_with_limit(function: Callable[[], dict], seconds: float) -> dict:
    """`function()` (a dict with "success" and "text") in a child process, stopped after
    `seconds`; then "timed_out" is True in the dict returned."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(function, writer), daemon=True)
    process.start()
    writer.close()
    try:
        if reader.poll(seconds):
            try:
                return {"timed_out": False, **reader.recv()}
            except (EOFError, OSError):
                return {
                    "success": False,
                    "timed_out": False,
                    "text": f"the feedback process died (exit code {process.exitcode})",
                }
        return {
            "success": False,
            "timed_out": True,
            "text": f"feedback was not written within {seconds:g} s; the process was stopped",
        }
    finally:
        reader.close()
        if process.is_alive():
            process.kill()
        process.join(timeout=10)


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

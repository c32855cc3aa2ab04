"""`cnn-course grade --scheduler ADDRESS`: grading on the workers of a Dask cluster.

The coordinator (the machine with the course directory) makes one kit per assignment (`kit`)
and hands it to Dask as a tiny task of its own, which each worker fetches once (data scattered
with `client.scatter` would be lost for good with the workers holding it; a task's result is
made again elsewhere); each task carries one submission's files and grades it
on a worker, in a private temporary course directory, with the same code as one machine's
grading processes (`worker.grade`: nbgrader's Autograde in the sandbox, then
GenerateFeedback). The task returns plain data (`returned.collect`); the coordinator checks it
and records it (`returned.check`, `returned.record`): it alone writes the course directory and
the gradebook.

Dask does the scheduling: a worker that dies or is killed while grading loses nothing, since
the scheduler gives its task to another worker; a submission on which workers died
`distributed.scheduler.allowed-failures` + 1 times (default 4) is scored 0 with that reason,
as one machine's run does after two. A worker without bubblewrap refuses every task with the
words `cnn-course grade` uses on one machine, and the run stops with that line: what was
recorded stays, and a rerun grades the rest (COMPLETE markers, as on one machine).
"""

import os
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from . import worker
from .course_dir import CourseDir
from .display import shown
from .errors import CourseError
from .kit import make_kit, place_submission, unpack_kit
from .outcomes import Outcome, zero_outcome
from .release import display_path
from .returned import Expected, check, collect, record

LOCAL = "local"
CONNECT_SECONDS = 30
_ONE_AT_A_TIME = threading.Lock()  # worker.grade keeps its course in the process's state
_SWEPT: list[bool] = []


class SandboxRefused(Exception):
    """Raised on a worker that cannot sandbox the submissions: it grades none of them."""


# --- on a worker --------------------------------------------------------------------------------


def _host() -> str:
    from distributed import get_worker
    from distributed.comm import get_address_host

    return get_address_host(get_worker().address)


def grade_task(kit: bytes, task: dict) -> dict:
    """Grade one submission on a Dask worker; what `returned.collect` gathers.

    `task` holds the submission's "assignment", "student" and "files" ({relative path:
    bytes}), and "isolate", "kernel_threads" and "per_host" (worker processes per host, for
    the default of kernel threads: this machine's cores shared among its workers).
    """
    from .grade import sandbox_refusal

    with _ONE_AT_A_TIME:
        if task["isolate"]:
            from ..sandbox.limits import sweep
            from ..sandbox.policy import unavailable_reason

            reason = unavailable_reason()
            if reason is not None:
                raise SandboxRefused(f"the Dask worker on {_host()} {sandbox_refusal(reason)}")
            if not _SWEPT:
                sweep()
                _SWEPT.append(True)
        threads = task["kernel_threads"]
        if threads is None:
            threads = max(1, worker_cores() // max(1, task["per_host"].get(_host(), 1)))
        assignment, student = task["assignment"], task["student"]
        with tempfile.TemporaryDirectory(prefix="cnn-course-grading-") as tmp:
            course = unpack_kit(kit, Path(tmp) / "course")
            place_submission(course, assignment, student, task["files"])
            log = Path(tmp) / "nbgrader.log"
            worker.init(os.fspath(course.root), threads, None, task["isolate"])
            worker._STATE["log_path"] = os.fspath(log)
            try:
                outcome = worker.grade(assignment, student)
            finally:
                worker._STATE.pop("log_path", None)
            text = log.read_text(errors="replace") if log.is_file() else ""
            return collect(course, assignment, student, outcome, text)


def worker_cores() -> int:
    from .grade import cores

    return cores()


# --- on the coordinator -------------------------------------------------------------------------


def connect(scheduler: str, jobs: int | None):
    """(client, cluster or None): a LocalCluster of `jobs` processes for "local", else the
    scheduler at `scheduler` (an address such as tcp://host:8786, or the JSON file that
    `dask scheduler --scheduler-file` writes)."""
    from distributed import Client, LocalCluster

    if scheduler == LOCAL:
        from .grade import cores

        cluster = LocalCluster(
            n_workers=jobs or cores(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        return Client(cluster), cluster
    where = {"address": scheduler}
    if scheduler.endswith(".json"):
        if not Path(scheduler).is_file():
            raise CourseError(
                f"no scheduler file {shown(scheduler)}; start the scheduler with "
                f"`dask scheduler --scheduler-file {shown(scheduler)}` or pass its address"
            )
        where = {"scheduler_file": scheduler}
    try:
        return Client(**where, timeout=f"{CONNECT_SECONDS}s"), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise CourseError(
            f"cannot reach the Dask scheduler at {shown(scheduler)} ({type(exc).__name__}: "
            f"{shown(exc)}); start one with `dask scheduler` and workers with `dask worker "
            "ADDRESS`, or check the address (e.g. tcp://host:8786)"
        ) from exc


def _task_key(*parts: str) -> str:
    return "-".join(["cnn-course", *parts, uuid.uuid4().hex[:8]])


def _kit(kit: bytes) -> bytes:
    """The kit, as the result of a task: Dask makes it again if every worker holding it dies."""
    return kit


def _append_log(log_path, text: str) -> None:
    text = worker.NOISE.sub("", text or "")
    if log_path and text.strip():
        with open(log_path, "a") as handle:
            handle.write(shown(text, lines=True))


def settle(course: CourseDir, sub, future, expected: Expected, log_path=None) -> Outcome:
    """The outcome of one finished task: its checked result recorded, or a reason why not.

    A refusal of the sandbox raises CourseError (the run stops). Workers dying on it too often
    scores it 0 for good (as one machine's run does); any other failure, and a result that
    fails the checks, score it 0 for now: it is left unfinished, and a rerun grades it again.
    """
    from distributed.scheduler import KilledWorker

    assignment, student = sub.assignment, sub.student
    try:
        result = future.result()
    except SandboxRefused as exc:
        raise CourseError(str(exc)) from None
    except KilledWorker:
        reason = "grading workers died each time they graded it (Dask gave up on it)"
        outcome = zero_outcome(course, assignment, student, "failed", reason)
        worker.mark_complete(course, assignment, student, outcome)
        return outcome
    except Exception as exc:  # the run goes on whatever one task does
        reason = f"grading on the cluster failed: {type(exc).__name__}: {exc}"
        return zero_outcome(course, assignment, student, "failed", reason)
    try:
        returned = check(result, expected)
    except ValueError as exc:
        reason = f"the worker's result was refused: {exc}"
        return zero_outcome(course, assignment, student, "failed", reason)
    _append_log(log_path, returned.log)
    return record(course, assignment, student, returned, sub.files)


def run_cluster(
    course: CourseDir,
    subs,
    scheduler: str,
    jobs: int | None,
    on_done: Callable[[Outcome], None],
    log_path=None,
    kernel_threads: int | None = None,
    isolate: bool = True,
    say: Callable[[str], None] = print,
) -> int:
    """Grade `subs` (staged `intake.Submission`s) on a Dask cluster; call on_done per result.
    Returns the number of workers the cluster had when the run started.

    At most twice as many tasks as workers (at least 4) are out at a time, so that the
    scheduler never holds a whole class's submissions in memory.
    """
    from distributed import as_completed
    from distributed.comm import get_address_host

    client, cluster = connect(scheduler, jobs)
    in_flight = {}
    try:
        workers = client.scheduler_info()["workers"]
        per_host = Counter(get_address_host(address) for address in workers)
        say(
            f"grading {len(subs)} submissions on the Dask cluster at "
            f"{client.scheduler.address} ({len(workers)} workers"
            + (f"; log: {display_path(log_path)}" if log_path else "")
            + ")"
            + ("" if workers else "; waiting for workers to join (`dask worker ADDRESS`)")
        )
        assignments = sorted({sub.assignment for sub in subs})
        kits = {
            a: client.submit(_kit, make_kit(course, a), key=_task_key("kit", a), pure=False)
            for a in assignments
        }
        expected = {a: Expected.of(course, a) for a in assignments}
        pending = list(subs)
        done = as_completed()

        def submit(sub) -> None:
            task = {
                "assignment": sub.assignment,
                "student": sub.student,
                "files": dict(sub.files),
                "isolate": isolate,
                "kernel_threads": kernel_threads,
                "per_host": dict(per_host),
            }
            future = client.submit(
                grade_task,
                kits[sub.assignment],
                task,
                key=_task_key("grade", sub.assignment, sub.student),
                pure=False,
            )
            in_flight[future] = sub
            done.add(future)

        for _ in range(min(len(pending), max(4, 2 * len(workers)))):
            submit(pending.pop(0))
        for future in done:
            sub = in_flight.pop(future)
            outcome = settle(course, sub, future, expected[sub.assignment], log_path)
            on_done(outcome)
            if pending:
                submit(pending.pop(0))
        return len(workers)
    finally:
        if in_flight:  # only when the run stops early
            client.cancel(list(in_flight))
        client.close()
        if cluster is not None:
            cluster.close()

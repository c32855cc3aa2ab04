"""`cnn-course grade`: autograde a folder of submissions through nbgrader's gradebook.

The run copies submissions into `submitted/`, autogrades them in parallel worker processes
(each running nbgrader's own Autograde and GenerateFeedback), or on the workers of a Dask
cluster (`cluster`), then writes a CSV of grades and prints a summary. Nothing earlier is
lost silently: a changed submission, an earlier autograded notebook and the gradebook are
copied to `backups/<time>/` before they are replaced, and students already graded are skipped
unless `regrade` is set.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from multiprocessing import get_context
from multiprocessing.connection import wait
from pathlib import Path

import nbformat

from . import intake, worker
from .backups import Backup
from .config import read_settings, write_config
from .course_dir import CourseDir
from .display import shown
from .errors import CourseError
from .outcomes import Outcome, tampering, write_zero_feedback, zero_outcome
from .progress import Progress
from .release import display_path
from .report import grade_table, write_csv


@dataclass
class GradeRun:
    """What one `cnn-course grade` run did."""

    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    csv_path: Path | None = None
    log_path: Path | None = None
    seconds: float = 0.0

    def outcome(self, student: str, assignment: str | None = None) -> Outcome | None:
        for outcome in self.outcomes:
            if outcome.student == student and assignment in (None, outcome.assignment):
                return outcome
        return None


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def in_gradebook(course: CourseDir, assignment: str) -> set[str]:
    """Students with a submission of `assignment` in the gradebook."""
    with course.gradebook() as gb:
        return {s.student.id for s in gb.find_assignment(assignment).submissions}


def already_graded(course: CourseDir, assignment: str) -> set[str]:
    """Students whose submission of `assignment` was graded to the end (a run stopped while
    grading a submission leaves it unfinished, and the next run grades it again)."""
    students = in_gradebook(course, assignment)
    return {s for s in students if worker.is_complete(course, assignment, s)}


LIMIT_WORDS = {
    "cell_timeout": "per-cell time limit is now {} s",
    "memory_mb": "memory limit of a submission's kernel is now {} MB",
    "max_processes": "process limit of a submission's kernel is now {}",
    "notebook_timeout": "time limit of a whole notebook is now {} s",
}


def _set_limits(course: CourseDir, limits: dict, say) -> None:
    """Write the given limits (None: unchanged) into the course's configuration."""
    settings = read_settings(course.root)
    changed = {k: v for k, v in limits.items() if v is not None and getattr(settings, k) != v}
    if changed:
        write_config(course.root, replace(settings, **changed))
        for key, value in changed.items():
            say(f"{LIMIT_WORDS[key].format(value)} (written to {display_path(course.config_path)})")


UNSAFE_WARNING = (
    "WARNING: grading WITHOUT the sandbox (--no-sandbox). Submissions run with your own "
    "rights: they can read and change the gradebook, the course directory, other students' "
    "files and anything else you can, reach the network, and use unlimited memory and "
    "processes. Verdicts are still decided by the grader, but nothing else is protected. "
    "Use this only for submissions you trust."
)


def check_sandbox(isolate: bool, say) -> None:
    """Refuse to grade unsandboxed unless asked to, and then say loudly what is unprotected."""
    from ..sandbox.policy import unavailable_reason

    if not isolate:
        say(UNSAFE_WARNING)
        return
    from ..sandbox.limits import sweep

    sweep()
    reason = unavailable_reason()
    if reason is not None:
        raise CourseError(sandbox_refusal(reason))


def sandbox_refusal(reason: str) -> str:
    """Why grading refuses to go on: the words of one machine and of a cluster's workers."""
    return (
        f"cannot sandbox the submissions: {reason}; grading runs students' code, so it "
        "refuses to go on without the sandbox (pass --no-sandbox to grade anyway, "
        "unprotected, submissions you trust)"
    )


def _tampering_notes(course: CourseDir, submission: intake.Submission, caps) -> list[str]:
    notes = []
    for name, data in submission.files.items():
        release = course.release / submission.assignment / name
        if not name.endswith(".ipynb") or not release.is_file():
            continue
        try:
            submitted_nb = intake.read_notebook(data, caps)
        except ValueError:
            continue
        notes += tampering(submitted_nb, nbformat.read(release, as_version=4))
    return notes


def stage(course: CourseDir, submissions, regrade: bool, backup: Backup, caps=intake.CAPS):
    """Copy submissions into `submitted/`; return (to grade, skipped messages, notes)."""
    assignments = {s.assignment for s in submissions}
    graded = {a: already_graded(course, a) for a in assignments}
    unfinished = {a: in_gradebook(course, a) - graded[a] for a in assignments}
    queue, skipped, notes, regraded = [], [], [], 0
    replaced = [
        s
        for s in submissions
        if (regrade and s.student in graded[s.assignment]) or s.student in unfinished[s.assignment]
    ]
    if replaced:
        where = backup.copy_gradebook(course.gradebook_path)
        notes.append(f"gradebook backed up to {display_path(where)} before regrading")
    for sub in submissions:
        folder = course.submitted_dir(sub.student, sub.assignment)
        stored = intake.stored_files(folder, caps)
        is_graded = sub.student in graded[sub.assignment]
        if sub.student in unfinished[sub.assignment]:
            notes.append(
                f"{sub.label}: an earlier run stopped before it was graded to the end; "
                "grading it again"
            )
            is_graded = True  # back up what the earlier run left, as for --regrade
        if is_graded and not regrade and sub.student not in unfinished[sub.assignment]:
            message = (
                f"{sub.student} already graded for {sub.assignment}; pass --regrade to grade again"
            )
            if stored != sub.files:
                message += " (the new submission differs from the graded one; it was not copied)"
            skipped.append(message)
            continue
        if is_graded:
            regraded += 1
            for earlier in (course.autograded_dir(*_key(sub)), course.feedback_dir(*_key(sub))):
                if earlier.exists():
                    backup.move(earlier)
        if stored != sub.files:
            if folder.exists():
                where = backup.move(folder)
                notes.append(
                    f"{sub.label}: the submission differs from the one in submitted/; the "
                    f"earlier one is kept in {display_path(where)}"
                )
            intake.write(sub, folder)
        sub.notes += _tampering_notes(course, sub, caps)
        queue.append(sub)
    if regraded:
        notes.append(
            f"regrading {regraded} submission{'s' if regraded > 1 else ''}: the earlier "
            f"autograded notebooks and feedback are kept in {display_path(backup.folder)}"
        )
    return queue, skipped, notes


def _key(sub) -> tuple[str, str]:
    return sub.student, sub.assignment


def run_workers(
    course: CourseDir,
    tasks,
    jobs: int,
    on_done: Callable[[Outcome], None],
    log_path=None,
    kernel_threads: int | None = None,
    isolate: bool = True,
):
    """Autograde `tasks` [(assignment, student)] in `jobs` processes; call on_done per result.

    Each worker grades one submission at a time. A worker that dies costs only the submission
    it was grading: that one is tried once more in a fresh worker, then given up on with a
    reason; the others go on. Workers die with this process. Kernels get `kernel_threads`
    threads for NumPy and TensorFlow (default: cores // jobs; 0: no limit).
    """
    threads = max(1, cores() // jobs) if kernel_threads is None else kernel_threads
    context = get_context("spawn")
    args = (os.fspath(course.root), threads, log_path and os.fspath(log_path), isolate)
    queue, tries, busy = list(tasks), {}, {}  # busy: connection -> (process, task)

    def start(task):
        ours, theirs = context.Pipe()
        process = context.Process(target=worker.serve, args=(theirs, *args), daemon=True)
        process.start()
        theirs.close()
        ours.send(task)
        busy[ours] = (process, task)

    idle = []  # (connection, process) of workers waiting for a task
    try:
        while queue or busy:
            while queue and len(busy) < jobs:
                task = queue.pop(0)
                tries[task] = tries.get(task, 0) + 1
                if idle:
                    connection, process = idle.pop()
                    connection.send(task)
                    busy[connection] = (process, task)
                else:
                    start(task)
            ready = wait([*busy, *(p.sentinel for p, _ in busy.values())])
            for connection in list(busy):
                process, task = busy[connection]
                if connection in ready or connection.poll():
                    try:
                        outcome = connection.recv()
                    except (EOFError, OSError):
                        outcome = None
                    if outcome is not None:
                        del busy[connection]
                        idle.append((connection, process))
                        on_done(outcome)
                        continue
                if not process.is_alive():
                    del busy[connection]
                    connection.close()
                    if tries[task] < 2:
                        queue.insert(0, task)
                    else:
                        reason = "a grading worker process died while grading it"
                        outcome = zero_outcome(course, *task, "failed", reason)
                        worker.mark_complete(course, *task, outcome)
                        on_done(outcome)
    finally:
        for connection, _ in idle:
            try:
                connection.send(None)
            except OSError:
                pass
        for _, process in idle:
            process.join(timeout=10)
        for process, _ in busy.values():  # only when this run itself fails or is interrupted
            process.kill()


def grade(
    course: CourseDir,
    submissions_dir: Path,
    assignment: str | None = None,
    jobs: int | None = None,
    regrade: bool = False,
    cell_timeout: int | None = None,
    csv_path: Path | None = None,
    kernel_threads: int | None = None,
    say: Callable[[str], None] = print,
    isolate: bool = True,
    memory_mb: int | None = None,
    max_processes: int | None = None,
    notebook_timeout: int | None = None,
    caps: intake.Caps = intake.CAPS,
    status: Callable[[str], None] | None = None,
    scheduler: str | None = None,
) -> GradeRun:
    """Grade every submission in `submissions_dir`; see the module docstring.

    `isolate=False` runs kernels without the sandbox (refused unless asked for); the limits
    given are written to the course's configuration, as `cell_timeout` is. `caps` bound what
    intake takes of each submission. `status`, if given, gets a progress bar after each
    submission (`progress.TerminalStatus` shows it on a terminal). Every line said goes
    through `display.shown`: the text of submissions (ids, file names, messages of student
    code) commands no terminal. `scheduler` grades on a Dask cluster instead of this
    machine's processes (`cluster`): "local" starts one of `jobs` processes here, an address
    (tcp://host:8786) or a scheduler file (.json) joins a running one.
    """
    start = time.monotonic()
    say = _safely(say)
    course.require_built()
    if csv_path is not None and Path(csv_path).exists():
        raise CourseError(f"{csv_path} already exists; pass another --csv path or delete it")
    if jobs is not None and jobs < 1:
        raise CourseError(f"--jobs must be at least 1 (got {jobs}); pass e.g. --jobs {cores()}")
    if cell_timeout is not None and cell_timeout < 1:
        raise CourseError(
            f"--cell-timeout must be a positive number of seconds (got {cell_timeout})"
        )
    if kernel_threads is not None and kernel_threads < 0:
        raise CourseError(f"--kernel-threads must be 0 (no limit) or more (got {kernel_threads})")
    for flag, value in (
        ("--memory", memory_mb),
        ("--max-processes", max_processes),
        ("--notebook-timeout", notebook_timeout),
    ):
        if value is not None and value < 1:
            raise CourseError(f"{flag} must be a positive number (got {value})")
    if scheduler not in (None, "local") and jobs is not None:
        raise CourseError(
            "--jobs sets the worker processes of this machine; on a running Dask cluster its "
            "workers grade (start more with `dask worker ADDRESS`): drop --jobs"
        )
    if scheduler is None or not isolate:
        check_sandbox(isolate, say)  # a cluster's workers each check their own sandbox
    notebooks_of = {a: course.notebook_names(a) for a in course.released_assignments()}
    if assignment is not None:
        course.require_assignment(assignment)
    submissions, skipped = intake.scan(submissions_dir, notebooks_of, assignment, caps)
    if not submissions:
        for message in skipped:
            say(message)
        raise CourseError(
            f"nothing in {shown(submissions_dir)} could be graded: {len(skipped)} "
            f"{'folder or file' if len(skipped) == 1 else 'folders or files'} refused or "
            "skipped (listed above); rename them as said and grade again"
        )
    _set_limits(
        course,
        {
            "cell_timeout": cell_timeout,
            "memory_mb": memory_mb,
            "max_processes": max_processes,
            "notebook_timeout": notebook_timeout,
        },
        say,
    )

    run = GradeRun(skipped=skipped)
    backup = Backup(course.root, course.backups)
    queue, skipped, run.notes = stage(course, submissions, regrade, backup, caps)
    run.skipped += skipped
    for message in run.skipped:
        say(message)
    for note in run.notes:
        say(note)

    progress = Progress(len(queue))
    notes_of = {_key(sub): sub.notes for sub in queue}

    def finished(outcome: Outcome) -> None:
        outcome.notes = notes_of.get((outcome.student, outcome.assignment), []) + outcome.notes
        run.outcomes.append(outcome)
        say(progress.line(outcome))
        if status is not None:
            status(progress.bar())

    tasks = []
    for sub in queue:
        if sub.unreadable:
            finished(record_unreadable(course, sub, notebooks_of[sub.assignment]))
        else:
            tasks.append(sub)
    if tasks:
        register_students(course, {sub.student for sub in tasks})
        run.log_path = course.logs / f"grade-{_stamp()}.log"
        run.log_path.parent.mkdir(parents=True, exist_ok=True)
    if tasks and scheduler is not None:
        from .cluster import run_cluster

        jobs = run_cluster(
            course,
            tasks,
            scheduler,
            jobs,
            finished,
            run.log_path,
            kernel_threads,
            isolate,
            say,
        )
    elif tasks:
        jobs = jobs or cores()
        say(
            f"grading {len(tasks)} submissions with {min(jobs, len(tasks))} workers "
            f"(log: {display_path(run.log_path)})"
        )
        keys = [(sub.assignment, sub.student) for sub in tasks]
        run_workers(course, keys, jobs, finished, run.log_path, kernel_threads, isolate)
    if jobs is None:
        jobs = cores()

    run.seconds = time.monotonic() - start
    if not run.outcomes:
        say("nothing was graded; the gradebook, grades and feedback are unchanged")
        return run
    assignments = sorted({sub.assignment for sub in submissions})
    table = grade_table(course, assignments, _row_notes(run), _row_reviews(run))
    run.csv_path = write_csv(table, csv_path or _new_csv_path(course))
    run.seconds = time.monotonic() - start
    for line in summary(run, course, jobs):
        say(line)
    return run


def _safely(say: Callable[[str], None]) -> Callable[[str], None]:
    """`say`, with every line made safe to show (`display.shown`)."""
    return lambda line: say(shown(line))


def refused(run: GradeRun) -> list[str]:
    """The lines of the folders and files intake refused (nothing of them was graded)."""
    return [line for line in run.skipped if line.startswith("refused ")]


def register_students(course: CourseDir, students) -> None:
    """Add to the gradebook each of `students` it does not hold yet (names from a roster stay).

    Done before the workers start: two workers that grade one new student's submissions of
    two assignments at once would both add the student, and the loser's submission would fail.
    """
    with course.gradebook() as gb:
        known = {student.id for student in gb.students}
        for student in sorted(set(students) - known):
            gb.add_student(student)


def record_unreadable(course: CourseDir, sub: intake.Submission, notebooks) -> Outcome:
    """Zero points in the gradebook for a submission with no readable notebook, a feedback
    page that says why, and the reason where the autograded notebook would be."""
    outcome = zero_outcome(course, sub.assignment, sub.student, "unreadable", sub.unreadable)
    write_zero_feedback(course, outcome, notebooks)
    folder = course.autograded_dir(sub.student, sub.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "NOT_GRADED.txt").write_text(sub.unreadable + "\n")
    worker.mark_complete(course, sub.assignment, sub.student, outcome)
    return outcome


def _new_csv_path(course: CourseDir) -> Path:
    stamp, n = _stamp(), 1
    path = course.grades / f"{stamp}.csv"
    while path.exists():
        n += 1
        path = course.grades / f"{stamp}-{n}.csv"
    return path


def _stamp() -> str:
    return datetime.now().strftime("%Y-%m-%dT%H%M%S")


def _row_notes(run: GradeRun) -> dict:
    notes = {}
    for outcome in run.outcomes:
        parts = [] if outcome.status == "graded" else [outcome.status]
        notes[(outcome.student, outcome.assignment)] = "; ".join(parts + outcome.notes)
    return notes


def _row_reviews(run: GradeRun) -> dict:
    return {(o.student, o.assignment): "; ".join(o.flags) for o in run.outcomes if o.flags}


def summary(run: GradeRun, course: CourseDir, jobs: int) -> list[str]:
    """The closing lines of a run: counts, problems one line each, where the files are."""
    graded = [o for o in run.outcomes if o.status == "graded"]
    lines = [
        f"graded {len(graded)} of {len(run.outcomes)} submissions in {run.seconds:.0f} s "
        f"with {jobs} worker{'s' if jobs > 1 else ''}"
        + (f"; skipped {len(run.skipped)}" if run.skipped else "")
    ]
    if refused(run):
        lines.append("refused (nothing of them was read or graded):")
        lines += [f"  {line.removeprefix('refused ')}" for line in refused(run)]
    flagged = [o for o in run.outcomes if o.flags]
    if flagged:
        lines.append(
            "for your review (marked 'needs manual grading' in formgrader; points withheld):"
        )
        for o in sorted(flagged, key=lambda o: (o.assignment, o.student)):
            lines.append(f"  {o.student} {o.assignment}: " + "; ".join(o.flags[:3]))
    problems = [o for o in run.outcomes if o.notes or o.status != "graded"]
    if problems:
        lines.append("problems:")
        for o in sorted(problems, key=lambda o: (o.assignment, o.student)):
            head = f"  {o.student} {o.assignment} {o.score:g}/{o.max_score:g}"
            if o.status != "graded":
                head += f" ({o.status})"
            lines.append(f"{head}: " + "; ".join(o.notes))
    if run.csv_path:
        lines.append(f"grades: {display_path(run.csv_path)}")
    if run.outcomes:
        lines.append(f"feedback: {display_path(course.feedback)}/<student>/<assignment>/")
    return lines

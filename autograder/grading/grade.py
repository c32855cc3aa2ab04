"""`cnn-course grade`: autograde a folder of submissions through nbgrader's gradebook.

The run copies submissions into `submitted/`, autogrades them in parallel worker processes
(each running nbgrader's own Autograde and GenerateFeedback), then writes a CSV of grades
and prints a summary. Nothing earlier is lost silently: a changed submission, an earlier
autograded notebook and the gradebook are copied to `backups/<time>/` before they are
replaced, and students already graded are skipped unless `regrade` is set.
"""

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

import nbformat

from . import intake, worker
from .backups import Backup
from .config import read_settings, write_config
from .course_dir import CourseDir
from .errors import CourseError
from .outcomes import Outcome, tampering, write_zero_feedback, zero_outcome
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


def already_graded(course: CourseDir, assignment: str) -> set[str]:
    """Students whose submission of `assignment` is in the gradebook and was autograded."""
    with course.gradebook() as gb:
        students = {s.student.id for s in gb.find_assignment(assignment).submissions}
    return {s for s in students if course.autograded_dir(s, assignment).is_dir()}


def _set_cell_timeout(course: CourseDir, seconds: int, say) -> None:
    settings = read_settings(course.root)
    if settings.cell_timeout != seconds:
        write_config(course.root, replace(settings, cell_timeout=seconds))
        say(
            f"per-cell time limit is now {seconds} s "
            f"(written to {display_path(course.config_path)})"
        )


def _tampering_notes(course: CourseDir, submission: intake.Submission) -> list[str]:
    notes = []
    for name, data in submission.files.items():
        release = course.release / submission.assignment / name
        if not name.endswith(".ipynb") or not release.is_file():
            continue
        try:
            submitted_nb = intake.read_notebook(data)
        except ValueError:
            continue
        notes += tampering(submitted_nb, nbformat.read(release, as_version=4))
    return notes


def stage(course: CourseDir, submissions, regrade: bool, backup: Backup):
    """Copy submissions into `submitted/`; return (to grade, skipped messages, notes)."""
    graded = {a: already_graded(course, a) for a in {s.assignment for s in submissions}}
    queue, skipped, notes, regraded = [], [], [], 0
    if regrade and any(s.student in graded[s.assignment] for s in submissions):
        where = backup.copy_gradebook(course.gradebook_path)
        notes.append(f"gradebook backed up to {display_path(where)} before regrading")
    for sub in submissions:
        folder = course.submitted_dir(sub.student, sub.assignment)
        stored = intake.stored_files(folder)
        is_graded = sub.student in graded[sub.assignment]
        if is_graded and not regrade:
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
            if stored:
                where = backup.move(folder)
                notes.append(
                    f"{sub.label}: the submission differs from the one in submitted/; the "
                    f"earlier one is kept in {display_path(where)}"
                )
            intake.write(sub, folder)
        sub.notes += _tampering_notes(course, sub)
        queue.append(sub)
    if regraded:
        notes.append(
            f"regrading {regraded} submission{'s' if regraded > 1 else ''}: the earlier "
            f"autograded notebooks and feedback are kept in {display_path(backup.folder)}"
        )
    return queue, skipped, notes


def _key(sub) -> tuple[str, str]:
    return sub.student, sub.assignment


def _progress(done: int, total: int, outcome: Outcome) -> str:
    score = f"{outcome.score:g}/{outcome.max_score:g} pts"
    status = "" if outcome.status == "graded" else f" ({outcome.status})"
    return (
        f"[{done}/{total}] {outcome.student} {outcome.assignment} {score} "
        f"{outcome.seconds:.1f} s{status}"
    )


def run_workers(
    course: CourseDir,
    tasks,
    jobs: int,
    on_done: Callable[[Outcome], None],
    log_path=None,
    kernel_threads: int | None = None,
):
    """Autograde `tasks` [(assignment, student)] in `jobs` processes; call on_done per result.

    Kernels get `kernel_threads` threads for NumPy and TensorFlow (default: cores // jobs;
    0: no limit).

    If a worker process dies, the unfinished submissions are tried once more in a fresh pool,
    then given up on with a reason.
    """
    threads = max(1, cores() // jobs) if kernel_threads is None else kernel_threads
    remaining, tries = list(tasks), 0
    while remaining:
        tries += 1
        context = get_context("spawn")
        workers = min(jobs, len(remaining))
        done = set()
        try:
            with ProcessPoolExecutor(
                workers,
                mp_context=context,
                initializer=worker.init,
                initargs=(os.fspath(course.root), threads, log_path and os.fspath(log_path)),
            ) as pool:
                futures = {pool.submit(worker.grade, *task): task for task in remaining}
                for future in as_completed(futures):
                    on_done(future.result())
                    done.add(futures[future])
        except BrokenProcessPool:
            pass
        remaining = [task for task in remaining if task not in done]
        if remaining and tries >= 2:
            for assignment, student in remaining:
                reason = "a grading worker process died while grading it"
                on_done(zero_outcome(course, assignment, student, "failed", reason))
            return


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
) -> GradeRun:
    """Grade every submission in `submissions_dir`; see the module docstring."""
    start = time.monotonic()
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
    notebooks_of = {a: course.notebook_names(a) for a in course.released_assignments()}
    if assignment is not None:
        course.require_assignment(assignment)
    submissions, skipped = intake.scan(submissions_dir, notebooks_of, assignment)
    if cell_timeout is not None:
        _set_cell_timeout(course, cell_timeout, say)

    run = GradeRun(skipped=skipped)
    backup = Backup(course.root, course.backups)
    queue, skipped, run.notes = stage(course, submissions, regrade, backup)
    run.skipped += skipped
    for message in run.skipped:
        say(message)
    for note in run.notes:
        say(note)

    total = len(queue)
    notes_of = {_key(sub): sub.notes for sub in queue}

    def finished(outcome: Outcome) -> None:
        outcome.notes = notes_of.get((outcome.student, outcome.assignment), []) + outcome.notes
        run.outcomes.append(outcome)
        say(_progress(len(run.outcomes), total, outcome))

    tasks = []
    for sub in queue:
        if sub.unreadable:
            finished(record_unreadable(course, sub, notebooks_of[sub.assignment]))
        else:
            tasks.append((sub.assignment, sub.student))
    jobs = jobs or cores()
    if tasks:
        run.log_path = course.logs / f"grade-{_stamp()}.log"
        run.log_path.parent.mkdir(parents=True, exist_ok=True)
        say(
            f"grading {len(tasks)} submissions with {min(jobs, len(tasks))} workers "
            f"(log: {display_path(run.log_path)})"
        )
        run_workers(course, tasks, jobs, finished, run.log_path, kernel_threads)

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


def record_unreadable(course: CourseDir, sub: intake.Submission, notebooks) -> Outcome:
    """Zero points in the gradebook for a submission with no readable notebook, a feedback
    page that says why, and the reason where the autograded notebook would be."""
    outcome = zero_outcome(course, sub.assignment, sub.student, "unreadable", sub.unreadable)
    write_zero_feedback(course, outcome, notebooks)
    folder = course.autograded_dir(sub.student, sub.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "NOT_GRADED.txt").write_text(sub.unreadable + "\n")
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
